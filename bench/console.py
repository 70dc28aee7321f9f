"""The operator console's pages with many documents in the store: latency per page.

    .venv/bin/python -m bench.console [--docs 10000] [--requests 50] [--runs 3]
                                      [--store sqlite,postgres]

For each store (a SQLite file; a throw-away PostgreSQL server with ``initdb``):

* one sample fapiao goes the real way (console upload → flow → folder adapter → delivered),
  so the document page and its readable view show real outputs;
* one eBL (the DCSA conformance template from ``../shared/reference``) is written through the
  store as the ``ebl-out`` flow and a PINT transfer leave it: the submission, its outputs
  (dcsa, tradetrust-oa, html), its ``converted`` event, a two-entry chain in the eBL registry
  and a minted, transferred TradeTrust title token, so its document page and readable view
  do every look-up they do in service;
* ``--docs`` more documents are written through the store's own operations (submission,
  ``queued`` event with profile / receiver / number, delivery job; most ``delivered``, one in
  a hundred dead-lettered), spread over three profiles and a hundred receivers;
* a signed-in client requests each page ``--requests`` times in turn over a real socket on
  127.0.0.1 (client in the same process): the documents list (unfiltered, by state, by a
  receiver that matches one document in a hundred, by profile, the second page), one
  document, its readable view, the eBL's page and view, dead letters, health and partners.

Baseline, in the same run and on the same store: ``GET /v1/documents?limit=50`` (the API's
own list). Each page's p95 is printed as the median of ``--runs`` runs with its spread
(min–max), and as a ratio to the baseline's p95. The goal is p95 < 100 ms at 10,000
documents. Results are saved as JSON under ``bench/results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from gateway.api import api_runner, create_app
from gateway.jobs.submissions import SubmissionState
from gateway.service import open_services
from gateway.settings import (
    AdapterConfig,
    PipelineSettings,
    Settings,
    StoreSettings,
    WorkerSettings,
)
from gateway.store import JobSpec, StateChange, Store, open_store
from gateway.store.partner_directory import replace_directory

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SAMPLE = ROOT / "gateway/samples/export-zero-rate.xml"
PARTNERS = ROOT / "tests/data/partners.toml"
REFERENCE = ROOT.parent / "shared" / "reference"
"""The official reference data (the eBL's DCSA template)."""
PROFILES = ("pint-sg", "pint", "bis3")
RECEIVERS = 100
CONCURRENCY = 32
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def fill(store: Store, tenant_id: str, docs: int) -> None:
    """``docs`` documents through the store's operations, ``CONCURRENCY`` at a time."""
    data = SAMPLE.read_bytes()

    async def one(index: int) -> None:
        submission, _ = await store.create_submission(
            tenant_id, data, content_type="application/xml", filename=f"bench-{index}.xml"
        )
        detail = {
            "profile": PROFILES[index % len(PROFILES)],
            "receiver": f"0195:SGUEN2000{index % RECEIVERS:05d}A",
            "number": f"2631200000{index:010d}",
            "stages": [{"stage": "parse", "ms": 5.0, "ok": True}],
        }
        event = StateChange(SubmissionState.QUEUED, "processed", detail)
        await store.enqueue_job(
            submission.id, JobSpec("deliver", adapter="local", endpoint="bench"), event=event
        )
        if index % 100 != 0:
            await store.record_event(submission.id, SubmissionState.DELIVERED, reason="bench")

    for start in range(0, docs, CONCURRENCY):
        await asyncio.gather(*(one(i) for i in range(start, min(docs, start + CONCURRENCY))))
    dead = await store.claim_jobs("bench", limit=max(1, docs // 100), lease_seconds=600)
    for job in dead:
        await store.fail_job(job.id, "bench", "refused", retryable=False, retry_after=None)


async def ebl_document(store: Store, tenant_id: str) -> str:
    """One converted eBL with its registry chain and title token (see the module docstring)."""
    from gateway.read.dcsa import read_dcsa
    from gateway.readable.kinds.ebl import render_transport_document
    from gateway.render.dcsa import dump_json
    from gateway.render.tradetrust_oa import LOCAL_ISSUER, render_tradetrust_raw
    from gateway.signing.openattestation import wrap_document
    from gateway.store.ebl import EblRegistry
    from gateway.store.title_tokens import StoredTokenRegistry
    from gateway.testing.pint import issue_and_transfer, transport_document

    number = "LGBENCH0001"
    document = transport_document(REFERENCE, number)
    parsed = read_dcsa(document).document
    submission, _ = await store.create_submission(
        tenant_id,
        dump_json(document),
        content_type="application/json",
        filename="bench-ebl.json",
        metadata={"kind": "ebl"},
    )
    wrapped = wrap_document(render_tradetrust_raw(parsed, LOCAL_ISSUER).data)
    outputs = {
        "dcsa": ("application/json", dump_json(document)),
        "tradetrust-oa": ("application/json", json.dumps(wrapped).encode()),
        "html": ("text/html; charset=utf-8", render_transport_document(parsed).encode()),
    }
    for kind, (media_type, data) in outputs.items():
        await store.put_output(submission.id, kind, media_type, data)
    detail = {"document_number": number, "bill_kind": parsed.kind.value, "stages": []}
    await store.record_event(submission.id, "converted", reason="bench", detail=detail)
    await EblRegistry.of(store).issue(issue_and_transfer(document))
    tokens = StoredTokenRegistry(store.connector, store.clock, LOCAL_ISSUER.token_registry)
    root = wrapped["signature"]["merkleRoot"]
    await tokens.mint(root, "SHIPPER-1", "SHIPPER-1")
    await tokens.transfer_holder(root, "SHIPPER-1", "BUYER-1")
    return submission.id


async def sign_in(session: aiohttp.ClientSession, base: str, key: str) -> None:
    async with session.get(base + "/console/signin") as response:
        match = _CSRF.search(await response.text())
    assert match, "no sign-in form"
    async with session.post(
        base + "/console/signin", data={"csrf": match[1], "api_key": key}
    ) as response:
        assert response.status == 200 and response.url.path == "/console/documents"


async def real_document(session: aiohttp.ClientSession, base: str) -> str:
    """Upload the sample through the console and wait until it is delivered."""
    async with session.get(base + "/console/upload") as response:
        match = _CSRF.search(await response.text())
    assert match
    form = aiohttp.FormData()
    form.add_field("csrf", match[1])
    form.add_field("document", SAMPLE.read_bytes(), filename=SAMPLE.name, content_type="text/xml")
    async with session.post(base + "/console/upload", data=form) as response:
        url = str(response.url)
    for _ in range(300):
        async with session.get(url) as response:
            if 'id="doc-state" data-state="delivered"' in await response.text():
                return url.rsplit("/", 1)[1]
        await asyncio.sleep(0.1)
    raise RuntimeError("the sample was not delivered")


async def measure(fetch: Callable[[], Awaitable[int]], requests: int) -> list[float]:
    """Latencies (ms) of ``requests`` sequential calls; every answer must be 200."""
    out: list[float] = []
    for _ in range(requests):
        started = time.perf_counter()
        status = await fetch()
        out.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"status {status}")
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def bench_store(url: str, name: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    settings = Settings(
        data_dir=work / name,
        store=StoreSettings(url),
        pipeline=PipelineSettings(validate=False, sign=False, stage_processes=0),
        worker=WorkerSettings(count=1, poll_seconds=0.05),
        adapters={"local": AdapterConfig(name="local", type="folder", options={"path": "out"})},
    )
    store = await open_store(url)
    services = await open_services(settings, store=store)
    tenant = await store.create_tenant("bench")
    key, _ = await store.issue_api_key(tenant.id)
    import tomllib

    await replace_directory(store, tenant.id, tomllib.loads(PARTNERS.read_text("utf-8")))
    pool = services.worker_pool(1)
    runner = api_runner(create_app(services))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    try:
        pool.start()
        await sign_in(session, base, key)
        doc = await real_document(session, base)
        await pool.stop()
        ebl = await ebl_document(store, tenant.id)
        started = time.perf_counter()
        await fill(store, tenant.id, args.docs)
        fill_seconds = time.perf_counter() - started
        async with session.get(base + "/console/documents") as response:
            page = await response.text()
        cursor = re.search(r'id="next-page" href="\?([^"]+)"', page)
        second = "/console/documents?" + cursor[1].replace("&amp;", "&") if cursor else ""
        pages = {
            "documents": "/console/documents",
            "documents?state=dead": "/console/documents?state=dead",
            "documents?receiver (1%)": "/console/documents?receiver=0195:SGUEN200000042A",
            "documents?profile": "/console/documents?profile=pint",
            "documents page 2": second or "/console/documents",
            "document": f"/console/documents/{doc}",
            "document view": f"/console/documents/{doc}/view",
            "ebl document": f"/console/documents/{ebl}",
            "ebl view": f"/console/documents/{ebl}/view",
            "stuck": "/console/stuck",
            "health": "/console/health",
            "partners": "/console/partners",
        }
        api_headers = {"Authorization": f"Bearer {key}"}

        async def get(path: str, headers: dict[str, str] | None = None) -> int:
            async with session.get(base + path, headers=headers) as response:
                await response.read()
                return response.status

        runs: dict[str, list[float]] = {label: [] for label in ["baseline", *pages]}
        for _ in range(args.runs):
            lat = await measure(lambda: get("/v1/documents?limit=50", api_headers), args.requests)
            runs["baseline"].append(p95(lat))
            for label, path in pages.items():
                lat = await measure(lambda path=path: get(path), args.requests)  # type: ignore[misc]
                runs[label].append(p95(lat))
        return {"store": name, "docs": args.docs, "fill_seconds": fill_seconds, "p95_ms": runs}
    finally:
        await session.close()
        await runner.cleanup()
        await services.close()


def start_postgres() -> tuple[Any, str]:
    """A throw-away PostgreSQL (``initdb``; fsync off, as in the test suite)."""
    sys.path.insert(0, str(ROOT))
    from tests.pg import LocalServer, find_pg_bin

    bindir = find_pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL binaries not found")
    local = LocalServer(bindir)
    server = local.start()
    return local, server.url(server.create_database())


def report(result: dict[str, Any]) -> None:
    runs = result["p95_ms"]
    base = statistics.median(runs["baseline"])
    print(
        f"\n[{result['store']}] {result['docs']} documents (+1 real) written in "
        f"{result['fill_seconds']:.1f} s; p95 per page, median of {len(runs['baseline'])} runs "
        f"(min–max), ratio to the baseline's p95"
    )
    for label, values in runs.items():
        median = statistics.median(values)
        flag = "" if median < 100 else "  ← over 100 ms"
        print(
            f"  {label:<26} {median:7.1f} ms ({min(values):.1f}–{max(values):.1f})"
            f"  ×{median / base:5.2f}{flag}"
        )


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-console-") as folder:
        work = Path(folder)
        for name in args.store.split(","):
            if name == "sqlite":
                result = await bench_store(f"sqlite:///{work}/console.db", name, args, work)
            elif name == "postgres":
                local, url = start_postgres()
                try:
                    result = await bench_store(url, name, args, work)
                finally:
                    local.stop()
            else:
                raise SystemExit(f"unknown store {name!r} (sqlite, postgres)")
            report(result)
            results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--store", default="sqlite,postgres")
    args = parser.parse_args()
    results = asyncio.run(main_async(args))
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"console-{stamp}.json"
    out.write_text(
        json.dumps({"machine": platform.platform(), "results": results}, indent=2), "utf-8"
    )
    print(f"\nsaved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
