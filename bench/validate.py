"""Issue 3's figure: documents/s for convert + full validation, side by side with baselines.

    .venv/bin/python -m bench.validate [--docs 600] [--workers N]

On the same generated fapiao (``bench.fapiao_gen``) converted with ``gateway.convert``:

* **ours**: XSD + official Schematron (BIS 3: CEN + PEPPOL; PINT-SG: PINT + SG), compiled once
  per process; single process (with per-document latency and a per-stage profile) and a
  process pool (``validate_many``, and convert + validate in the workers);
* **naive**: the same official XSD and XSLTs compiled again for every document;
* **mock-einvoice**: the ``mock-einvoice`` package's pure-Python validator (BIS 3 only: it
  refuses PINT).

Figures and ratios are printed and saved as JSON under ``bench/results/``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench import _workers
from bench.fapiao_gen import directory_data, fapiao
from gateway.config import data_home
from gateway.convert import convert
from gateway.partners import PartnerDirectory
from gateway.validation import Validator, shutdown_pools, validate_many
from gateway.validation import schematron as sch
from gateway.validation.xsd import validate_xsd
from gateway.xmlsafe import parse_xml

RESULTS = Path(__file__).resolve().parent / "results"
PROFILES = ("bis3", "pint-sg")


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def _timed(func: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = func()
    return value, time.perf_counter() - start


def generate(count: int, seed: int, max_lines: int) -> dict[str, list[bytes]]:
    """``count`` generated fapiao per target profile, 1..``max_lines`` lines each."""
    rng = random.Random(seed)
    return {p: [fapiao(i, p, rng, max_lines) for i in range(count)] for p in PROFILES}


def convert_all(sources: dict[str, list[bytes]], out: dict[str, Any]) -> dict[str, list[bytes]]:
    """Convert every fapiao in this process, timing the convert step alone."""
    directory = PartnerDirectory.from_dict(directory_data())
    converted: dict[str, list[bytes]] = {}
    for profile, docs in sources.items():
        xmls, seconds = _timed(lambda d=docs, p=profile: [convert(x, p, directory).xml for x in d])
        converted[profile] = xmls
        out.setdefault("convert_single", {})[profile] = {
            "docs": len(docs),
            "docs_per_s": _rate(len(docs), seconds),
            "mean_kb": statistics.mean(len(x) for x in xmls) / 1024,
        }
    return converted


def single_process(validator: Validator, docs: dict[str, list[bytes]], out: dict[str, Any]) -> None:
    """Per-document latency of the gateway's validator in this process."""
    for profile, xmls in docs.items():
        latencies, fatal = [], 0
        for xml in xmls:
            report, seconds = _timed(lambda x=xml, p=profile: validator.validate(x, p))
            latencies.append(seconds * 1000)
            fatal += report.fatal
        ordered = sorted(latencies)
        out.setdefault("ours_single", {})[profile] = {
            "docs": len(xmls),
            "fatal_docs": fatal,
            "docs_per_s": _rate(len(xmls), sum(latencies) / 1000),
            "latency_ms": {
                "mean": statistics.mean(latencies),
                "p50": ordered[len(ordered) // 2],
                "p95": ordered[int(len(ordered) * 0.95)],
                "max": ordered[-1],
            },
        }


def stage_profile(validator: Validator, xmls: Sequence[bytes], profile: str) -> dict[str, float]:
    """Mean milliseconds per stage: safe parse, XSD, Saxon parse, each XSLT, SVRL parse."""
    schema, rules = validator._compiled(validator.profile(profile), "Invoice")
    totals: dict[str, float] = {}

    def add(stage: str, func: Callable[[], Any]) -> Any:
        value, seconds = _timed(func)
        totals[stage] = totals.get(stage, 0.0) + seconds * 1000
        return value

    for xml in xmls:
        root = add("safe parse (lxml)", lambda x=xml: parse_xml(x))
        add("XSD (lxml)", lambda r=root: validate_xsd(schema, r))
        node = add("Saxon parse", lambda x=xml: sch.saxon().parse_xml(xml_text=x.decode()))
        for rule, executable in rules:
            svrl = add(
                f"transform {rule.path.rsplit('/', 1)[-1]}",
                lambda e=executable, n=node: e.transform_to_string(xdm_node=n),
            )
            add("SVRL parse (lxml)", lambda s=svrl, r=rule: sch.parse_svrl(s, r.source))
    return {stage: ms / len(xmls) for stage, ms in totals.items()}


def run_single(kind: str, xmls: Sequence[bytes], profile: str, home: Path) -> dict[str, Any]:
    """A baseline in this process."""
    _workers.init(kind, str(home), profile)
    verdicts, seconds = _timed(lambda: [_workers.run(x) for x in xmls])
    return {"docs": len(xmls), "fatal_docs": sum(verdicts), "docs_per_s": _rate(len(xmls), seconds)}


def run_pool(
    kind: str, xmls: Sequence[bytes], profile: str, home: Path, workers: int
) -> dict[str, Any]:
    """A process pool of ``workers`` initialised for ``kind``; start-up timed apart."""
    context = multiprocessing.get_context("spawn")
    start = time.perf_counter()
    with ProcessPoolExecutor(workers, context, _workers.init, (kind, str(home), profile)) as pool:
        list(pool.map(_workers.run, xmls[: workers * 8]))
        startup = time.perf_counter() - start
        chunk = max(1, min(16, len(xmls) // (workers * 4)))
        verdicts, seconds = _timed(lambda: list(pool.map(_workers.run, xmls, chunksize=chunk)))
    return {
        "docs": len(xmls),
        "fatal_docs": sum(verdicts),
        "docs_per_s": _rate(len(xmls), seconds),
        "startup_s": startup,
    }


def run_validate_many(xmls: Sequence[bytes], profile: str, workers: int) -> dict[str, Any]:
    """The production path: ``gateway.validation.validate_many``."""
    _, startup = _timed(lambda: validate_many(xmls[: workers * 8], profile, workers))
    reports, seconds = _timed(lambda: validate_many(xmls, profile, workers))
    shutdown_pools()
    return {
        "docs": len(xmls),
        "fatal_docs": sum(r.fatal for r in reports),
        "docs_per_s": _rate(len(xmls), seconds),
        "startup_s": startup,
    }


def report(out: dict[str, Any]) -> None:
    """Print the figures and ratios."""
    w = out["workers"]
    print(
        f"\n== validation benchmark: {out['docs']} docs/profile "
        f"(1..{out['max_lines']} lines), {w} workers, "
        f"{out['cpus']} cpus, load {out['load_before']} =="
    )
    for profile, row in out["convert_single"].items():
        print(
            f"convert only (1 proc)         {profile:8s} {row['docs_per_s']:8.1f} docs/s "
            f"(mean UBL {row['mean_kb']:.1f} KiB)"
        )
    for profile, row in out["ours_single"].items():
        lat = row["latency_ms"]
        print(
            f"ours validate (1 proc)        {profile:8s} {row['docs_per_s']:8.1f} docs/s  "
            f"latency mean {lat['mean']:.2f} p50 {lat['p50']:.2f} p95 {lat['p95']:.2f} ms  "
            f"fatal {row['fatal_docs']}"
        )
    for profile in PROFILES:
        for label, key in (
            ("ours validate_many", "ours_pool"),
            ("ours convert+validate", "convert_pool"),
            ("naive (compile/doc)", "naive_pool"),
            ("mock-einvoice", "mock_pool"),
        ):
            row = out.get(key, {}).get(profile)
            if row:
                print(
                    f"{label + f' ({w} procs)':29s} {profile:8s} {row['docs_per_s']:8.1f} docs/s  "
                    f"fatal {row['fatal_docs']}/{row['docs']}"
                )
        for label, key in (
            ("naive (1 proc)", "naive_single"),
            ("mock-einvoice (1 proc)", "mock_single"),
        ):
            row = out.get(key, {}).get(profile)
            if row:
                print(
                    f"{label:29s} {profile:8s} {row['docs_per_s']:8.1f} docs/s  "
                    f"fatal {row['fatal_docs']}/{row['docs']}"
                )
    print("\nper-stage mean ms (bis3, 1 proc):")
    for stage, ms in out["stages_bis3"].items():
        print(f"  {stage:34s} {ms:7.3f}")
    print("\nratios:")
    for name, value in out["ratios"].items():
        print(f"  {name:58s} {value:7.2f}x")
    goal = out["convert_pool"]["bis3"]["docs_per_s"]
    print(
        f"\ngoal >= 250 BIS 3 docs/s (convert + full validation): {goal:.1f} -> "
        f"{'met' if goal >= 250 else 'NOT met'}"
    )


def ratios(out: dict[str, Any]) -> dict[str, float]:
    """Ours against each baseline measured in this run."""
    result: dict[str, float] = {}
    for profile in PROFILES:
        ours_1 = out["ours_single"][profile]["docs_per_s"]
        ours_n = out["ours_pool"][profile]["docs_per_s"]
        result[f"{profile}: ours 1 proc / naive 1 proc"] = (
            ours_1 / out["naive_single"][profile]["docs_per_s"]
        )
        result[f"{profile}: ours pool / naive pool"] = (
            ours_n / out["naive_pool"][profile]["docs_per_s"]
        )
    result["bis3: ours 1 proc / mock-einvoice 1 proc"] = (
        out["ours_single"]["bis3"]["docs_per_s"] / out["mock_single"]["bis3"]["docs_per_s"]
    )
    result["bis3: ours pool / mock-einvoice pool"] = (
        out["ours_pool"]["bis3"]["docs_per_s"] / out["mock_pool"]["bis3"]["docs_per_s"]
    )
    result["bis3: ours convert+validate pool / mock-einvoice 1 proc"] = (
        out["convert_pool"]["bis3"]["docs_per_s"] / out["mock_single"]["bis3"]["docs_per_s"]
    )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.validate")
    parser.add_argument("--docs", type=int, default=600, help="documents per profile")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--naive-docs", type=int, default=6, help="documents for the naive run")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--max-lines", type=int, default=20, help="lines per fapiao: 1..N")
    args = parser.parse_args(argv)
    home = data_home()
    validator = Validator.default(home)
    validator.warm(PROFILES, ["Invoice"])
    out: dict[str, Any] = {
        "docs": args.docs,
        "max_lines": args.max_lines,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_before": os.getloadavg()[0],
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    sources = generate(args.docs, args.seed, args.max_lines)
    docs = convert_all(sources, out)
    single_process(validator, docs, out)
    out["stages_bis3"] = stage_profile(validator, docs["bis3"][:200], "bis3")
    for profile in PROFILES:
        naive = docs[profile][: args.naive_docs]
        out.setdefault("naive_single", {})[profile] = run_single("naive", naive, profile, home)
        naive_n = docs[profile][: args.naive_docs * args.workers * 2]
        out.setdefault("naive_pool", {})[profile] = run_pool(
            "naive", naive_n, profile, home, args.workers
        )
        out.setdefault("ours_pool", {})[profile] = run_validate_many(
            docs[profile], profile, args.workers
        )
        out.setdefault("convert_pool", {})[profile] = run_pool(
            "convert", sources[profile], profile, home, args.workers
        )
    out["mock_single"] = {"bis3": run_single("mock", docs["bis3"], "bis3", home)}
    out["mock_pool"] = {"bis3": run_pool("mock", docs["bis3"], "bis3", home, args.workers)}
    out["ratios"] = ratios(out)
    out["load_after"] = os.getloadavg()[0]
    report(out)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"validate-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"
    path.write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(f"\nsaved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
