"""Issue 3's figure: documents/s for convert + full validation, side by side with baselines.

    .venv/bin/python -m bench.validate [--docs 300] [--rounds 3] [--workers N] [--max-lines 20]

On the same generated fapiao (``bench.fapiao_gen``), converted with ``gateway.convert``:

* **ours**: XSD + official Schematron (BIS 3: CEN + PEPPOL; PINT-SG: PINT + SG), compiled once
  per process, on the engine the gateway chooses (the JVM where installed, see
  ``gateway.validation.schematron.engine``): one document at a time from this process ("1
  proc": per-document latency, per-stage profile, documents per CPU-second counting the JVM
  child's CPU too) and over the cores (``validate_many``; convert + validate laid out the same
  way: threads feeding the one JVM, or with SaxonC a process pool);
* **ours on SaxonC**: the same, on the in-process engine, for the engines' ratio;
* **naive**: the same official XSD and XSLTs compiled again for every document;
* **mock-einvoice**: the ``mock-einvoice`` package's pure-Python validator (BIS 3 only: it
  refuses PINT).

The machine is shared and noisy, so every measurement runs once per round, the rounds
interleaved, and the median is reported. Figures and ratios are printed and saved as JSON
under ``bench/results/``.
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
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench import _workers
from bench._forms import PROFILES, FormProcess, Spent
from bench._procs import task_cpu_ns
from bench.fapiao_gen import directory_data, fapiao
from gateway.convert import convert
from gateway.partners import PartnerDirectory
from gateway.settings import Settings, data_home
from gateway.validation import EngineOptions, Validator, shutdown_pools, validate_many
from gateway.validation import schematron as sch
from gateway.validation.options import RULES_CHOICES
from gateway.validation.schematron import SaxonCEngine
from gateway.validation.xsd import validate_xsd
from gateway.xmlsafe import parse_xml

RESULTS = Path(__file__).resolve().parent / "results"
Measure = Callable[[], tuple[int, float, int, float | None]]
"""A measurement: (documents, wall seconds, documents with fatal findings, CPU seconds of the
processes that did the work, or ``None`` when they are not known)."""


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
        cpu = time.process_time()
        xmls, seconds = _timed(lambda d=docs, p=profile: [convert(x, p, directory).xml for x in d])
        cpu = time.process_time() - cpu
        converted[profile] = xmls
        out.setdefault("convert_single", {})[profile] = {
            "docs": len(docs),
            "docs_per_s": len(docs) / seconds,
            "docs_per_cpu_s": len(docs) / cpu,
            "mean_kb": statistics.mean(len(x) for x in xmls) / 1024,
        }
    return converted


class Pool:
    """A spawned process pool initialised for one ``kind`` of work (see ``bench._workers``)."""

    def __init__(
        self,
        kind: str,
        profile: str,
        home: Path,
        workers: int,
        warm: Sequence[bytes],
        options: EngineOptions | None = None,
    ):
        context = multiprocessing.get_context("spawn")
        self.workers = workers
        args = (kind, str(home), profile, options)
        self.pool = ProcessPoolExecutor(workers, context, _workers.init, args)
        list(self.pool.map(_workers.run, warm))

    def measure(self, xmls: Sequence[bytes]) -> Measure:
        """Wall time and the workers' CPU time (every thread, from ``schedstat``): on a
        shared machine the wall time says how much of the cores the pool got, its CPU time
        what the work cost."""
        chunk = max(1, min(16, len(xmls) // (self.workers * 4)))

        def run() -> tuple[int, float, int, float | None]:
            cpu = self.cpu_ns()
            verdicts, seconds = _timed(
                lambda: list(self.pool.map(_workers.run, xmls, chunksize=chunk))
            )
            return len(xmls), seconds, sum(verdicts), (self.cpu_ns() - cpu) / 1e9

        return run

    def cpu_ns(self) -> int:
        """CPU time, in ns, the pool's worker processes have used so far."""
        return sum(task_cpu_ns(pid)[0] for pid in self.pool._processes)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def ours_single(
    validator: Validator, xmls: Sequence[bytes], profile: str, lat: list[float]
) -> Measure:
    """The gateway's validator in this process; per-document latencies go to ``lat``.

    Its CPU time includes the JVM engine's child process (the rules run there)."""

    def run() -> tuple[int, float, int, float | None]:
        fatal, total = 0, 0.0
        cpu, engine_cpu = time.process_time(), validator.engine.cpu_seconds()
        for xml in xmls:
            report, seconds = _timed(lambda x=xml: validator.validate(x, profile))
            lat.append(seconds * 1000)
            fatal += report.fatal
            total += seconds
        engine_cpu = validator.engine.cpu_seconds() - engine_cpu
        return len(xmls), total, fatal, time.process_time() - cpu + engine_cpu

    return run


def baseline_single(kind: str, xmls: Sequence[bytes], profile: str, home: Path) -> Measure:
    """A baseline (``naive`` or ``mock``) in this process."""

    def run() -> tuple[int, float, int, float | None]:
        _workers.init(kind, str(home), profile)
        cpu = time.process_time()
        verdicts, seconds = _timed(lambda: [_workers.run(x) for x in xmls])
        return len(xmls), seconds, sum(verdicts), time.process_time() - cpu

    return run


def ours_many(
    xmls: Sequence[bytes], profile: str, workers: int, warm: int, options: EngineOptions
) -> Measure:
    """The production path: ``gateway.validation.validate_many`` (its pool stays up)."""
    home = data_home()
    validate_many(xmls[:warm], home, profile, workers, options)

    def run() -> tuple[int, float, int, float | None]:
        reports, seconds = _timed(lambda: validate_many(xmls, home, profile, workers, options))
        return len(xmls), seconds, sum(r.fatal for r in reports), None

    return run


def convert_threads(
    validator: Validator, sources: Sequence[bytes], profile: str, workers: int, warm: int
) -> Measure:
    """Convert + validate with the JVM engine laid out as ``validate_many`` lays it out:
    threads of this process (convert, parse, XSD) feeding the process's one JVM (the rules
    on all cores). With SaxonC the same measure is a process pool (``Pool("convert")``)."""
    directory = PartnerDirectory.from_dict(directory_data())

    def one(source: bytes) -> bool:
        return bool(validator.validate(convert(source, profile, directory).xml, profile).fatal)

    threads = ThreadPoolExecutor(workers * 2)
    list(threads.map(one, sources[:warm]))

    def run() -> tuple[int, float, int, float | None]:
        verdicts, seconds = _timed(lambda: list(threads.map(one, sources)))
        return len(sources), seconds, sum(verdicts), None

    return run


def stage_profile(validator: Validator, xmls: Sequence[bytes], profile: str) -> dict[str, float]:
    """Mean milliseconds per stage of ``Validator.validate`` on documents without findings."""
    schema, rules = validator._compiled(validator.profile(profile), "Invoice")
    for xml in xmls[:20]:
        validator.validate(xml, profile)
    totals: dict[str, float] = {}

    def add(stage: str, func: Callable[[], Any]) -> Any:
        value, seconds = _timed(func)
        totals[stage] = totals.get(stage, 0.0) + seconds * 1000
        return value

    engine = validator.engine
    for xml in xmls:
        root = add("safe parse (lxml)", lambda x=xml: parse_xml(x))
        add("XSD (lxml)", lambda r=root: validate_xsd(schema, r))
        if engine.name == "jvm":
            pairs = [(rule.source, handle) for rule, handle in rules]
            add("JVM: parse + all rules + transfer", lambda x=xml, p=pairs: engine.run(x, p))
            continue
        node = add("Saxon parse", lambda x=xml: sch.saxon().parse_xml(xml_text=x.decode()))
        for rule, executable in rules:
            name = rule.path.rsplit("/", 1)[-1]
            add(
                f"transform + count {name}",
                lambda e=executable, n=node, r=rule: sch.run_stylesheet(e, n, r.source),
            )
    return {stage: ms / len(xmls) for stage, ms in totals.items()}


def run_rounds(measures: dict[str, Measure], rounds: int) -> dict[str, dict[str, Any]]:
    """Every measurement once per round, interleaved; docs/s per round and the median.

    Where the CPU time of the work is known (this process, or a pool's workers), documents
    per CPU-second are kept too: unlike wall time, they hardly depend on what else the shared
    machine is running.
    """
    rates: dict[str, list[float]] = {name: [] for name in measures}
    cpu_rates: dict[str, list[float]] = {name: [] for name in measures}
    fatal: dict[str, int] = {}
    docs: dict[str, int] = {}
    for number in range(1, rounds + 1):
        print(f"round {number}/{rounds} (load {os.getloadavg()[0]:.1f})", file=sys.stderr)
        for name, measure in measures.items():
            count, seconds, fatal[name], cpu = measure()
            docs[name] = count
            rates[name].append(count / seconds)
            if cpu:
                cpu_rates[name].append(count / cpu)
    figures: dict[str, dict[str, Any]] = {}
    for name, values in rates.items():
        figures[name] = {
            "docs": docs[name],
            "fatal_docs": fatal[name],
            "docs_per_s": statistics.median(values),
            "rounds": values,
        }
        if cpu_rates[name]:
            figures[name]["docs_per_cpu_s"] = statistics.median(cpu_rates[name])
    return figures


def ratios(fig: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Ours against each baseline, medians of the same run."""

    def r(a: str, b: str) -> float:
        return float(fig[a]["docs_per_s"] / fig[b]["docs_per_s"])

    out = {}
    for p in PROFILES:
        out[f"{p}: ours 1 proc / naive 1 proc"] = r(f"ours 1 proc {p}", f"naive 1 proc {p}")
        out[f"{p}: ours pool / naive pool"] = r(f"ours pool {p}", f"naive pool {p}")
    out["bis3: ours 1 proc / mock-einvoice 1 proc"] = r("ours 1 proc bis3", "mock 1 proc bis3")
    for p in PROFILES:
        out[f"{p}: ours / naive, per CPU-second"] = float(
            fig[f"ours 1 proc {p}"]["docs_per_cpu_s"] / fig[f"naive 1 proc {p}"]["docs_per_cpu_s"]
        )
    out["bis3: ours / mock-einvoice, per CPU-second"] = float(
        fig["ours 1 proc bis3"]["docs_per_cpu_s"] / fig["mock 1 proc bis3"]["docs_per_cpu_s"]
    )
    out["bis3: ours pool / mock-einvoice pool"] = r("ours pool bis3", "mock pool bis3")
    if "ours on SaxonC 1 proc bis3" in fig:
        out["bis3: JVM engine / SaxonC engine, per CPU-second"] = float(
            fig["ours 1 proc bis3"]["docs_per_cpu_s"]
            / fig["ours on SaxonC 1 proc bis3"]["docs_per_cpu_s"]
        )
    out["bis3: ours convert+validate pool / mock-einvoice pool"] = r(
        "convert+validate pool bis3", "mock pool bis3"
    )
    if "docs_per_cpu_s" in fig["convert+validate pool bis3"]:
        out["bis3: ours convert+validate pool / mock-einvoice pool, per worker CPU-second"] = float(
            fig["convert+validate pool bis3"]["docs_per_cpu_s"]
            / fig["mock pool bis3"]["docs_per_cpu_s"]
        )
    out["bis3: ours convert+validate pool / mock-einvoice 1 proc"] = r(
        "convert+validate pool bis3", "mock 1 proc bis3"
    )
    return out


def report(out: dict[str, Any]) -> None:
    """Print the figures and ratios."""
    print(
        f"\n== validation benchmark ({out['engine']} engine, {out['rules']} rules): {out['docs']} docs/profile (1..{out['max_lines']} lines), "
        f"{out['workers']} workers, {out['cpus']} cpus, {out['rounds']} rounds (median), "
        f"load {out['load_before']:.1f} -> {out['load_after']:.1f} =="
    )
    for profile, row in out["convert_single"].items():
        print(
            f"  convert only, 1 proc             {profile:8s} {row['docs_per_s']:8.1f} docs/s "
            f"(mean output {row['mean_kb']:.1f} KiB)"
        )
    for name, row in out["figures"].items():
        spread = ", ".join(f"{v:.0f}" for v in row["rounds"])
        print(
            f"  {name:40s} {row['docs_per_s']:8.1f} docs/s  [{spread}]  "
            f"fatal {row['fatal_docs']}/{row['docs']}"
        )
    for profile, lat in out["latency_ms"].items():
        print(
            f"  latency, ours 1 proc {profile:8s} mean {lat['mean']:.2f}  p50 {lat['p50']:.2f}  "
            f"p95 {lat['p95']:.2f}  max {lat['max']:.2f} ms"
        )
    print(f"\nper-stage mean ms (bis3, 1 proc, ours, {out['engine']} engine):")
    for stage, ms in out["stages_bis3"].items():
        print(f"  {stage:42s} {ms:7.3f}")
    print("\nratios (medians, same run):")
    for name, value in out["ratios"].items():
        print(f"  {name:60s} {value:7.2f}x")
    goal = out["figures"]["convert+validate pool bis3"]["docs_per_s"]
    print(
        f"\ngoal (issue 12, JVM engine) >= 300 BIS 3 docs/s, convert + full validation: "
        f"{goal:.1f} docs/s on the {out['engine']} engine -> "
        f"{'met' if goal >= 300 else 'NOT met'} (wall clock, shared machine)"
    )
    for profile, value in out["projected_idle"].items():
        print(
            f"projected on {out['workers']} idle cores from CPU time, convert + validate, "
            f"{profile}: {value:.1f} docs/s"
        )


def projected(out: dict[str, Any]) -> dict[str, float]:
    """Convert + validate docs/s on ``workers`` idle cores, from the CPU cost per document."""
    result = {}
    for p in PROFILES:
        per_doc = (
            1 / out["convert_single"][p]["docs_per_cpu_s"]
            + 1 / out["figures"][f"ours 1 proc {p}"]["docs_per_cpu_s"]
        )
        result[p] = out["workers"] / per_doc
    return result


def _latency(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "mean": statistics.mean(ordered),
        "p50": ordered[len(ordered) // 2],
        "p95": ordered[int(len(ordered) * 0.95)],
        "max": ordered[-1],
    }


def build_measures(
    args: argparse.Namespace,
    validator: Validator,
    sources: dict[str, list[bytes]],
    docs: dict[str, list[bytes]],
    lat: dict[str, list[float]],
    pools: list[Pool],
) -> dict[str, Measure]:
    """Every measurement of the run, pools started and warmed."""
    home, w = data_home(), args.workers
    single = docs["bis3"][: args.single_docs]
    measures: dict[str, Measure] = {}
    for p in PROFILES:
        measures[f"ours 1 proc {p}"] = ours_single(
            validator, docs[p][: args.single_docs], p, lat[p]
        )
        measures[f"naive 1 proc {p}"] = baseline_single(
            "naive", docs[p][: args.naive_docs], p, home
        )
    measures["mock 1 proc bis3"] = baseline_single("mock", single, "bis3", home)
    if validator.engine.name != "saxonche":
        saxonc = Validator(home, SaxonCEngine(), args.rules)
        saxonc.warm(["bis3"], ["Invoice"], exercise=True)
        measures["ours on SaxonC 1 proc bis3"] = ours_single(saxonc, single, "bis3", [])
    for p in PROFILES:
        measures[f"ours pool {p}"] = ours_many(docs[p], p, w, args.warm_docs, args.options)
        if validator.engine.name == "jvm":
            measures[f"convert+validate pool {p}"] = convert_threads(
                validator, sources[p], p, w, args.warm_docs
            )
        else:
            convert_pool = Pool("convert", p, home, w, sources[p][: args.warm_docs], args.options)
            pools.append(convert_pool)
            measures[f"convert+validate pool {p}"] = convert_pool.measure(sources[p])
        naive_pool = Pool("naive", p, home, w, docs[p][:w])
        pools.append(naive_pool)
        measures[f"naive pool {p}"] = naive_pool.measure(docs[p][: args.naive_docs * w])
    mock_pool = Pool("mock", "bis3", home, w, docs["bis3"][: args.warm_docs])
    pools.append(mock_pool)
    measures["mock pool bis3"] = mock_pool.measure(docs["bis3"])
    return measures


FORMS = ("official", "fast")


JVM_WARM_DOCS = 6000
"""Warm-up documents per form and profile on the JVM in ``--forms``, the profiles taking
turns document by document as in a gateway's mixed traffic. Warmed one profile after the
other, 2,000 each, the JIT was still compiling in the rounds (up to a third of our form's CPU
time on BIS 3): its code had been compiled for the last profile warmed. Interleaved, it
still compiled in bursts up to about 2,500 documents per profile; at 6,000 the rounds show
little left (a gateway's JVM validates that many in minutes)."""

BLOCK = 25
"""Documents each form validates in turn in ``--forms``: long enough to run in its steady
state, short enough that both see the same load on a shared machine."""


def compare_forms(
    docs: dict[str, list[bytes]], args: argparse.Namespace
) -> dict[str, dict[str, Any]]:
    """Ours vs the official XSLT on each engine, documents per CPU-second, each form in a
    process of its own (:mod:`bench._forms`: as a gateway runs one form).

    The two forms take turns over the same documents, :data:`BLOCK` (``--block``) documents
    at a time (which goes first alternates), so both see the same load on a shared machine.
    Each round also runs the same documents with the forms taking turns document by
    document (kept for comparison: each form then starts every document just after the
    other ran on the same cores). Per round, each form's CPU time over the same documents
    gives its rate and the round's ratio; then the median and spread. On the JVM, the share
    of that CPU time its JIT compiler threads took is kept too, and the ratio without it:
    work a JVM does while it is still compiling, which a long-running host no longer does."""
    result: dict[str, dict[str, Any]] = {}
    for engine_name in args.engines:
        options = replace(args.options, engine=engine_name)
        warm = args.jvm_warm_docs if engine_name == "jvm" else args.warm_docs
        workers = {form: FormProcess(form, options, docs, warm) for form in FORMS}
        try:
            for worker in workers.values():
                worker.wait_ready()
            for p in PROFILES:
                result[f"{engine_name} {p}"] = _compare_profile(workers, p, engine_name, args)
        finally:
            for worker in workers.values():
                worker.close()
    return result


def _compare_profile(
    workers: dict[str, FormProcess], p: str, engine_name: str, args: argparse.Namespace
) -> dict[str, Any]:
    """One engine and profile of :func:`compare_forms`."""
    count = min(args.single_docs, args.docs)
    turns = (args.block, 1) if args.block != 1 else (1,)
    rates: dict[int, dict[str, list[float]]] = {t: {f: [] for f in FORMS} for t in turns}
    settled: dict[str, list[float]] = {form: [] for form in FORMS}
    fatal: dict[str, int] = dict.fromkeys(FORMS, 0)
    cpu_ns: dict[str, int] = dict.fromkeys(FORMS, 0)
    jit_ns: dict[str, int] = dict.fromkeys(FORMS, 0)
    for number in range(1, args.rounds + 1):
        load = os.getloadavg()[0]
        print(f"{engine_name} {p} round {number} (load {load:.1f})", file=sys.stderr)
        for turn in turns if number % 2 else reversed(turns):
            spent = {form: Spent(0, 0, 0) for form in FORMS}
            for start in range(0, count, turn):
                stop = min(start + turn, count)
                for form in FORMS if (start // turn) % 2 else reversed(FORMS):
                    spent[form] += workers[form].validate(p, start, stop)
            for form in FORMS:
                rates[turn][form].append(count / (spent[form].cpu_ns / 1e9))
                if turn == turns[0]:
                    cpu_ns[form] += spent[form].cpu_ns
                    jit_ns[form] += spent[form].jit_ns
                    settled[form].append(count / ((spent[form].cpu_ns - spent[form].jit_ns) / 1e9))
                    fatal[form] += spent[form].fatal if number == 1 else 0
    return {
        **_form_figures(rates[turns[0]]),
        "block": turns[0],
        "fatal": fatal,
        "jit_share": {form: jit_ns[form] / cpu_ns[form] for form in FORMS},
        "per_document": _form_figures(rates[1]),
        "without_jit": _form_figures(settled),
    }


def _form_figures(rates: dict[str, list[float]]) -> dict[str, Any]:
    """Both forms' median rates, and the median and rounds of their ratio."""
    per_round = [f / o for f, o in zip(rates["fast"], rates["official"], strict=True)]
    return {
        "official_docs_per_cpu_s": statistics.median(rates["official"]),
        "fast_docs_per_cpu_s": statistics.median(rates["fast"]),
        "ratio_median": statistics.median(per_round),
        "ratio_rounds": per_round,
    }


def engine_uses_jit(row_name: str) -> bool:
    """Whether a ``--forms`` row (``"<engine> <profile>"``) ran on the JVM."""
    return row_name.split()[0] == "jvm"


def forms_main(args: argparse.Namespace) -> int:
    """``--forms``: print and save the comparison of the two compiled forms."""
    sources = generate(args.docs, args.seed, args.max_lines)
    out: dict[str, Any] = {"docs": args.docs, "rounds": args.rounds, "cpus": os.cpu_count()}
    docs = convert_all(sources, out)
    out["load_before"] = os.getloadavg()[0]
    try:
        out["forms"] = compare_forms(docs, args)
    except RuntimeError as exc:
        print(f"bench.validate --forms: {exc}", file=sys.stderr)
        return 2
    out["load_after"] = os.getloadavg()[0]
    print(
        f"\n== ours (fast) vs official XSLT, same engine, same documents, taking turns "
        f"{args.block} documents at a time: "
        f"{min(args.single_docs, args.docs)} docs per round (1..{args.max_lines} lines), "
        f"warm-up {args.warm_docs} docs per form and profile ({args.jvm_warm_docs} on the JVM), "
        f"{args.rounds} rounds, load {out['load_before']:.1f} -> {out['load_after']:.1f} =="
    )
    for name, row in out["forms"].items():
        print(f"  {name:18s} {_form_line(row)}  fatal {row['fatal']}")
        if engine_uses_jit(name):
            share = row["jit_share"]
            print(
                f"  {'':18s} of which the JIT compiling (C1, C2 threads): "
                f"official {share['official']:.0%}, fast {share['fast']:.0%} of the CPU time"
            )
            print(f"  {'without the JIT':18s} {_form_line(row['without_jit'])}")
    if args.block != 1:
        print("\n  the same rounds, the forms taking turns document by document (for comparison):")
        for name, row in out["forms"].items():
            print(f"  {name:18s} {_form_line(row['per_document'])}")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"validate-forms-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"
    path.write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(f"\nsaved {path}")
    return 0


def _form_line(figures: dict[str, Any]) -> str:
    spread = ", ".join(f"{r:.2f}" for r in figures["ratio_rounds"])
    return (
        f"official {figures['official_docs_per_cpu_s']:7.1f}  "
        f"fast {figures['fast_docs_per_cpu_s']:7.1f} docs/CPU-s   "
        f"ratio {figures['ratio_median']:.2f}x [{spread}]"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.validate")
    parser.add_argument("--docs", type=int, default=300, help="documents per profile")
    parser.add_argument("--single-docs", type=int, default=100, help="docs per 1-proc round")
    parser.add_argument("--naive-docs", type=int, default=3, help="docs per naive round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--max-lines", type=int, default=20, help="lines per fapiao: 1..N")
    parser.add_argument(
        "--warm-docs",
        type=int,
        default=300,
        help="documents each pool processes before it is measured (JIT and caches warm)",
    )
    parser.add_argument(
        "--rules",
        choices=RULES_CHOICES,
        default=None,
        help="compiled form of the official rules for 'ours' (default: $LINGANG_RULES)",
    )
    parser.add_argument(
        "--forms",
        action="store_true",
        help="only compare our compiled form with the official XSLT, per engine (issue 12)",
    )
    parser.add_argument(
        "--jvm-warm-docs",
        type=int,
        default=JVM_WARM_DOCS,
        help="--forms: warm-up documents per form and profile on the JVM (its JIT settles late)",
    )
    parser.add_argument(
        "--block",
        type=int,
        default=BLOCK,
        help="--forms: documents each form validates in turn (1: document by document only)",
    )
    parser.add_argument(
        "--engines",
        nargs="+",
        choices=("saxonche", "jvm"),
        default=["saxonche", "jvm"],
        help="engines for --forms",
    )
    args = parser.parse_args(argv)
    options = Settings.load().validation
    args.options = options = replace(options, rules=args.rules or options.rules)
    args.rules = options.rules
    if args.forms:
        return forms_main(args)
    validator = Validator.default(data_home(), options)
    validator.warm(PROFILES, ["Invoice"], exercise=True)
    out: dict[str, Any] = {
        "engine": validator.engine.name,
        "rules": args.rules,
        "docs": args.docs,
        "max_lines": args.max_lines,
        "workers": args.workers,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_before": os.getloadavg()[0],
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    sources = generate(args.docs, args.seed, args.max_lines)
    docs = convert_all(sources, out)
    out["stages_bis3"] = stage_profile(validator, docs["bis3"][:100], "bis3")
    lat: dict[str, list[float]] = {p: [] for p in PROFILES}
    pools: list[Pool] = []
    try:
        measures = build_measures(args, validator, sources, docs, lat, pools)
        out["figures"] = run_rounds(measures, args.rounds)
    finally:
        for pool in pools:
            pool.close()
        shutdown_pools()
    out["latency_ms"] = {p: _latency(values) for p, values in lat.items()}
    out["ratios"] = ratios(out["figures"])
    out["projected_idle"] = projected(out)
    out["load_after"] = os.getloadavg()[0]
    report(out)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"validate-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"
    path.write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(f"\nsaved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
