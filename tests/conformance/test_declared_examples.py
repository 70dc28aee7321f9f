"""The official example files no other test runs, each as the profile it declares.

* ``rules/national-examples/*/`` of Peppol BIS Billing 3 (national authorities' files, GR and
  NO here) and the CEN repository's ``test/testfiles`` (Swedish BIS 3 samples, min/max
  content) declare ``urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:
  billing:3.0``: BIS Billing 3 (the ``bis3`` profile), compliant with EN 16931; the one TC 434
  test file declares plain EN 16931 (``en16931-ubl``).
* The CEN test files pass EN 16931 (the CEN rules they were written for) with no fatal
  finding: ``test_official_examples.py`` runs them with the other example sets.
* As declared (``bis3`` is BIS 3.0.21), every file must give exactly the fatal findings predicted here,
  independently of the rules: the identifier check-digit rules for each identifier whose check
  digit is wrong by its own algorithm (Luhn for Swedish organisation numbers, GS1 mod 10 for
  GLNs; the samples use made-up numbers), plus, for the two Greek files, their upstream
  defects (:data:`UPSTREAM_DEFECTS`). Nothing else may fire, and nothing predicted may be
  missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gateway.validation import Validator
from gateway.validation.schematron import SchematronEngine
from tests.conftest import reference_root

CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"
DECLARED_PROFILE = {
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0": "bis3",
    "urn:cen.eu:en16931:2017": "en16931-ubl",
}
"""CustomizationID (BT-24) → the profile that applies its rules."""

DECLARED_SETS = {
    "national": "openpeppol-peppol-bis-invoice-3/rules/national-examples/*/*.xml",
    "cen-testfiles": "connectingeurope-einvoicing-en16931/test/testfiles/*.xml",
}
"""Folders whose files declare their profile (globs in the reference mirror)."""

UPSTREAM_DEFECTS = {
    "GR-base-example-correct.xml": {"XSD"},
    "GR-base-example-TaxRepresentative.xml": {"XSD", "BR-06"},
}
"""Faults of the official files themselves, checked to be exactly these: both Greek files put
``cac:AdditionalDocumentReference`` after ``cac:AccountingCustomerParty`` (UBL 2.1's sequence
puts it before the parties: XSD), and the tax-representative one gives the seller no
``cbc:RegistrationName`` (BR-06, seller name)."""


def _ids(root: etree._Element, scheme: str) -> list[str]:
    """Identifiers of ``scheme`` where the Peppol ICD rules look: endpoints, party
    identifications and company ids."""
    paths = (
        f".//{CBC}EndpointID",
        f".//{CAC}PartyIdentification/{CBC}ID",
        f".//{CBC}CompanyID",
    )
    return [
        (e.text or "").strip()
        for path in paths
        for e in root.iterfind(path)
        if e.get("schemeID") == scheme
    ]


def luhn_ok(number: str) -> bool:
    """A Swedish organisation number: ten digits, the last a Luhn check digit."""
    if len(number) != 10 or not number.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def gs1_ok(number: str) -> bool:
    """A GLN (GS1 key): digits, the last the mod-10 check digit (weights 3, 1 from the right)."""
    if not number.isdigit() or len(number) < 2:
        return False
    body, check = number[:-1], int(number[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def predicted_fatals(root: etree._Element) -> set[str]:
    """The check-digit rules this document must break, from its identifiers alone."""
    rules: set[str] = set()
    if not all(luhn_ok(i) for i in _ids(root, "0007")):
        rules.add("PEPPOL-COMMON-R049")
    if not all(gs1_ok(i) for i in _ids(root, "0088")):
        rules.add("PEPPOL-COMMON-R040")
    seller = root.find(f"{CAC}AccountingSupplierParty/{CAC}Party")
    if (
        seller is not None
        and seller.findtext(f"{CAC}PostalAddress/{CAC}Country/{CBC}IdentificationCode") == "SE"
    ):
        legal = seller.findtext(f"{CAC}PartyLegalEntity/{CBC}CompanyID")
        if legal is not None and legal.strip().isdigit() and not luhn_ok(legal.strip()):
            rules.add("SE-R-013")
    return rules


def _params() -> list[object]:
    params: list[object] = []
    for group, pattern in DECLARED_SETS.items():
        paths = sorted(reference_root().glob(pattern))
        names = [str(p.relative_to(reference_root())) for p in paths] or ["<reference missing>"]
        params += [pytest.param(n, id=f"{group}/{Path(n).name}") for n in names]
    return params


@pytest.mark.parametrize("relative", _params())
def test_as_declared_only_the_predicted_fatals(
    reference: Path, engine_validator: Validator, relative: str
) -> None:
    data = (reference / relative).read_bytes()
    root = etree.fromstring(data)
    declared = DECLARED_PROFILE[(root.findtext(f"{CBC}CustomizationID") or "").strip()]
    report = engine_validator.validate(data)
    assert report.profile == declared
    fired = {f.rule_id for f in report.findings if f.flag == "fatal"}
    expected = UPSTREAM_DEFECTS.get(Path(relative).name, set()) | predicted_fatals(root)
    assert fired == expected, report.to_text()


@pytest.mark.parametrize("relative", _params())
def test_fast_form_finds_what_the_official_form_finds(
    reference: Path, artefacts_home: Path, schematron_engine: SchematronEngine, relative: str
) -> None:
    data = (reference / relative).read_bytes()
    official = Validator(artefacts_home, schematron_engine, "official").validate(data)
    fast = Validator(artefacts_home, schematron_engine, "fast").validate(data)
    assert fast.findings == official.findings


def test_the_check_digit_oracle() -> None:
    """The prediction's own algorithms, on known-good and known-bad numbers."""
    assert luhn_ok("5560360793") and not luhn_ok("5560360794")
    assert gs1_ok("7300010000001") and not gs1_ok("7300010000002")
    assert not luhn_ok("556036079") and not gs1_ok("73000A0000001")
