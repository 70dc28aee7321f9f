"""The HTTP API's own cost: durable acknowledgements per second and their latency.

    .venv/bin/python -m bench.api [--docs 2000] [--clients 16] [--store sqlite|postgres URL]

On a SQLite file store (or the PostgreSQL URL given), with no workers running:

* **api submit**: ``--docs`` fapiao posted to ``POST /v1/documents`` by ``--clients``
  concurrent clients over real sockets (auth, body checks, idempotency key, durable write,
  202): requests/s and p50 / p99 latency;
* **api status**: the same number of ``GET /v1/documents/{id}`` reads;
* **baseline**: the same documents through ``Pipeline.submit`` directly in the process (the
  durable write and the queued job, no HTTP, no auth), with the same concurrency.

The ratio api / baseline is what the HTTP layer costs. Results go to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from gateway.api import api_runner, create_app
from gateway.service import Services, open_services
from gateway.settings import AdapterConfig, PipelineSettings, Settings, StoreSettings
from gateway.store import open_store

SAMPLE = (
    Path(__file__).resolve().parents[2]
    / "shared/reference/fapiao/samples/xml/invoice-precheck_official-gd-special.xml"
)


async def timed(
    count: int, clients: int, one: Callable[[int], Awaitable[None]]
) -> tuple[float, list[float]]:
    """Run ``one(i)`` for i < count on ``clients`` concurrent tasks: (seconds, latencies)."""
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)

    async def client() -> None:
        while not queue.empty():
            index = queue.get_nowait()
            started = time.perf_counter()
            await one(index)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started, latencies


def summary(name: str, count: int, seconds: float, latencies: list[float]) -> dict[str, Any]:
    ordered = sorted(latencies)
    result = {
        "name": name,
        "count": count,
        "per_second": round(count / seconds, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
    }
    print(
        f"  {name:<14} {result['per_second']:>8} /s   p50 {result['p50_ms']:>7} ms"
        f"   p99 {result['p99_ms']:>7} ms"
    )
    return result


async def open_gateway(home: Path, store_url: str) -> Services:
    settings = Settings(
        data_dir=home,
        store=StoreSettings(store_url),
        pipeline=PipelineSettings(validate=False, sign=False),
        adapters={"local": AdapterConfig(name="local", type="folder", options={"path": "out"})},
    )
    return await open_services(settings, store=await open_store(store_url))


async def run(docs: int, clients: int, store_url: str | None) -> dict[str, Any]:
    body = SAMPLE.read_bytes()
    home = Path(tempfile.mkdtemp(prefix="lingang-bench-api-"))
    services = await open_gateway(home, store_url or f"sqlite:///{home}/gateway.db")
    tenant = await services.store.create_tenant("bench")
    key, _ = await services.store.issue_api_key(tenant.id)
    runner = api_runner(create_app(services))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    ids: list[str] = []
    results = []
    try:
        async with aiohttp.ClientSession(
            base_url=base, headers={"Authorization": f"Bearer {key}"}
        ) as http:

            async def post(index: int) -> None:
                headers = {"Content-Type": "application/xml", "Idempotency-Key": f"api-{index}"}
                async with http.post("/v1/documents", data=body, headers=headers) as response:
                    assert response.status == 202, await response.text()
                    ids.append((await response.json())["id"])

            async def get(index: int) -> None:
                async with http.get(f"/v1/documents/{ids[index]}") as response:
                    assert response.status == 200
                    await response.read()

            print(f"bench.api: {docs} documents, {clients} clients, store {store_url or 'sqlite'}")
            results.append(summary("api submit", docs, *await timed(docs, clients, post)))
            results.append(summary("api status", docs, *await timed(docs, clients, get)))

        async def direct(index: int) -> None:
            _, created = await services.submissions.submit(
                tenant.id,
                body,
                content_type="application/xml",
                filename=None,
                metadata={},
                idempotency_key=f"direct-{index}",
            )
            assert created

        baseline = summary("baseline", docs, *await timed(docs, clients, direct))
        results.append(baseline)
    finally:
        await runner.cleanup()
        await services.close()
    ratio = results[0]["per_second"] / baseline["per_second"]
    print(f"  api submit / baseline = {ratio:.2f} (the HTTP layer's share of the cost)")
    return {"results": results, "ratio_submit_vs_baseline": round(ratio, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__)
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--store", help="a postgresql:// URL (default: a SQLite file)")
    args = parser.parse_args()
    outcome = asyncio.run(run(args.docs, args.clients, args.store))
    outcome.update(
        {"python": platform.python_version(), "machine": platform.machine(), "docs": args.docs}
    )
    out = Path(__file__).parent / "results" / f"api-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(outcome, indent=2), encoding="utf-8")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
