"""A signed UBL document still passes its official validation.

* The signed document passes the official UBL 2.1 XSD (the signature extension included: the
  XSD validates ``ds:Signature`` and the XAdES 1.3.2 properties inside UBLExtensions).
* Schematron (the official Peppol BIS 3 and PINT SG rules) passes on the signed content the
  verifier returns. On the signed document itself the only fatal findings are the "no empty
  elements" rule (PEPPOL-EN16931-R008 / ibr-079) on the signature's own empty XML-DSig elements
  (``ds:DigestMethod`` and the like, empty by the XML-DSig standard): Peppol rule sets do not
  expect document-level signatures, so those documents are validated before signing and
  their verified content after.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gateway.signing import Verifier
from gateway.signing.testpki import TestPki

from .signing_support import BILL_OF_LADING, signer_for

SIGNATURE_PATH = "/UBLExtensions[1]/UBLExtension[1]/ExtensionContent[1]/UBLDocumentSignatures[1]/"


def _schema(reference: Path, relative: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(reference / "oasis-ubl-2.1" / relative)))


def test_signed_documents_pass_ubl_xsd(
    pki: TestPki, reference: Path, bis_invoice: bytes, bis_credit_note: bytes
) -> None:
    cases = [
        (bis_invoice, "maindoc/UBL-Invoice-2.1.xsd"),
        (bis_credit_note, "maindoc/UBL-CreditNote-2.1.xsd"),
        (BILL_OF_LADING, "maindoc-transport-cs1/UBL-BillOfLading-2.1.xsd"),
    ]
    for which in ("signer_rsa", "signer_ec"):
        for document, xsd in cases:
            schema = _schema(reference, xsd)
            assert schema.validate(etree.fromstring(document)), schema.error_log
            signed = etree.fromstring(signer_for(pki, which).sign(document))
            assert schema.validate(signed), schema.error_log


@pytest.mark.slow
@pytest.mark.parametrize(
    ("example", "profile"),
    [
        ("openpeppol-peppol-bis-invoice-3/rules/examples/base-example.xml", "bis3"),
        (
            "openpeppol-pint-sg-1.4.1/trn-invoice/example/PINT-SG INV example 04 - none GST registered.xml",
            "pint-sg",
        ),
    ],
)
def test_signed_invoice_official_validation(
    pki: TestPki, reference: Path, artefacts_home: Path, example: str, profile: str
) -> None:
    from gateway.validation import Validator

    validator = Validator.default(artefacts_home)
    document = (reference / example).read_bytes()
    assert not validator.validate(document, profile).fatal
    signed = signer_for(pki).sign(document)
    report = validator.validate(signed, profile)
    assert not [f for f in report.findings if f.rule_id == "XSD"]
    for finding in report.fatals():
        assert finding.rule_id in {"PEPPOL-EN16931-R008", "ibr-079"}, finding
        assert SIGNATURE_PATH in finding.location and "/Signature[1]/" in finding.location
    content = Verifier(trust=[pki.root.cert], check_revocation=False).verify(signed).signed_xml
    assert not validator.validate(content, profile).fatal


@pytest.mark.slow
def test_signed_invoice_passes_full_en16931_validation(
    pki: TestPki, reference: Path, artefacts_home: Path
) -> None:
    """Where the rules admit a document signature (EN 16931 itself: UBL XSD + CEN Schematron),
    the signed document as it stands, signature included, has no fatal finding."""
    from gateway.validation import Validator

    validator = Validator.default(artefacts_home)
    examples = sorted(
        (reference / "connectingeurope-einvoicing-en16931/ubl/examples").glob("*.xml")
    )
    checked = 0
    for example in examples[:6]:
        document = example.read_bytes()
        if validator.validate(document, "en16931-ubl").fatal:
            continue
        signed = signer_for(pki).sign(document)
        assert b"UBLDocumentSignatures" in signed
        report = validator.validate(signed, "en16931-ubl")
        assert not report.fatal, (example.name, report.to_text())
        checked += 1
    assert checked >= 3
