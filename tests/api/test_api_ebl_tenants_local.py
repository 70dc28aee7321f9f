"""Several operators of one platform, transactions between their parties recorded here: the
shipper's tenant transfers the eBL to the forwarder (another tenant's party), the forwarder's
tenant asks the carrier to surrender it, and only the carrier's tenant answers (SREJ, then
SACC); the other tenants may not answer for the carrier."""

from __future__ import annotations

from pathlib import Path

from gateway.testing.pint import transport_document
from tests.api.test_api_ebls import SHARED, SHARED_PARTIES, platform_api, tenant_keys


async def test_a_surrender_between_tenants_of_one_platform(tmp_path: Path, reference: Path) -> None:
    async with platform_api(tmp_path, reference, SHARED, parties=SHARED_PARTIES) as (
        client,
        services,
    ):
        keys = await tenant_keys(services.store, "carrier-ops", "shipper-ops", "forwarder")
        document = transport_document(reference, "LOCALTEN01")
        issue = {"transportDocument": document, "to": "AEOT:SHIPPER"}
        held = await client.post("/v1/ebls", json=issue, headers=keys["carrier-ops"])
        assert held.status == 201, await held.text()
        path = "/v1/ebls/LOCALTEN01"

        async def act(tenant: str, body: dict[str, str]) -> tuple[int, dict[str, str]]:
            answer = await client.post(f"{path}/transfers", json=body, headers=keys[tenant])
            return answer.status, await answer.json()

        status, body = await act("shipper-ops", {"to": "AEOT:FORWARDER"})
        assert (status, body["possessor"]) == (200, "AEOT:AEOT/FORWARDER"), body
        status, _ = await act("shipper-ops", {"to": "AEOT:SHIPPER"})
        assert status == 403  # no longer the shipper's to transfer
        status, body = await act("forwarder", {"action": "SURRENDER_FOR_DELIVERY"})
        assert (status, body["possessor"]) == (200, "AEOT:AEOT/COSCO"), body
        for tenant in ("forwarder", "shipper-ops"):
            status, _ = await act(tenant, {"action": "SACC"})
            assert status == 403  # only the carrier's tenant answers
        status, body = await act("carrier-ops", {"action": "SREJ"})
        assert (status, body["state"], body["possessor"]) == (200, "held", "AEOT:AEOT/FORWARDER")
        status, body = await act("forwarder", {"action": "SURRENDER_FOR_DELIVERY"})
        assert status == 200, body
        status, body = await act("carrier-ops", {"action": "SACC"})
        assert (status, body["state"]) == (200, "surrendered"), body
        for tenant in ("carrier-ops", "shipper-ops", "forwarder"):
            seen = await client.get(path, headers=keys[tenant])
            assert seen.status == 200 and (await seen.json())["state"] == "surrendered"
