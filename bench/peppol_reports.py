"""Monthly Peppol reports: time and peak memory to build TSR + EUSR for a month of N
transmissions, from groups counted in SQL (what the gateway does) against the baseline of
reading every record (measured in the same run, on the same SQLite store).

    .venv/bin/python -m bench.peppol_reports [--records 20000] [--runs 3]

Records are synthetic: a few document types, partner access points and countries, and a
pool of end users, spread over the month. Prints median and spread of the runs and the
ratios; saves JSON under ``bench/results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.render.peppol_reports import ReportPeriod, render_eusr, render_tsr
from gateway.store import open_store
from gateway.store.peppol_reporting import PeppolReportingStore, Transmission

RESULTS = Path(__file__).resolve().parent / "results"
PERIOD = ReportPeriod.of_month("2026-11")
DOCTYPES = [f"urn:example:doc:{n}::Invoice##urn:example:{n}::2.1" for n in range(4)]


def synthetic(count: int, seed: int = 1) -> list[Transmission]:
    """``count`` transmissions of November 2026."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    out = []
    for n in range(count):
        direction = rng.choice(["in", "out"])
        out.append(
            Transmission(
                direction=direction,
                transmission_id=f"m{n}",
                instance_id=f"i{n}",
                exchanged_at=start + timedelta(seconds=rng.randrange(29 * 86400)),
                c2_seat="POP000360" if direction == "out" else f"PSG{rng.randrange(20):06d}",
                c3_seat=f"PDE{rng.randrange(20):06d}" if direction == "out" else "POP000360",
                doctype_scheme="busdox-docid-qns",
                doctype=rng.choice(DOCTYPES),
                process_scheme="cenbii-procid-ubl",
                process="urn:peppol:bis:billing",
                transport_profile="peppol-transport-as4-v2_0",
                c1_country=rng.choice(["CN", "SG", "DE", "ZZ"]),
                c4_country=rng.choice(["CN", "HK"]) if direction == "in" else None,
                end_user_hash=f"user-{rng.randrange(500)}",
            )
        )
    return out


async def measure(build: Callable[[], Awaitable[Any]], runs: int) -> dict[str, float]:
    """Median and spread of seconds and of peak traced memory (MiB) over ``runs``."""
    seconds: list[float] = []
    peaks: list[float] = []
    for _ in range(runs):
        tracemalloc.start()
        started = time.perf_counter()
        await build()
        seconds.append(time.perf_counter() - started)
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
    return {
        "seconds_median": statistics.median(seconds),
        "seconds_spread": max(seconds) - min(seconds),
        "peak_mib_median": statistics.median(peaks),
    }


async def run(records: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        store = await open_store(f"sqlite:///{folder}/bench.db")
        try:
            reporting = PeppolReportingStore(store.connector)
            for transmission in synthetic(records):
                await reporting.record(transmission)

            async def from_records() -> tuple[bytes, bytes]:
                rows = await reporting.between(*PERIOD.bounds)
                return render_tsr(PERIOD, "POP000360", rows), render_eusr(PERIOD, "POP000360", rows)

            async def from_groups() -> tuple[bytes, bytes]:
                groups = await reporting.groups_between(*PERIOD.bounds)
                return render_tsr(PERIOD, "POP000360", groups), render_eusr(
                    PERIOD, "POP000360", groups
                )

            assert await from_records() == await from_groups()
            baseline = await measure(from_records, runs)
            ours = await measure(from_groups, runs)
        finally:
            await store.close()
    return {
        "records": records,
        "runs": runs,
        "baseline_every_record": baseline,
        "groups_in_sql": ours,
        "speed_ratio": baseline["seconds_median"] / ours["seconds_median"],
        "memory_ratio": baseline["peak_mib_median"] / max(ours["peak_mib_median"], 1e-9),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.peppol_reports")
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    result = asyncio.run(run(args.records, max(args.runs, 3)))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "peppol_reports.json").write_text(json.dumps(result, indent=1) + "\n")
    for name in ("baseline_every_record", "groups_in_sql"):
        figures = result[name]
        print(
            f"{name:<22} {figures['seconds_median'] * 1000:8.1f} ms "
            f"(spread {figures['seconds_spread'] * 1000:.1f} ms)  "
            f"peak {figures['peak_mib_median']:.1f} MiB"
        )
    print(
        f"{result['records']} records: groups are {result['speed_ratio']:.2f}x as fast, "
        f"{result['memory_ratio']:.1f}x less memory"
    )


if __name__ == "__main__":
    main()
