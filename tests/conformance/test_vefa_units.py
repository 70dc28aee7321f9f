"""Every official vefa unit test produces exactly its expected rule ids through our engine,
in both compiled forms: the official XSLT, and ours (``fast``), which must moreover give
exactly the official form's findings (rule ids, flags, locations, texts, in order).

As vefa does, only the Schematron under test runs (no XSD): the test documents are fragments.
Stylesheets are compiled once per worker (module-level cache in ``gateway.validation``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gateway.artefacts import require_files
from gateway.validation.fastrules import stylesheet_for
from gateway.validation.report import Finding
from gateway.validation.schematron import SchematronEngine
from tests.conformance.vefa import mismatches, read_cases
from tests.conftest import reference_root

# (folder in the reference mirror, artefact set, version, stylesheet, finding source)
SUITES = {
    "cen-ubl-invoice": (
        "connectingeurope-einvoicing-en16931/test/Invoice-unit-UBL",
        "cen-ubl",
        "1.3.16",
        "EN16931-UBL-validation.xslt",
        "cen-ubl",
    ),
    "cen-ubl-creditnote": (
        "connectingeurope-einvoicing-en16931/test/CreditNote-unit-UBL",
        "cen-ubl",
        "1.3.16",
        "EN16931-UBL-validation.xslt",
        "cen-ubl",
    ),
    "bis3-cen-ubl-invoice": (
        "connectingeurope-einvoicing-en16931/test/Invoice-unit-UBL",
        "peppol-bis3",
        "3.0.21",
        "CEN-EN16931-UBL.xslt",
        "cen-ubl",
    ),
    "bis3-cen-ubl-creditnote": (
        "connectingeurope-einvoicing-en16931/test/CreditNote-unit-UBL",
        "peppol-bis3",
        "3.0.21",
        "CEN-EN16931-UBL.xslt",
        "cen-ubl",
    ),
    "cen-cii": (
        "connectingeurope-einvoicing-en16931/test/cii",
        "cen-cii",
        "1.3.16",
        "EN16931-CII-validation.xslt",
        "cen-cii",
    ),
    "peppol-ubl-3.0.19": (
        "openpeppol-peppol-bis-invoice-3/rules/unit-UBL-PEPPOL",
        "peppol-bis3",
        "3.0.19",
        "PEPPOL-EN16931-UBL.xslt",
        "peppol-bis3",
    ),
    "peppol-ubl-3.0.21": (
        "openpeppol-peppol-bis-invoice-3/rules/unit-UBL-PEPPOL",
        "peppol-bis3",
        "3.0.21",
        "PEPPOL-EN16931-UBL.xslt",
        "peppol-bis3",
    ),
    "peppol-cii-3.0.19": (
        "openpeppol-peppol-bis-invoice-3/rules/unit-CII-PEPPOL",
        "peppol-bis3-sch",
        "3.0.19",
        "PEPPOL-EN16931-CII.sch",
        "peppol-bis3",
    ),
    "peppol-ubl-from-sch-3.0.19": (
        "openpeppol-peppol-bis-invoice-3/rules/unit-UBL-PEPPOL",
        "peppol-bis3-sch",
        "3.0.19",
        "PEPPOL-EN16931-UBL.sch",
        "peppol-bis3",
    ),
}
"""The ``bis3-cen-*`` suites run the CEN XSLT bundled with BIS 3.0.21 (the one the ``bis3``
profile applies) against the CEN tests. The two ``.sch`` suites run rules compiled by
``gateway.validation.schc``: the CII rules have no published XSLT, and the UBL run
cross-checks that compiler against the official XSLT's run."""

EXPECTED_CASES = {
    "cen-ubl-invoice": 915,
    "cen-ubl-creditnote": 216,
    "peppol-ubl-3.0.19": 221,
    "peppol-cii-3.0.19": 127,
}
"""Case counts named by the reference's SOURCES.md (1,131 CEN UBL, 221 PEPPOL UBL)."""


def _params() -> list[object]:
    params: list[object] = []
    for suite, (folder, *_rest) in SUITES.items():
        files = sorted((reference_root() / folder).glob("*.xml"))
        names = [f.name for f in files] or ["<reference missing>"]
        params += [pytest.param(suite, name, id=f"{suite}/{name}") for name in names]
    return params


def _cases_and_findings(
    engine: SchematronEngine, reference: Path, home: Path, suite: str, name: str, rules: str
) -> list[tuple[object, list[str]]]:
    folder, set_name, version, stylesheet, source = SUITES[suite]
    (path,) = require_files(set_name, version, [stylesheet], home)
    official = engine.compile(path)
    ours = engine.compile(stylesheet_for(path, rules, home))
    results = []
    for case in read_cases(reference / folder / name):
        document = etree.tostring(case.document)
        findings = engine.run(document, [(source, ours)])
        problems = mismatches(case, findings)
        if ours != official:
            expected = engine.run(document, [(source, official)])
            problems += differences(expected, findings)
        results.append((case.name, problems))
    return results


def differences(official: list[Finding], ours: list[Finding]) -> list[str]:
    """How our compiled form's findings differ from the official form's (empty: identical)."""
    if official == ours:
        return []
    return [f"official form found {official}, ours found {ours}"]


@pytest.mark.parametrize("rules", ["official", "fast"])
@pytest.mark.parametrize(("suite", "name"), _params())
def test_vefa_file(
    reference: Path,
    artefacts_home: Path,
    schematron_engine: SchematronEngine,
    suite: str,
    name: str,
    rules: str,
) -> None:
    results = _cases_and_findings(schematron_engine, reference, artefacts_home, suite, name, rules)
    assert results, f"{name} holds no test cases"
    failed = {case: problems for case, problems in results if problems}
    assert not failed, failed


@pytest.mark.parametrize("suite", sorted(EXPECTED_CASES))
def test_vefa_case_counts(reference: Path, suite: str) -> None:
    folder = reference / SUITES[suite][0]
    count = sum(len(read_cases(f)) for f in folder.glob("*.xml"))
    assert count == EXPECTED_CASES[suite]
