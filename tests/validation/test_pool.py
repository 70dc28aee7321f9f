"""validate_many: a spawned process pool gives the same reports as one process, in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.validation import Validator, shutdown_pools, validate_many


@pytest.mark.slow
@pytest.mark.xdist_group("validation-pool")
def test_pool_matches_sequential_results_in_order(reference: Path, artefacts_home: Path) -> None:
    examples = sorted((reference / "openpeppol-peppol-bis-invoice-3/rules/examples").glob("*.xml"))
    docs = [p.read_bytes() for p in examples]
    base = (
        reference / "openpeppol-peppol-bis-invoice-3/rules/examples/base-example.xml"
    ).read_bytes()
    docs.insert(3, base.replace(b"1656.25</cbc:PayableAmount>", b"1.00</cbc:PayableAmount>"))
    docs.insert(5, b"<broken")
    try:
        parallel = validate_many(docs, artefacts_home, workers=2)
    finally:
        shutdown_pools()
    validator = Validator.default(artefacts_home)
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
