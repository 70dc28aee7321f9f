"""validate_many: a spawned process pool gives the same reports as one process, in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.validation import EngineOptions, Validator, shutdown_pools, validate_many


@pytest.mark.slow
@pytest.mark.xdist_group("validation-pool")
@pytest.mark.parametrize("engine", ["auto", "saxonche"])
def test_pool_matches_sequential_results_in_order(
    reference: Path, artefacts_home: Path, engine: str
) -> None:
    """With the JVM installed, ``auto`` feeds it from threads; ``saxonche`` is the spawned
    process pool a plain ``pip install`` gets."""
    options = EngineOptions(engine=engine)
    examples = sorted((reference / "openpeppol-peppol-bis-invoice-3/rules/examples").glob("*.xml"))
    docs = [p.read_bytes() for p in examples]
    base = (
        reference / "openpeppol-peppol-bis-invoice-3/rules/examples/base-example.xml"
    ).read_bytes()
    docs.insert(3, base.replace(b"1656.25</cbc:PayableAmount>", b"1.00</cbc:PayableAmount>"))
    docs.insert(5, b"<broken")
    try:
        parallel = validate_many(docs, artefacts_home, workers=2, options=options)
    finally:
        shutdown_pools()
    validator = Validator.default(artefacts_home, options)
    assert len(parallel) == len(docs)
    for doc, report in zip(docs, parallel, strict=True):
        if doc == b"<broken":
            assert report.fatal and report.findings[0].rule_id == "xml.well-formed"
            continue
        expected = validator.validate(doc)
        assert (report.profile, report.findings) == (expected.profile, expected.findings)
    assert parallel[3].fatal and not parallel[0].fatal


def test_single_worker_runs_in_process(reference: Path, artefacts_home: Path) -> None:
    doc = (
        reference / "openpeppol-peppol-bis-invoice-3/rules/examples/base-example.xml"
    ).read_bytes()
    (report,) = validate_many([doc], artefacts_home, workers=1)
    assert report.profile == "bis3" and not report.fatal


def test_the_bench_pool_workers_run_the_engine_of_the_run(artefacts_home: Path) -> None:
    """``bench.validate``'s pool workers read no settings: the engine the run measures comes
    from the parent (they once fell back to ``auto`` and ran the JVM in a SaxonC run)."""
    from bench import _workers

    _workers.init("convert", str(artefacts_home), "bis3", EngineOptions(engine="saxonche"))
    assert _workers._state["validator"].engine.name == "saxonche"
