"""Bad eBL input: a precise error naming the path and rule, never a crash, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.errors import (
    FieldError,
    InputError,
    UnknownFormatError,
    UnsafeInputError,
    ValidationFailed,
)
from gateway.flows.ebl_convert import EblTarget, check_ebl, convert_ebl
from gateway.ingest.types import IngestLimits
from gateway.readable.kinds.ebl import read_ebl

REGULAR = "EBL_v3.0.3.transport-document.GET.200.regular.json"


def _doc(ebl_inputs: dict[str, bytes]) -> dict:
    return json.loads(ebl_inputs[REGULAR])


def _findings(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str, str]]:
    return [(f.rule_id, f.location) for f in exc.value.report.findings]


def test_malformed_json(artefacts_home: Path) -> None:
    with pytest.raises(InputError) as exc:
        check_ebl(b'{"transportDocumentReference": ', artefacts_home)
    assert exc.value.rule == "json.syntax"


def test_duplicate_key(artefacts_home: Path) -> None:
    with pytest.raises(InputError) as exc:
        check_ebl(b'{"isToOrder": true, "isToOrder": false}', artefacts_home)
    assert exc.value.rule == "json.duplicate-key"


def test_not_an_ebl(artefacts_home: Path) -> None:
    with pytest.raises(UnknownFormatError):
        check_ebl(b'{"hello": "world"}', artefacts_home)
    with pytest.raises(UnknownFormatError):
        check_ebl(b"PDF-1.7", artefacts_home)


def test_schema_invalid_names_each_path(artefacts_home: Path, ebl_inputs: dict[str, bytes]) -> None:
    doc = _doc(ebl_inputs)
    del doc["consignmentItems"][0]["cargoItems"][0]["outerPackaging"]
    doc["utilizedTransportEquipments"][0]["seals"][0]["number"] = "X" * 40
    with pytest.raises(ValidationFailed) as exc:
        check_ebl(json.dumps(doc).encode(), artefacts_home)
    assert ("json-schema.required", "/consignmentItems/0/cargoItems/0") in _findings(exc)
    assert (
        "json-schema.maxLength",
        "/utilizedTransportEquipments/0/seals/0/number",
    ) in _findings(exc)


def test_wrong_enum(artefacts_home: Path, ebl_inputs: dict[str, bytes]) -> None:
    doc = _doc(ebl_inputs)
    doc["transportDocumentTypeCode"] = "BL"
    doc["consignmentItems"][0]["cargoItems"][0]["cargoGrossWeight"]["unit"] = "TON"
    with pytest.raises(ValidationFailed) as exc:
        check_ebl(json.dumps(doc).encode(), artefacts_home)
    assert ("json-schema.enum", "/transportDocumentTypeCode") in _findings(exc)
    assert (
        "json-schema.enum",
        "/consignmentItems/0/cargoItems/0/cargoGrossWeight/unit",
    ) in _findings(exc)


def test_oversized(artefacts_home: Path, ebl_inputs: dict[str, bytes]) -> None:
    limits = IngestLimits(max_input_bytes=1024)
    with pytest.raises(InputError) as exc:
        check_ebl(ebl_inputs[REGULAR], artefacts_home, limits)
    assert exc.value.rule == "input.max-bytes"


@pytest.mark.parametrize("number", ["1E-999999999", "1E+999999999", "1e99999999999999999999"])
@pytest.mark.parametrize("target", [EblTarget.UBL, EblTarget.UNCEFACT])
def test_number_beyond_any_weight(
    artefacts_home: Path, ebl_inputs: dict[str, bytes], number: str, target: EblTarget
) -> None:
    """A weight of ``1E-999999999`` passed the schema (a number above 0) and became a 1 GB
    UN/CEFACT document (a UBL one the validator refused only after building it);
    ``1E+999999999`` raised decimal.Overflow, ``1e99999999999999999999``
    decimal.InvalidOperation from the JSON parser. Now each is a json.number error naming
    the field, before the document is read."""
    text = ebl_inputs[REGULAR].decode("utf-8").replace('"value": 12000', f'"value": {number}', 1)
    assert number in text
    with pytest.raises(InputError) as exc:
        convert_ebl(text.encode(), target, artefacts_home)
    assert exc.value.rule == "json.number"
    assert exc.value.field == "consignmentItems[0].cargoItems[0].cargoGrossWeight.value"
    assert len(exc.value.message) < 300


def test_too_deep(artefacts_home: Path) -> None:
    with pytest.raises(UnsafeInputError) as exc:
        check_ebl(b"[" * 100 + b"]" * 100, artefacts_home)
    assert exc.value.rule == "json.max-depth"


def test_inconsistent_weights_and_references(
    artefacts_home: Path, ebl_inputs: dict[str, bytes]
) -> None:
    doc = _doc(ebl_inputs)
    cargo = doc["consignmentItems"][0]["cargoItems"][0]
    cargo["cargoNetWeight"] = {"value": 13000, "unit": "KGM"}
    cargo["equipmentReference"] = "MSKU0000000"
    with pytest.raises(ValidationFailed) as exc:
        check_ebl(json.dumps(doc).encode(), artefacts_home)
    assert (
        "ebl.net-over-gross",
        "/consignmentItems/0/cargoItems/0/cargoNetWeight/value",
    ) in _findings(exc)
    assert (
        "ebl.equipment-reference",
        "/consignmentItems/0/cargoItems/0/equipmentReference",
    ) in _findings(exc)


def test_sea_waybill_to_order(artefacts_home: Path, ebl_inputs: dict[str, bytes]) -> None:
    doc = _doc(ebl_inputs)
    doc["transportDocumentTypeCode"] = "SWB"
    with pytest.raises(ValidationFailed) as exc:
        check_ebl(json.dumps(doc).encode(), artefacts_home)
    assert ("ebl.swb-not-negotiable", "/isToOrder") in _findings(exc)


def _ubl(artefacts_home: Path, ebl_inputs: dict[str, bytes]) -> bytes:
    return convert_ebl(ebl_inputs[REGULAR], EblTarget.UBL, artefacts_home).output


def test_ubl_inconsistent_totals(artefacts_home: Path, ebl_inputs: dict[str, bytes]) -> None:
    xml = _ubl(artefacts_home, ebl_inputs)
    packages = xml.replace(b"<cbc:TotalPackagesQuantity>400<", b"<cbc:TotalPackagesQuantity>401<")
    with pytest.raises(InputError) as exc:
        check_ebl(packages, artefacts_home)
    assert exc.value.rule == "ebl.totals"
    assert exc.value.field == "/BillOfLading/cac:Shipment/cac:Consignment/cbc:TotalPackagesQuantity"
    weight = xml.replace(b'unitCode="KGM">12000<', b'unitCode="KGM">12001<', 1)
    with pytest.raises(InputError) as exc:
        check_ebl(weight, artefacts_home)
    assert exc.value.rule == "ebl.totals"


def test_ubl_not_xsd_valid(artefacts_home: Path, ebl_inputs: dict[str, bytes]) -> None:
    xml = _ubl(artefacts_home, ebl_inputs).replace(
        b"<cbc:ToOrderIndicator>", b"<cbc:Bogus/><cbc:ToOrderIndicator>"
    )
    with pytest.raises(ValidationFailed) as exc:
        check_ebl(xml, artefacts_home)
    assert exc.value.report.fatal


@pytest.mark.parametrize(
    "xml",
    [
        b'<!DOCTYPE x [<!ENTITY e "boom">]><BillOfLading xmlns="urn:oasis:names:specification:ubl:schema:xsd:BillOfLading-2">&e;</BillOfLading>',
        b"<BillOfLading>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</BillOfLading>",
        b"<BillOfLading",
    ],
    ids=["entity", "deep", "broken"],
)
def test_hostile_xml(artefacts_home: Path, xml: bytes) -> None:
    with pytest.raises(InputError):
        check_ebl(xml, artefacts_home)


@pytest.mark.parametrize("number", ["1E+100000", "1E+999999999", "NaN"])
def test_a_quantity_with_an_exponent_is_refused_naming_it(
    artefacts_home: Path, ebl_inputs: dict[str, bytes], number: str
) -> None:
    """The readable page reads a stored UBL bill of lading without the XSD: its reader took
    any Decimal, so ``1E+100000`` packages raised ValueError (an integer beyond Python's 4,300
    digits) and ``1E+999999999`` would build a billion-digit integer. xs:decimal has no
    exponent (XML Schema Part 2 §3.2.3); the reader now says so, naming the element. (Found
    once a UTF-16 bill of lading reached the reader.)"""
    text = convert_ebl(ebl_inputs[REGULAR], EblTarget.UBL, artefacts_home).output.decode("utf-8")
    start = text.index("<cbc:TotalPackagesQuantity>") + len("<cbc:TotalPackagesQuantity>")
    end = text.index("</cbc:TotalPackagesQuantity>")
    data = (text[:start] + number + text[end:]).encode("utf-8")
    with pytest.raises(FieldError) as caught:
        read_ebl(data)
    assert caught.value.field is not None
    assert caught.value.field.endswith("cbc:TotalPackagesQuantity")


@pytest.mark.parametrize("character", ["\u202e", "\u2067", "\u200b", "\u200f"])
def test_a_reference_that_shows_other_than_it_is_is_refused(
    artefacts_home: Path, ebl_inputs: dict[str, bytes], character: str
) -> None:
    """DCSA's pattern for a transportDocumentReference lets U+202E through: converted, the
    eBL was listed and shown under a reordered number. Unicode TR #36: now a fatal finding
    at /transportDocumentReference naming the character, as POST /v1/ebls refuses it."""
    doc = _doc(ebl_inputs)
    doc["transportDocumentReference"] = f"LG{character}0001"
    with pytest.raises(ValidationFailed) as exc:
        check_ebl(json.dumps(doc).encode(), artefacts_home)
    assert ("text.unsafe-character", "/transportDocumentReference") in _findings(exc)
    [finding] = [f for f in exc.value.report.findings if f.rule_id == "text.unsafe-character"]
    assert f"U+{ord(character):04X}" in finding.text
