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


def _line_values(quantity: str, price: str) -> list[str]:
    """The schema's findings on one line's Quantity and UnPrice."""
    root = etree.fromstring(
        "<EInvoice><EInvoiceData><IssuItemInformation><ItemName>*a*b</ItemName>"
        f"<Quantity>{quantity}</Quantity><UnPrice>{price}</UnPrice>"
        "</IssuItemInformation></EInvoiceData></EInvoice>".encode()
    )
    return [
        f.message
        for f in schema_findings(root)
        if f.field and f.field.endswith(("/Quantity", "/UnPrice"))
    ]


@pytest.mark.parametrize(
    ("quantity", "price"),
    [("1", "4197.16981132075"), ("0.333333333333333333", "3000"), ("", ""), (" 2 ", "-1.5")],
)
def test_quantity_and_unit_price_take_any_decimals_up_to_25_characters(
    quantity: str, price: str
) -> None:
    """Real OFDs print unit prices such as 4197.16981132075 (FORMAT.md §2.1: varchar(25));
    the schema allowed 8 decimals, so --strict refused real fapiao."""
    assert _line_values(quantity, price) == []


@pytest.mark.parametrize(
    ("quantity", "price"), [("1", "4197.169811320754716981132"), ("one", "1"), ("1", "1e3")]
)
def test_quantity_and_unit_price_must_be_decimals_of_25_characters(
    quantity: str, price: str
) -> None:
    (message,) = _line_values(quantity, price)
    assert "25 characters" in message
