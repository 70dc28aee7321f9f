"""Every fapiao sample, converted to every profile, passes the official validators and keeps
the fapiao's totals (in CNY, or converted consistently)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from gateway.convert import convert
from gateway.errors import UnknownFormatError
from gateway.partners import PartnerDirectory
from gateway.validation import Validator

REPO = Path(__file__).resolve().parents[2]
PARTNERS = REPO / "tests" / "data" / "partners.toml"
PROFILES = ("pint-sg", "bis3", "pint", "cii", "bis3-cii")


def _samples(reference: Path) -> list[Path]:
    ref = reference / "fapiao" / "samples"
    found = sorted(ref.glob("xml/*.xml")) + sorted(ref.glob("ofd/*.ofd"))
    own = REPO / "gateway" / "samples"
    if own.is_dir():
        found += sorted(p for p in own.iterdir() if p.suffix in {".xml", ".ofd", ".json", ".zip"})
    return found


@pytest.mark.slow
@pytest.mark.xdist_group("engc-validator")
@pytest.mark.parametrize("profile", PROFILES)
def test_every_sample_converts_without_fatal_findings(
    reference: Path, artefacts_home: Path, profile: str
) -> None:
    directory = PartnerDirectory.load(PARTNERS)
    validator = Validator.default(artefacts_home)
    failures: dict[str, object] = {}
    converted = 0
    for path in _samples(reference):
        try:
            result = convert(path.read_bytes(), profile, directory)
        except UnknownFormatError as exc:
            if "not available yet" in str(exc):
                continue
            raise
        converted += 1
        report = validator.validate(result.xml, profile)
        if report.fatal:
            failures[path.name] = [(f.rule_id, f.text[:120]) for f in report.fatals()]
        _check_totals(result.invoice, result.parsed.invoice, path.name)
    assert failures == {}
    assert converted >= 3


def _check_totals(out: object, src: object, name: str) -> None:
    from gateway.model import Invoice

    assert isinstance(out, Invoice) and isinstance(src, Invoice)
    gross = abs(src.totals.tax_inclusive)
    if out.currency == "CNY":
        assert out.totals.payable == gross, name
        if out.profile != "pint-sg":
            assert out.totals.tax_exclusive == abs(src.totals.tax_exclusive), name
    else:
        assert out.exchange_rate is not None
        cent = Decimal("0.01")
        assert out.totals.payable == (gross / out.exchange_rate).quantize(cent, ROUND_HALF_UP), name
        if out.tax_currency == "CNY":
            assert out.totals.tax_in_accounting_currency == abs(src.totals.tax), name
