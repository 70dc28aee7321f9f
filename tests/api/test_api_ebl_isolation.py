"""eBLs of one platform that several tenants operate, each for its own parties: a tenant
whose parties take no part in an eBL gets, for every eBL route and transfer action, exactly
the answer it gets for a reference nobody issued (by reference and by checksum), and the
eBL is left as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway.testing.pint import transport_document
from tests.api.test_api_ebls import SHARED, SHARED_PARTIES, platform_api, tenant_keys

NOBODYS = "NOBODY00001"
"""A transport document reference nobody issued."""
ACTIONS = (
    "TRANSFER", "ENDORSE", "ENDORSE_TO_ORDER", "BLANK_ENDORSE", "SIGN",
    "SURRENDER_FOR_DELIVERY", "SURRENDER_FOR_AMENDMENT", "SACC", "SREJ",
)  # fmt: skip


def _answer(status: int, raw: bytes, key: str) -> tuple[int, Any]:
    text = raw.decode("utf-8", "replace").replace(key, "KEY")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


async def test_an_ebl_no_party_of_the_tenant_takes_part_in_looks_unissued(
    tmp_path: Path, reference: Path
) -> None:
    async with platform_api(tmp_path, reference, SHARED, parties=SHARED_PARTIES) as (
        client,
        services,
    ):
        keys = await tenant_keys(services.store, "carrier-ops", "shipper-ops", "forwarder")
        issue = {
            "transportDocument": transport_document(reference, "ISOEBL0001"),
            "to": "AEOT:SHIPPER",
        }
        issued = await client.post("/v1/ebls", json=issue, headers=keys["carrier-ops"])
        assert issued.status == 201, await issued.text()
        checksum = (await issued.json())["checksum"]
        before = await (await client.get("/v1/ebls/ISOEBL0001", headers=keys["shipper-ops"])).read()
        requests: list[tuple[str, str, dict[str, Any] | None]] = [("GET", "/v1/ebls/{}", None)]
        for action in ACTIONS:
            for to in ("IQAX:BUYER", "AEOT:FORWARDER", None):
                body = {"action": action} | ({} if to is None else {"to": to})
                requests.append(("POST", "/v1/ebls/{}/transfers", body))
        for method, path, body in requests:
            for theirs in ("ISOEBL0001", checksum):
                answers = []
                for key in (theirs, NOBODYS):
                    kw = {} if body is None else {"json": body}
                    async with client.request(
                        method, path.format(key), headers=keys["forwarder"], **kw
                    ) as response:
                        answers.append(_answer(response.status, await response.read(), key))
                assert answers[0] == answers[1], (method, path, body, theirs)
                assert answers[0][0] in (404, 422), answers[0]
        listed = await (await client.get("/v1/ebls", headers=keys["forwarder"])).json()
        assert listed == {"items": [], "count": 0, "next": None}
        after = await (await client.get("/v1/ebls/ISOEBL0001", headers=keys["shipper-ops"])).read()
        assert after == before
