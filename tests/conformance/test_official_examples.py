"""Every official example passes our engine (XSD + Schematron) with zero fatal findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.validation import Validator
from gateway.validation.schematron import SchematronEngine
from tests.conftest import reference_root

# (glob in the reference mirror, profile to apply; None = detected from the document)
EXAMPLE_SETS = {
    "bis3-3.0.19": ("openpeppol-peppol-bis-invoice-3/rules/examples/*.xml", None),
    "bis3-3.0.21": (
        "phax-phive-rules/openpeppol-billing-3.0.21-2026.5/examples/billing/*.xml",
        None,
    ),
    "bis3-selfbilling": (
        "phax-phive-rules/openpeppol-billing-3.0.21-2026.5/examples/selfbilling/*.xml",
        None,
    ),
    "pint-sg": ("openpeppol-pint-sg-1.4.1/trn-invoice/example/*.xml", None),
    "en16931-ubl": ("connectingeurope-einvoicing-en16931/ubl/examples/*", "en16931-ubl"),
    "en16931-cii": ("connectingeurope-einvoicing-en16931/cii/examples/*.xml", None),
    "en16931-testfiles": (
        "connectingeurope-einvoicing-en16931/test/testfiles/*.xml",
        "en16931-ubl",
    ),
}
"""``en16931-testfiles``: the CEN repository's own test files under the CEN rules they were
written for; as the profile each declares (BIS 3) see ``test_declared_examples.py``."""

EXPECTED_PROFILE = {
    "bis3-3.0.19": "bis3",
    "bis3-3.0.21": "bis3",
    "bis3-selfbilling": "bis3-selfbilling",
    "pint-sg": "pint-sg",
    "en16931-ubl": "en16931-ubl",
    "en16931-cii": "cii",
    "en16931-testfiles": "en16931-ubl",
}


def _params() -> list[object]:
    params: list[object] = []
    for group, (pattern, _profile) in EXAMPLE_SETS.items():
        names = sorted(p.name for p in reference_root().glob(pattern)) or ["<reference missing>"]
        params += [pytest.param(group, n, id=f"{group}/{n}") for n in names]
    return params


@pytest.mark.parametrize(("group", "name"), _params())
def test_official_example_has_no_fatal(
    reference: Path, engine_validator: Validator, group: str, name: str
) -> None:
    pattern, profile = EXAMPLE_SETS[group]
    path = reference / Path(pattern).parent / name
    report = engine_validator.validate(path.read_bytes(), profile)
    assert report.profile == EXPECTED_PROFILE[group]
    assert not report.fatal, report.to_text()


@pytest.mark.parametrize(("group", "name"), _params())
def test_fast_form_finds_what_the_official_form_finds(
    reference: Path,
    artefacts_home: Path,
    schematron_engine: SchematronEngine,
    group: str,
    name: str,
) -> None:
    """Every finding (warnings too), in order, the same from our compiled form."""
    pattern, profile = EXAMPLE_SETS[group]
    data = (reference / Path(pattern).parent / name).read_bytes()
    official = Validator(artefacts_home, schematron_engine, "official").validate(data, profile)
    fast = Validator(artefacts_home, schematron_engine, "fast").validate(data, profile)
    assert fast.findings == official.findings


def test_pint_sg_has_sixteen_examples(reference: Path) -> None:
    assert len(list(reference.glob(EXAMPLE_SETS["pint-sg"][0]))) == 16


def test_pint_examples_pass_plain_pint(reference: Path, artefacts_home: Path) -> None:
    """PINT-SG documents also satisfy the international PINT rules on their own."""
    validator = Validator.default(artefacts_home)
    for path in sorted(reference.glob(EXAMPLE_SETS["pint-sg"][0])):
        report = validator.validate(path.read_bytes(), "pint")
        assert not report.fatal, report.to_text()
