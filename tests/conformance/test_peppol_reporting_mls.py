"""The official Peppol Reporting and MLS test files through our validator, on both engines.

Every good TSR/EUSR report passes (XSD + official Schematron); every bad one fails with the
rule its name says (``tsr-NN-x.xml`` → ``SCH-TSR-NN``, ``tsr-in-the-wild-1.xml`` →
``SCH-TSR-11``, as upstream's own validator tests expect); every official MLS example passes
``peppol-mls-1.0.1``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.validation import Validator
from tests.conftest import reference_root

REPORTING = "phax-peppol-reporting/testfiles"
MLS_EXAMPLES = "openpeppol-mls-1.1.0/trn-mls/example"


def _files(pattern: str) -> list[str]:
    root = reference_root()
    return sorted(str(p.relative_to(root)) for p in root.glob(pattern)) or [f"missing:{pattern}"]


def expected_rule(name: str) -> str:
    """The rule a bad reference report must fire, from its file name."""
    if name == "tsr-in-the-wild-1.xml":
        return "SCH-TSR-11"
    match = re.fullmatch(r"(tsr|eusr)-(\d+)-\d+\.xml", name)
    assert match, name
    return f"SCH-{match[1].upper()}-{match[2]}"


@pytest.mark.parametrize("rel", _files(f"{REPORTING}/*/good/*.xml"))
def test_good_reports_pass(rel: str, reference: Path, engine_validator: Validator) -> None:
    report = engine_validator.validate((reference / rel).read_bytes())
    assert report.profile == ("peppol-tsr" if "/tsr/" in rel else "peppol-eusr")
    assert not report.findings, report.to_text()


@pytest.mark.parametrize("rel", _files(f"{REPORTING}/*/bad/*.xml"))
def test_bad_reports_fail_with_their_rule(
    rel: str, reference: Path, engine_validator: Validator
) -> None:
    report = engine_validator.validate((reference / rel).read_bytes())
    assert report.fatal
    assert expected_rule(Path(rel).name) in {f.rule_id for f in report.fatals()}


@pytest.mark.parametrize("rel", _files(f"{MLS_EXAMPLES}/MessageLevelStatus_Example_*.xml"))
def test_official_mls_examples_pass(rel: str, reference: Path, engine_validator: Validator) -> None:
    report = engine_validator.validate((reference / rel).read_bytes())
    assert report.profile == "peppol-mls"
    assert not report.findings, report.to_text()


def test_all_reference_files_were_found(reference: Path) -> None:
    assert len(_files(f"{REPORTING}/*/good/*.xml")) == 12
    assert len(_files(f"{REPORTING}/*/bad/*.xml")) == 16
    assert len(_files(f"{MLS_EXAMPLES}/MessageLevelStatus_Example_*.xml")) == 8


def test_our_compiled_rules_agree_with_the_official_ones(
    reference: Path, artefacts_home: Path
) -> None:
    """``--rules fast`` gives exactly the official findings on every report and MLS file."""
    from gateway.validation.schematron import SaxonCEngine

    official = Validator(artefacts_home, SaxonCEngine())
    fast = Validator(artefacts_home, SaxonCEngine(), rules="fast")
    files = [
        *_files(f"{REPORTING}/*/*/*.xml"),
        *_files(f"{MLS_EXAMPLES}/MessageLevelStatus_Example_*.xml"),
    ]
    for rel in files:
        xml = (reference / rel).read_bytes()
        want = sorted((f.rule_id, f.location) for f in official.validate(xml).findings)
        got = sorted((f.rule_id, f.location) for f in fast.validate(xml).findings)
        assert got == want, rel
