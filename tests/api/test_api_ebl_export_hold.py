"""A transfer the export gate holds, as ``/v1/ebls`` answers it: ``exportHold`` says so under
a name of its own, since the registry's ``held`` (``GET /v1/ebls?state=held``) is possession
and such an eBL is ``sending``; ``state: held`` and ``reason`` stay for one major version."""

from __future__ import annotations

from pathlib import Path

from gateway.api.openapi import openapi_document
from gateway.testing.pint import transport_document
from tests.api.ebl_live import ebl_platforms

APPROVAL = """version = "zone-1"

[[negative]]
id = "ebl-personal"
effect = "approval"
platforms = ["dcsa-pint"]
categories = ["personal"]
"""


async def test_a_transfer_the_gate_holds_is_an_export_hold_not_a_held_ebl(
    tmp_path: Path, reference: Path, store_url: str
) -> None:
    async with ebl_platforms(tmp_path, reference, store_url) as live:
        (tmp_path / "policy.toml").write_text(APPROVAL, encoding="utf-8")
        config = live.aeot.config
        policy = f"\n[policy]\nfile = {str(tmp_path / 'policy.toml')!r}\n"
        config.write_text(config.read_text() + policy)
        async with live.replica() as api:
            document = transport_document(reference, "HOLD0001")
            status, _, sent = await live.call(
                api, "POST", "/v1/ebls", json={"transportDocument": document, "to": "IQAX:BUYER"}
            )
            assert status == 202, sent
            reason = sent["exportHold"]["reason"]
            assert "ebl-personal" in reason
            assert (sent["state"], sent["reason"]) == ("held", reason)  # kept, deprecated
            status, _, history = await live.call(api, "GET", "/v1/ebls/HOLD0001")
            assert history["state"] == "sending"
            (transfer,) = history["transfers"]
            assert transfer["exportHold"] == {"reason": reason} and transfer["held"] == reason
            status, _, listed = await live.call(api, "GET", "/v1/ebls?state=held")
            assert listed["items"] == []

            here = transport_document(reference, "HOLD0002")
            status, _, issued = await live.call(
                api, "POST", "/v1/ebls", json={"transportDocument": here, "to": "AEOT:SHIPPER"}
            )
            assert (status, issued["state"]) == (201, "held")
            status, _, moved = await live.call(
                api,
                "POST",
                "/v1/ebls/HOLD0002/transfers",
                json={"to": "IQAX:BUYER", "action": "TRANSFER"},
            )
            assert status == 202 and moved["exportHold"]["reason"], moved


def test_the_api_documents_export_hold_and_the_deprecated_held() -> None:
    schemas = openapi_document()["components"]["schemas"]
    accepted = schemas["EblTransferAccepted"]["properties"]
    assert "exportHold" in accepted and accepted["reason"].get("deprecated") is True
    assert "deprecated" in accepted["state"]["description"].lower()
    transfer = schemas["EblHistory"]["properties"]["transfers"]["items"]["properties"]
    assert "exportHold" in transfer and transfer["held"].get("deprecated") is True
