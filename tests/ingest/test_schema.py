"""The project's own 数电票 XSD: accepts the structure of every staged sample, explains errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gateway.ingest.xsd import einvoice_schema, schema_findings
from gateway.samples import sample_paths

STRUCTURAL = ("Missing child", "is not expected", "This element is not expected")


@pytest.mark.parametrize(
    "name",
    [
        "invoice-precheck_official-gd-special.xml",
        "invoice-precheck_gaode-js-taxi.xml",
        "sta-spec-v5.002_example-template_v0.35.xml",
    ],
)
def test_reference_samples_are_structurally_valid(reference: Path, name: str) -> None:
    root = etree.parse(str(reference / "fapiao/samples/xml" / name)).getroot()
    findings = schema_findings(root)
    assert not [f for f in findings if any(s in f.message for s in STRUCTURAL)]
    if name.startswith("sta-spec"):  # a template: labels where values belong
        assert {f.field for f in findings} == {
            "EInvoiceData/SellerInformation/SellerIdNum",
            "EInvoiceData/BuyerInformation/BuyerIdNum",
            "EInvoiceData/SpecificInformation/DifferentialTaxation/Deduction",
            "EInvoiceData/SpecificInformation/DifferentialTaxation/SalesIncludingTax",
            "EInvoiceData/SpecificInformation/RedEInvoice/OriginalInvoiceCode",
        }
    elif "official" in name:
        assert findings == []


def test_own_xml_samples_are_valid() -> None:
    for path in sample_paths():
        if path.suffix == ".xml":
            assert einvoice_schema().validate(etree.parse(str(path))), path.name


def test_findings_name_the_element_and_the_expectation() -> None:
    root = etree.fromstring(
        b"<EInvoice><Header><EIid>1</EIid></Header><EInvoiceData><BasicInformation>"
        b"<TotalTaxAm>abc</TotalTaxAm></BasicInformation></EInvoiceData></EInvoice>"
    )
    findings = {f.field: f.message for f in schema_findings(root)}
    assert "Expected a decimal amount" in findings["EInvoiceData/BasicInformation/TotalTaxAm"]
    assert "Expected the 20-digit invoice number" in findings["Header/EIid"]
    assert "Expected is one of ( EInvoiceTag" in findings["Header"]
    assert "TaxSupervisionInfo" in findings["EInvoice"]
