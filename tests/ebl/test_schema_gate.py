"""The Rust gate (jsonschema_rs) and the reference validator (jsonschema) agree, on valid
and on broken documents, for each schema the eBL conversions use."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from gateway.flows.ebl_convert import UNCEFACT_SCHEMA, EblTarget, convert_ebl
from gateway.ingest.safejson import load_json
from gateway.ingest.types import DEFAULT_LIMITS
from gateway.validation.dcsa_schema import DcsaKind, schema_ref
from gateway.validation.json_schema import SchemaRef, compiled, findings_of

REGULAR = "EBL_v3.0.3.transport-document.GET.200.dangerous-goods.json"


def _agree(instance: Any, ref: SchemaRef, home: Path) -> bool:
    schema = compiled(ref, home)
    assert schema.gate is not None
    valid = not findings_of(schema.explain, instance, ref.set_name)
    assert schema.gate.is_valid(instance) == valid
    return valid


def _mutations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for path, value in [
        (("transportDocumentTypeCode",), "XYZ"),
        (("isToOrder",), "yes"),
        (("shippedOnBoardDate",), "2023-02-30"),
        (("consignmentItems", 0, "HSCodes", 0), "12"),
        (("utilizedTransportEquipments", 0, "seals", 0, "number"), "S" * 16),
        (("transports", "portOfLoading", "UNLocationCode"), "dkaar"),
        (("consignmentItems", 0, "cargoItems", 0, "cargoGrossWeight", "value"), -1),
    ]:
        mutated = copy.deepcopy(doc)
        node: Any = mutated
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        out.append(mutated)
    return out


def test_dcsa_gate_agrees(artefacts_home: Path, ebl_inputs: dict[str, bytes]) -> None:
    ref = schema_ref(DcsaKind.TRANSPORT_DOCUMENT)
    doc = load_json(ebl_inputs[REGULAR], DEFAULT_LIMITS, "eBL")
    assert _agree(doc, ref, artefacts_home)
    for mutated in _mutations(doc):
        assert not _agree(mutated, ref, artefacts_home)


@pytest.mark.parametrize(
    "name", sorted({REGULAR, "EBL_v3.0.3.transport-document.GET.200.reefer.json"})
)
def test_uncefact_gate_agrees(
    artefacts_home: Path, ebl_inputs: dict[str, bytes], name: str
) -> None:
    data = json.loads(convert_ebl(ebl_inputs[name], EblTarget.UNCEFACT, artefacts_home).output)
    assert _agree(data, UNCEFACT_SCHEMA, artefacts_home)
    broken = copy.deepcopy(data)
    broken["exchangedDocument"]["typeCode"]["content"] = "705"
    assert not _agree(broken, UNCEFACT_SCHEMA, artefacts_home)
    broken = copy.deepcopy(data)
    broken["specifiedConsignment"][0]["grossWeight"][0]["content"] = "12,5"
    assert not _agree(broken, UNCEFACT_SCHEMA, artefacts_home)


def test_mirror_only_sets_are_skipped_by_a_plain_sync(tmp_path: Path) -> None:
    """``lingang artefacts sync`` without a mirror must not fail on the derived DCSA
    schemas (no upstream URL): it skips them, naming the command that installs them."""
    from gateway.artefacts import load_manifest
    from gateway.artefacts.sync import sync

    manifest = load_manifest()
    result = sync(tmp_path, manifest=manifest, names=["dcsa-ebl"])
    assert result.installed == []
    assert result.skipped == ["dcsa-ebl/3.0.3 (mirror only: lingang artefacts import)"]
