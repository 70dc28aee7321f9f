"""Never a crash on any input; values carried into UN/CEFACT; xmlsec1 (code we did not write)
verifies the XAdES signature of a UBL bill of lading."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.errors import LingangError
from gateway.flows.ebl_convert import EblTarget, check_ebl, convert_ebl
from gateway.signing.testpki import make_test_pki
from tests.conftest import require_tool
from tests.signing.signing_support import signer_for
from tests.signing.test_interop import xmlsec1_verify

REGULAR = "EBL_v3.0.3.transport-document.GET.200.reefer.json"
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)


def _try(data: bytes, home: Path) -> None:
    with contextlib.suppress(LingangError):
        check_ebl(data, home)


@FUZZ
@given(value=json_values)
def test_any_json_gives_a_typed_error(artefacts_home: Path, value: Any) -> None:
    _try(json.dumps(value).encode(), artefacts_home)


@FUZZ
@given(data=st.data())
def test_mutated_dcsa_gives_a_typed_error(
    artefacts_home: Path, ebl_inputs: dict[str, bytes], data: st.DataObject
) -> None:
    doc = json.loads(ebl_inputs[REGULAR])
    keys = sorted(doc)
    key = data.draw(st.sampled_from(keys))
    doc[key] = data.draw(json_values)
    _try(json.dumps(doc).encode(), artefacts_home)


@FUZZ
@given(data=st.data())
def test_mutated_ubl_gives_a_typed_error(
    artefacts_home: Path, ebl_inputs: dict[str, bytes], data: st.DataObject
) -> None:
    xml = bytearray(convert_ebl(ebl_inputs[REGULAR], EblTarget.UBL, artefacts_home).output)
    for _ in range(data.draw(st.integers(1, 5))):
        at = data.draw(st.integers(0, len(xml) - 1))
        xml[at] = data.draw(st.integers(0, 255))
    _try(bytes(xml), artefacts_home)


def test_uncefact_carries_the_values(artefacts_home: Path, ebl_inputs: dict[str, bytes]) -> None:
    source = json.loads(ebl_inputs[REGULAR])
    out = json.loads(convert_ebl(ebl_inputs[REGULAR], EblTarget.UNCEFACT, artefacts_home).output)
    consignment = out["specifiedConsignment"][0]
    ute = source["utilizedTransportEquipments"][0]
    equipment = consignment["utilizedLogisticsTransportEquipment"][0]
    assert equipment["id"]["content"] == ute["equipment"]["equipmentReference"]
    assert [s["id"][0]["content"] for s in equipment["affixedLogisticsSeal"]] == [
        s["number"] for s in ute["seals"]
    ]
    reefer = ute["activeReeferSettings"]
    setting = equipment["settingTransportSettingTemperature"][0]["value"]
    assert (setting["content"], setting["unitCode"]) == (
        str(reefer["temperatureSetpoint"]),
        reefer["temperatureUnit"],
    )
    cargo = source["consignmentItems"][0]["cargoItems"][0]
    item = consignment["includedConsignmentItem"][0]
    assert item["grossWeight"][0]["content"] == str(cargo["cargoGrossWeight"]["value"])
    assert consignment["carrier"]["id"][0]["content"] == source["carrierCode"]
    assert out["exchangedDocument"]["id"]["content"] == source["transportDocumentReference"]


@pytest.mark.parametrize("which", ["signer_rsa", "signer_ec"])
def test_xmlsec1_verifies_signed_bill_of_lading(
    artefacts_home: Path, ebl_inputs: dict[str, bytes], tmp_path: Path, which: str
) -> None:
    require_tool("xmlsec1")
    pki = make_test_pki(tmp_path / "pki")
    signer = signer_for(pki, which)
    result = convert_ebl(ebl_inputs[REGULAR], EblTarget.UBL, artefacts_home, sign_xml=signer.sign)
    verdict = xmlsec1_verify(pki, result.output, tmp_path)
    assert verdict.returncode == 0, verdict.stderr
    tampered = result.output.replace(b"<cbc:ToOrderIndicator>true", b"<cbc:ToOrderIndicator>false")
    assert tampered != result.output
    assert xmlsec1_verify(pki, tampered, tmp_path).returncode != 0
