"""What each eBL target can be: a sea waybill is no bill of lading, a carrier code from
SMDG's list is no SCAC, and a TradeTrust document names its real issuer or says it does not."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.errors import ConfigError, InputError
from gateway.flows.ebl_convert import (
    BILLS_OF_LADING_ONLY,
    EblTarget,
    check_ebl,
    convert_document,
    convert_ebl,
)
from gateway.flows.tools import ToolsSpec, load_tradetrust_issuer
from gateway.render.tradetrust_oa import (
    LOCAL_ISSUER,
    PLACEHOLDER_WARNING,
    configured_issuer,
    render_tradetrust_raw,
    scac_of,
)

REGULAR = "EBL_v3.0.3.transport-document.GET.200.regular.json"
REGISTRY = "0x" + "ab" * 20
ISSUER = configured_issuer(REGISTRY, "carrier.example.com", None, where="")


def _waybill(ebl_inputs: dict[str, bytes]) -> bytes:
    doc = json.loads(ebl_inputs[REGULAR])
    doc["transportDocumentTypeCode"] = "SWB"
    doc["isToOrder"] = False
    parties = doc["documentParties"]
    parties["consignee"] = {
        "partyName": "Lingang Trading Pte Ltd",
        "identifyingCodes": [{"codeListProvider": "ZZZ", "partyCode": "LINGANG-SG-1"}],
        "partyContactDetails": [{"name": "Tan", "email": "tan@example.sg"}],
    }
    return json.dumps(doc).encode()


@pytest.mark.parametrize("target", sorted(BILLS_OF_LADING_ONLY, key=str), ids=str)
def test_a_sea_waybill_is_refused_where_only_a_bill_of_lading_fits(
    artefacts_home: Path, ebl_inputs: dict[str, bytes], target: EblTarget
) -> None:
    checked = check_ebl(_waybill(ebl_inputs), artefacts_home)
    with pytest.raises(InputError) as refused:
        convert_document(checked, target, artefacts_home, issuer=ISSUER)
    assert refused.value.field == "/transportDocumentTypeCode"
    assert refused.value.rule == "ebl.bill-of-lading-only"
    assert "sea waybill" in refused.value.message


@pytest.mark.parametrize("target", [EblTarget.DCSA, EblTarget.UBL], ids=str)
def test_a_sea_waybill_still_converts_to_the_formats_that_carry_one(
    artefacts_home: Path, ebl_inputs: dict[str, bytes], target: EblTarget
) -> None:
    result = convert_ebl(_waybill(ebl_inputs), target, artefacts_home)
    assert result.output


def test_cli_names_why_a_waybill_has_no_uncefact_form(
    artefacts_home: Path,
    ebl_inputs: dict[str, bytes],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = tmp_path / "swb.json"
    source.write_bytes(_waybill(ebl_inputs))
    out = tmp_path / "swb.uncefact.json"
    assert main(["ebl", "convert", str(source), "--to", "uncefact", "-o", str(out)]) == 1
    assert not out.exists()
    assert "ebl.bill-of-lading-only" in capsys.readouterr().err


def test_an_smdg_carrier_code_is_not_written_as_a_scac(
    artefacts_home: Path, ebl_inputs: dict[str, bytes]
) -> None:
    doc = check_ebl(ebl_inputs[REGULAR], artefacts_home).document
    assert doc.carrier_code_list_provider == "SMDG"
    raw = render_tradetrust_raw(doc, ISSUER)
    assert raw.data["scac"] == ""
    assert any(
        w.startswith(f"/carrierCode: {doc.carrier_code} is a code of SMDG, not a SCAC")
        for w in raw.warnings
    )
    nmfta = dataclasses.replace(doc, carrier_code="MAEU", carrier_code_list_provider="NMFTA")
    assert scac_of(nmfta) == ("MAEU", None)
    assert render_tradetrust_raw(nmfta, ISSUER).data["scac"] == "MAEU"
    absent = dataclasses.replace(doc, carrier_code=None, carrier_code_list_provider=None)
    assert scac_of(absent) == ("", "/carrierCode: absent; TradeTrust scac left empty")


def test_the_placeholder_issuer_is_named_in_the_warnings(
    artefacts_home: Path, ebl_inputs: dict[str, bytes]
) -> None:
    placeholder = convert_ebl(ebl_inputs[REGULAR], EblTarget.TRADETRUST_OA, artefacts_home)
    assert PLACEHOLDER_WARNING in placeholder.warnings
    configured = convert_ebl(
        ebl_inputs[REGULAR], EblTarget.TRADETRUST_OA, artefacts_home, issuer=ISSUER
    )
    assert PLACEHOLDER_WARNING not in configured.warnings
    wrapped = json.loads(configured.output)
    assert REGISTRY in json.dumps(wrapped["data"]["issuers"])
    ubl = convert_ebl(ebl_inputs[REGULAR], EblTarget.UBL, artefacts_home)
    assert PLACEHOLDER_WARNING not in ubl.warnings


@pytest.mark.parametrize(
    ("registry", "dns", "chain", "field", "rule"),
    [
        ("0x123", None, None, "signing.token_registry", "tradetrust.registry"),
        (REGISTRY, "not a name", None, "signing.identity_dns", "tradetrust.identity-dns"),
        (REGISTRY, "carrier.example.com", "1e3", "signing.token_chain_id", "tradetrust.chain-id"),
    ],
)
def test_a_wrong_configured_issuer_stops_the_start(
    registry: str, dns: str | None, chain: str | None, field: str, rule: str
) -> None:
    with pytest.raises(InputError) as wrong:
        configured_issuer(registry, dns, chain, where="signing.")
    assert (wrong.value.field, wrong.value.rule) == (field, rule)
    spec = ToolsSpec(token_registry=registry, identity_dns=dns, token_chain_id=chain)
    with pytest.raises(ConfigError) as stops:
        load_tradetrust_issuer(spec)
    assert stops.value.field == field


def test_the_configured_issuer_reaches_the_tools() -> None:
    assert load_tradetrust_issuer(ToolsSpec()) == LOCAL_ISSUER
    spec = ToolsSpec(
        token_registry=REGISTRY, identity_dns="carrier.example.com", token_chain_id="8453"
    )
    issuer = load_tradetrust_issuer(spec)
    assert (issuer.token_registry, issuer.identity_location, issuer.chain_id) == (
        REGISTRY,
        "carrier.example.com",
        "8453",
    )
