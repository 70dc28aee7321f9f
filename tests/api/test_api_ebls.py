"""``/v1/ebls`` over real services with a ``dcsa_pint`` adapter: issue, transfer, history,
only for the tenants the adapter names; bad requests are specific problems."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.api import create_app
from gateway.errors import ConfigError
from gateway.service import Services, open_services
from gateway.settings import Settings
from gateway.store.ledger import LedgerStore
from gateway.testing.cluster import free_port
from gateway.testing.pint import platform, transport_document, write_platform_homes
from gateway.testing.tls import make_tls


@asynccontextmanager
async def platform_api(
    tmp_path: Path,
    reference: Path,
    tenants: str,
    *,
    parties: str | None = None,
    options: str = "",
) -> AsyncIterator[tuple[TestClient[Any, Any], Services]]:
    """The API over a gateway running platform AEOT (carrier COSCO, party SHIPPER) with the
    adapter's ``tenants`` option set to ``tenants`` (TOML), given, its ``parties`` and any
    further ``options`` (TOML lines); IQAX (party BUYER) is its partner."""
    tls = make_tls(tmp_path / "tls")
    platforms = [
        platform("AEOT", "ed25519", "SHIPPER", carrier=True),
        platform("IQAX", "p256", "BUYER"),
    ]
    homes = write_platform_homes(
        tmp_path, platforms, reference_root=reference, tls=tls, ports=[free_port(), free_port()]
    )
    config = homes[0].config
    text = config.read_text().replace(
        "timeout = 10.0\n", f"timeout = 10.0\ntenants = {tenants}\n{options}", 1
    )
    if parties is not None:
        text = re.sub(r"(?m)^parties = .*$", f"parties = {parties}", text, count=1)
    config.write_text(text)
    services = await open_services(Settings.load(config))
    client = TestClient(TestServer(create_app(services)))
    await client.start_server()
    try:
        yield client, services
    finally:
        await client.close()
        await services.close()


@pytest.fixture
async def api(
    tmp_path: Path, reference: Path
) -> AsyncIterator[tuple[TestClient[Any, Any], dict[str, str]]]:
    async with platform_api(tmp_path, reference, '["operator"]') as (client, services):
        await services.store.create_tenant("Carrier ops", tenant_id="operator")
        await services.store.create_tenant("Someone else", tenant_id="other")
        keys = {
            "operator": (await services.store.issue_api_key("operator"))[0],
            "other": (await services.store.issue_api_key("other"))[0],
        }
        yield client, keys


async def test_issue_transfer_and_history(api: Any, reference: Path) -> None:
    client, keys = api
    auth = {"Authorization": f"Bearer {keys['operator']}"}
    document = transport_document(reference, "APIEBL0001")
    held = await client.post(
        "/v1/ebls", json={"transportDocument": document, "to": "AEOT:SHIPPER"}, headers=auth
    )
    assert held.status == 201, await held.text()
    assert (await held.json())["state"] == "held"
    typo = await client.post(
        "/v1/ebls/APIEBL0001/transfers",
        json={"to": "IQAX:BUYER", "actoin": "SURRENDER_FOR_DELIVERY", "forward": True},
        headers=auth,
    )
    assert typo.status == 422, await typo.text()
    assert [(e["field"], e["rule"]) for e in (await typo.json())["errors"]] == [
        ("actoin", "unknown-field"),
        ("forward", "unknown-field"),
    ]
    assert (await (await client.get("/v1/ebls/APIEBL0001", headers=auth)).json())["state"] == "held"
    pdf = base64.b64encode(b"%PDF-1.7 invoice").decode()
    sent = await client.post(
        "/v1/ebls/APIEBL0001/transfers",
        json={"to": "IQAX:BUYER", "documents": [{"name": "invoice.pdf", "content": pdf}]},
        headers=auth,
    )
    assert sent.status == 202, await sent.text()
    assert (await sent.json())["to"] == "IQAX"
    history = await client.get("/v1/ebls/APIEBL0001", headers=auth)
    body = await history.json()
    assert body["state"] == "sending" and [e["platform"] for e in body["chain"]] == ["AEOT"]
    again = await client.post(
        "/v1/ebls/APIEBL0001/transfers", json={"to": "IQAX:BUYER"}, headers=auth
    )
    assert again.status == 409 and "no control" in (await again.json())["detail"]


async def test_only_the_named_tenants_operate_the_platform(api: Any, reference: Path) -> None:
    client, keys = api
    other = {"Authorization": f"Bearer {keys['other']}"}
    document = transport_document(reference, "APIEBL0002")
    refused = await client.post(
        "/v1/ebls", json={"transportDocument": document, "to": "AEOT:SHIPPER"}, headers=other
    )
    assert refused.status == 404
    assert (await client.get("/v1/ebls/APIEBL0002", headers=other)).status == 404
    assert (await client.get("/v1/ebls/APIEBL0002")).status == 401


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"not json", 422, "body"),
        (b"[1]", 422, "body"),
        (json.dumps({"transportDocument": {}}).encode(), 422, "to"),
        (json.dumps({"transportDocument": {}, "to": "nocolon"}).encode(), 422, "to"),
        # a lone surrogate cannot be stored (once a 500); DCSA bounds party codes and names
        (b'{"transportDocument": {}, "to": "IQAX:\\ud800"}', 422, "to"),
        (
            b'{"transportDocument": {"transportDocumentReference": "\\udfff"}, "to": "A:B"}',
            422,
            "transportDocument.transportDocumentReference",
        ),
        (json.dumps({"transportDocument": {}, "to": "IQAX:" + "x" * 151}).encode(), 422, "to"),
        (
            b'{"transportDocument": {"shipper": "a\\u0000b"}, "to": "A:B"}',
            422,
            "transportDocument.shipper",
        ),
        (
            json.dumps({"transportDocument": {}, "to": "IQAX:X", "name": "n" * 71}).encode(),
            422,
            "name",
        ),
        (b'{"transportDocument": ' + b"[" * 33 + b"]" * 33 + b"}", 422, "body"),
        # the carrier's visualisation under another spelling was dropped from the manifest
        (
            json.dumps(
                {"transportDocument": {}, "to": "AEOT:SHIPPER", "visualization": {}}
            ).encode(),
            422,
            "visualization",
        ),
        (json.dumps({"transportDocument": {}, "to": "IQAX:X", "name": 5}).encode(), 422, "name"),
        # which holder, which reference? JSON kept the last; RFC 8785 takes I-JSON only
        (b'{"transportDocument": {}, "to": "AEOT:SHIPPER", "to": "IQAX:BUYER"}', 422, "to"),
        (
            b'{"transportDocument": {"transportDocumentReference": "A", '
            b'"transportDocumentReference": "B"}, "to": "AEOT:SHIPPER"}',
            422,
            "transportDocumentReference",
        ),
        # a partyName DCSA refuses would lock the eBL only for the receiver to answer BENV
        (
            json.dumps({"transportDocument": {}, "to": "IQAX:X", "name": " Bank "}).encode(),
            422,
            "name",
        ),
        (
            json.dumps({"transportDocument": {}, "to": "IQAX:X", "name": "A\nB"}).encode(),
            422,
            "name",
        ),
        (json.dumps({"transportDocument": {}, "to": "IQAX:" + "x" * 71}).encode(), 422, "name"),
        (
            json.dumps({"transportDocument": {"isToOrder": "yes"}, "to": "AEOT:SHIPPER"}).encode(),
            422,
            "$",
        ),
        (
            json.dumps(
                {
                    "transportDocument": {},
                    "to": "AEOT:X",
                    "documents": [{"name": "a", "content": "!!"}],
                }
            ).encode(),
            422,
            "documents[0].content",
        ),
    ],
)
async def test_bad_requests_name_the_field(api: Any, body: bytes, status: int, field: str) -> None:
    client, keys = api
    headers = {"Authorization": f"Bearer {keys['operator']}", "Content-Type": "application/json"}
    response = await client.post("/v1/ebls", data=body, headers=headers)
    assert response.status == status, await response.text()
    problem = await response.json()
    assert any(str(e.get("field", "")).startswith(field) for e in problem["errors"]), problem


def test_the_api_documents_every_transfer_action() -> None:
    """``POST /v1/ebls/{reference}/transfers`` takes every PINT action code but ISSUE
    (SACC / SREJ: the carrier answering a surrender request)."""
    from gateway.api.openapi import openapi_document
    from gateway.pint.codes import ActionCode

    schemas = openapi_document()["components"]["schemas"]
    (documented,) = [
        schema["properties"]["action"]["enum"]
        for schema in schemas.values()
        if "action" in schema.get("properties", {})
    ]
    assert set(documented) == {a.value for a in ActionCode} - {"ISSUE"}


async def test_only_an_operator_sees_the_registry_on_a_documents_page(
    api: Any, reference: Path
) -> None:
    """Anyone may upload a document naming another's eBL reference; the registry's state,
    possessor and chain for it are shown only to a tenant that operates the platform."""
    from gateway.api.context import SERVICES

    client, keys = api
    operator = {"Authorization": f"Bearer {keys['operator']}"}
    document = transport_document(reference, "APIEBL0003")
    held = await client.post(
        "/v1/ebls", json={"transportDocument": document, "to": "AEOT:SHIPPER"}, headers=operator
    )
    assert held.status == 201, await held.text()
    store = client.server.app[SERVICES].store
    pages = {}
    for who in ("operator", "other"):
        submission, _ = await store.create_submission(
            who, json.dumps(document).encode(), content_type="application/json",
            metadata={"kind": "ebl"},
        )  # fmt: skip
        await store.record_event(
            submission.id, "converted", detail={"document_number": "APIEBL0003"}
        )
        view = await client.get(
            f"/v1/documents/{submission.id}/view",
            headers={"Authorization": f"Bearer {keys[who]}"},
        )
        assert view.status == 200
        pages[who] = await view.text()
    assert "<code>ISSUE</code>" in pages["operator"] and "AEOT/SHIPPER" in pages["operator"]
    assert "<code>ISSUE</code>" not in pages["other"] and "AEOT/SHIPPER" not in pages["other"]


async def test_a_transfer_says_whether_to_forward_the_documents(api: Any, reference: Path) -> None:
    """``forwardDocuments`` is a boolean (else 422 naming it); what the eBL carries is in its
    history, with the carrier's visualisation given at issue and where each came from."""
    client, keys = api
    auth = {"Authorization": f"Bearer {keys['operator']}"}
    pdf = base64.b64encode(b"%PDF-1.7 invoice 4").decode()
    held = await client.post(
        "/v1/ebls",
        json={
            "transportDocument": transport_document(reference, "APIEBL0004"),
            "to": "AEOT:SHIPPER",
            "documents": [{"name": "invoice.pdf", "content": pdf}],
            "visualisation": {
                "name": "B-L APIEBL0004.png",
                "mediaType": "image/png",
                "content": base64.b64encode(b"\x89PNG the B/L").decode(),
            },
        },
        headers=auth,
    )
    assert held.status == 201, await held.text()
    history = await (await client.get("/v1/ebls/APIEBL0004", headers=auth)).json()
    assert sorted(
        (d["name"], d["mediaType"], d["size"], d["origin"]) for d in history["documents"]
    ) == [
        ("B-L APIEBL0004.png", "image/png", 12, "attached"),
        ("invoice.pdf", "application/pdf", 18, "attached"),
    ]
    refused = await client.post(
        "/v1/ebls/APIEBL0004/transfers",
        json={"to": "IQAX:BUYER", "forwardDocuments": "no"},
        headers=auth,
    )
    assert refused.status == 422
    assert [e["field"] for e in (await refused.json())["errors"]] == ["forwardDocuments"]
    sent = await client.post(
        "/v1/ebls/APIEBL0004/transfers",
        json={"to": "IQAX:BUYER", "forwardDocuments": False},
        headers=auth,
    )
    assert sent.status == 202, await sent.text()


SHARED = '{ carrier-ops = ["COSCO"], shipper-ops = ["SHIPPER"], forwarder = ["FORWARDER"] }'
"""Three tenants operating one platform, each acting for its own party."""
SHARED_PARTIES = '{ SHIPPER = "Shipper Ltd", FORWARDER = "Forwarder Ltd" }'


async def tenant_keys(store: Any, *names: str) -> dict[str, dict[str, str]]:
    """Make each named tenant (its id its name) and give back its request headers (a
    submitting key)."""
    keys = {}
    for name in names:
        await store.create_tenant(name, tenant_id=name)
        keys[name] = {"Authorization": f"Bearer {(await store.issue_api_key(name))[0]}"}
    return keys


async def test_operators_of_one_platform_act_only_for_their_own_parties(
    tmp_path: Path, reference: Path
) -> None:
    """The carrier's tenant issues an eBL to the shipper; only the shipper's tenant (the
    possessor's) transfers it; the carrier's tenant reads it (its carrier takes part) but
    may not transfer it; the forwarder's tenant, whose party takes no part, cannot even see
    it (404, as for no eBL at all). The transfer is the shipper tenant's export."""
    async with platform_api(tmp_path, reference, SHARED, parties=SHARED_PARTIES) as (
        client,
        services,
    ):
        keys = await tenant_keys(services.store, "carrier-ops", "shipper-ops", "forwarder")
        document = transport_document(reference, "APIEBL0101")
        issue = {"transportDocument": document, "to": "AEOT:SHIPPER"}
        refused = await client.post("/v1/ebls", json=issue, headers=keys["shipper-ops"])
        assert refused.status == 403, await refused.text()
        assert "carrier" in (await refused.json())["detail"]
        held = await client.post("/v1/ebls", json=issue, headers=keys["carrier-ops"])
        assert held.status == 201, await held.text()
        path = "/v1/ebls/APIEBL0101"
        to_buyer = {"to": "IQAX:BUYER", "action": "TRANSFER"}
        assert (await client.get(path, headers=keys["forwarder"])).status == 404
        stolen = await client.post(f"{path}/transfers", json=to_buyer, headers=keys["forwarder"])
        assert stolen.status == 404
        seen = await client.get(path, headers=keys["carrier-ops"])
        assert seen.status == 200 and (await seen.json())["possessor"] == "AEOT:AEOT/SHIPPER"
        taken = await client.post(f"{path}/transfers", json=to_buyer, headers=keys["carrier-ops"])
        assert taken.status == 403, await taken.text()
        problem = await taken.json()
        assert (
            "AEOT:AEOT/SHIPPER" in problem["detail"]
            and problem["errors"][0]["field"] == "reference"
        )
        for action in ("ENDORSE", "SURRENDER_FOR_DELIVERY"):
            body = {"to": "IQAX:BUYER", "action": action}
            attempt = await client.post(f"{path}/transfers", json=body, headers=keys["forwarder"])
            assert attempt.status == 404
        sent = await client.post(f"{path}/transfers", json=to_buyer, headers=keys["shipper-ops"])
        assert sent.status == 202, await sent.text()
        history = await (await client.get(path, headers=keys["shipper-ops"])).json()
        assert history["state"] == "sending"
        entries = await LedgerStore(services.store.connector).entries()
        assert [e["tenant_id"] for e in entries] == ["shipper-ops"]


@pytest.mark.parametrize(
    ("tenants", "parties", "says"),
    [
        ('["a", "b"]', None, "without saying which parties each acts for"),
        ('{ a = ["SHIPPER"], b = ["SHIPPER"] }', None, "named for two tenants"),
        ('{ a = ["NOBODY"] }', None, "neither one of the platform's parties nor its carrier"),
        ("{ a = [] }", None, "needs a list of the party codes"),
    ],
)
async def test_an_ambiguous_operator_configuration_is_refused_at_start(
    tmp_path: Path, reference: Path, tenants: str, parties: str | None, says: str
) -> None:
    with pytest.raises(ConfigError, match=says) as refused:
        async with platform_api(tmp_path, reference, tenants, parties=parties):
            pass
    assert refused.value.field is not None and refused.value.field.startswith(
        "adapters.pint.tenants"
    )


async def test_a_party_name_dcsa_refuses_changes_nothing(api: Any, reference: Path) -> None:
    """DCSA's partyName (``^\\S(?:.*\\S)?$``, at most 70): a transfer naming its recipient
    otherwise is refused before the eBL is locked (once sent and answered BENV, or, recorded
    here, a chain entry every later envelope of the eBL would be refused for)."""
    client, keys = api
    auth = {"Authorization": f"Bearer {keys['operator']}"}
    document = transport_document(reference, "APIEBL0301")
    held = await client.post(
        "/v1/ebls", json={"transportDocument": document, "to": "AEOT:SHIPPER"}, headers=auth
    )
    assert held.status == 201, await held.text()
    for to in ("IQAX:BUYER", "AEOT:SHIPPER"):
        refused = await client.post(
            "/v1/ebls/APIEBL0301/transfers", json={"to": to, "name": "Buyer Ltd "}, headers=auth
        )
        assert refused.status == 422, await refused.text()
        assert [(e["field"], e["rule"]) for e in (await refused.json())["errors"]] == [
            ("name", "dcsa.partyName")
        ]
    history = await (await client.get("/v1/ebls/APIEBL0301", headers=auth)).json()
    assert (history["state"], len(history["chain"])) == ("held", 1)


async def test_a_configured_party_name_dcsa_refuses_stops_the_start(
    tmp_path: Path, reference: Path
) -> None:
    with pytest.raises(ConfigError, match="DCSA partyName") as refused:
        async with platform_api(
            tmp_path, reference, '["operator"]', parties='{ "SHIPPER" = "Shipper Ltd " }'
        ):
            pass
    assert refused.value.field == "adapters.pint.parties.SHIPPER"


async def test_the_registry_on_a_documents_page_is_shown_to_the_tenants_whose_parties_take_part(
    tmp_path: Path, reference: Path
) -> None:
    """With several operators, a document page shows the registry's record of an eBL only to
    a tenant whose party takes part in it."""
    async with platform_api(tmp_path, reference, SHARED, parties=SHARED_PARTIES) as (
        client,
        services,
    ):
        store = services.store
        keys = await tenant_keys(store, "carrier-ops", "forwarder")
        document = transport_document(reference, "APIEBL0102")
        held = await client.post(
            "/v1/ebls",
            json={"transportDocument": document, "to": "AEOT:SHIPPER"},
            headers=keys["carrier-ops"],
        )
        assert held.status == 201, await held.text()
        pages = {}
        for who in ("carrier-ops", "forwarder"):
            submission, _ = await store.create_submission(
                who, json.dumps(document).encode(), content_type="application/json",
                metadata={"kind": "ebl"},
            )  # fmt: skip
            await store.record_event(
                submission.id, "converted", detail={"document_number": "APIEBL0102"}
            )
            view = await client.get(f"/v1/documents/{submission.id}/view", headers=keys[who])
            assert view.status == 200
            pages[who] = await view.text()
        assert "<code>ISSUE</code>" in pages["carrier-ops"]
        assert "<code>ISSUE</code>" not in pages["forwarder"]
        assert "AEOT/SHIPPER" not in pages["forwarder"]


@pytest.mark.parametrize(
    ("extra", "field", "named"),
    [
        ({"documents": [{"name": "a.pdf", "content": "JVBERg=="},
                        {"name": "empty.pdf", "content": ""}]}, "documents[1]", "'empty.pdf'"),
        ({"visualisation": {"name": "B-L.pdf", "content": ""}}, "visualisation", "'B-L.pdf'"),
        ({"documents": [{"name": " padded.pdf", "content": "JVBERg=="}]}, "documents[0]",
         "' padded.pdf'"),
        ({"documents": [{"name": "a.pdf", "content": "JVBERg==", "mediaType": "x" * 101}]},
         "documents[0]", "media type"),
    ],
)  # fmt: skip
async def test_a_document_pint_cannot_send_is_refused_by_name(
    api: Any, reference: Path, extra: dict[str, Any], field: str, named: str
) -> None:
    """An empty document would be ``size: 0``, which DCSA's schema forbids (minimum 1): the
    request is refused naming the document, before anything is issued or locked."""
    client, keys = api
    auth = {"Authorization": f"Bearer {keys['operator']}"}
    number = f"APIEMPTY{abs(hash(field + named)) % 100:02d}"
    document = transport_document(reference, number)
    refused = await client.post(
        "/v1/ebls", json={"transportDocument": document, "to": "AEOT:SHIPPER", **extra},
        headers=auth,
    )  # fmt: skip
    assert refused.status == 422, await refused.text()
    problem = await refused.json()
    assert [e["field"] for e in problem["errors"]] == [field]
    assert named in problem["detail"]
    assert (await client.get(f"/v1/ebls/{number}", headers=auth)).status == 404
    if "visualisation" in extra:
        return
    held = await client.post(
        "/v1/ebls", json={"transportDocument": document, "to": "AEOT:SHIPPER"}, headers=auth
    )
    assert held.status == 201
    refused = await client.post(
        f"/v1/ebls/{number}/transfers", json={"to": "IQAX:BUYER", **extra}, headers=auth
    )
    assert refused.status == 422, await refused.text()
    assert [e["field"] for e in (await refused.json())["errors"]] == [field]
    history = await (await client.get(f"/v1/ebls/{number}", headers=auth)).json()
    assert history["state"] == "held" and history["transfers"] == []


@pytest.mark.parametrize("where", ["documents[1]", "visualisation"])
async def test_a_document_over_max_document_bytes_is_refused_by_name(
    tmp_path: Path, reference: Path, where: str
) -> None:
    """A document larger (decoded) than the adapter's ``max_document_bytes`` is a 422 naming
    it, its size and the limit, before anything is issued or locked; one of exactly the limit
    is sent."""
    async with platform_api(
        tmp_path, reference, '["operator"]', options="max_document_bytes = 100\n"
    ) as (client, services):
        await services.store.create_tenant("Carrier ops", tenant_id="operator")
        auth = {"Authorization": f"Bearer {(await services.store.issue_api_key('operator'))[0]}"}

        def attached(size: int) -> dict[str, Any]:
            big = {"name": "big.pdf", "content": base64.b64encode(b"%" * size).decode()}
            if where == "visualisation":
                return {"visualisation": big}
            return {"documents": [{"name": "a.pdf", "content": "JVBERg=="}, big]}

        def refused_by_name(problem: dict[str, Any]) -> None:
            assert [e["field"] for e in problem["errors"]] == [where]
            assert [e["rule"] for e in problem["errors"]] == ["max-document-bytes"]
            assert problem["detail"] == (
                f"{where} is 101 bytes; the limit is 100 bytes (adapters.pint.max_document_bytes)"
            )

        document = transport_document(reference, "APIBIG0001")
        issue = {"transportDocument": document, "to": "AEOT:SHIPPER"}
        refused = await client.post("/v1/ebls", json=issue | attached(101), headers=auth)
        assert refused.status == 422, await refused.text()
        refused_by_name(await refused.json())
        assert (await client.get("/v1/ebls/APIBIG0001", headers=auth)).status == 404

        held = await client.post("/v1/ebls", json=issue | attached(100), headers=auth)
        assert held.status == 201, await held.text()
        if where == "visualisation":
            return  # a transfer carries no visualisation of its own
        refused = await client.post(
            "/v1/ebls/APIBIG0001/transfers", json={"to": "IQAX:BUYER"} | attached(101),
            headers=auth,
        )  # fmt: skip
        assert refused.status == 422, await refused.text()
        refused_by_name(await refused.json())
        history = await (await client.get("/v1/ebls/APIBIG0001", headers=auth)).json()
        assert history["state"] == "held" and history["transfers"] == []
        sent = await client.post(
            "/v1/ebls/APIBIG0001/transfers", json={"to": "IQAX:BUYER"} | attached(100),
            headers=auth,
        )  # fmt: skip
        assert sent.status == 202, await sent.text()


async def test_a_tenant_named_by_name_in_tenants_is_warned_about_at_start(
    tmp_path: Path, reference: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``tenants`` takes tenant ids; one written by its name (``"Carrier ops"``) matches no
    key, so /v1/ebls answers that tenant 404: start-up says so, naming the adapter and id."""
    from gateway.service import warn_unknown_operators

    with caplog.at_level(logging.WARNING, logger="lingang.service"):
        async with platform_api(tmp_path, reference, '["Carrier ops"]') as (_, services):
            warned = [r.getMessage() for r in caplog.records if "no tenant's id" in r.getMessage()]
            assert warned == [
                "adapter 'pint': tenants names 'Carrier ops', which is no tenant's id: /v1/ebls "
                "answers 404 until it names one (tenant ids, not names, as `lingang tenants "
                "list` prints them)"
            ]
            await services.store.create_tenant("Carrier ops", tenant_id="Carrier ops")
            assert await warn_unknown_operators(services.store, services.adapters) == []


async def test_each_tenant_lists_the_ebls_its_parties_take_part_in(
    tmp_path: Path, reference: Path
) -> None:
    """GET /v1/ebls: the eBLs a tenant's parties take part in, most recently changed first,
    who possesses each and whether this tenant may transfer it now; another tenant's are
    not listed; a bad filter is a 422 naming it."""
    async with platform_api(tmp_path, reference, SHARED, parties=SHARED_PARTIES) as (
        client,
        services,
    ):
        keys = await tenant_keys(services.store, "carrier-ops", "shipper-ops", "forwarder")
        for number in ("APIEBL0201", "APIEBL0202"):
            issue = {
                "transportDocument": transport_document(reference, number),
                "to": "AEOT:SHIPPER",
            }
            assert (
                await client.post("/v1/ebls", json=issue, headers=keys["carrier-ops"])
            ).status == 201
        sent = await client.post(
            "/v1/ebls/APIEBL0201/transfers", json={"to": "IQAX:BUYER"}, headers=keys["shipper-ops"]
        )
        assert sent.status == 202, await sent.text()

        listed = await client.get("/v1/ebls", headers=keys["shipper-ops"])
        assert listed.status == 200, await listed.text()
        body = await listed.json()
        assert body["count"] == 2
        assert [
            (i["transportDocumentReference"], i["state"], i["mayTransfer"]) for i in body["items"]
        ] == [
            ("APIEBL0201", "sending", False),
            ("APIEBL0202", "held", True),
        ]
        assert {i["possessor"] for i in body["items"]} == {"AEOT:AEOT/SHIPPER"}
        carrier = await (
            await client.get("/v1/ebls?state=held", headers=keys["carrier-ops"])
        ).json()
        assert [(i["transportDocumentReference"], i["mayTransfer"]) for i in carrier["items"]] == [
            ("APIEBL0202", False)  # the carrier takes part, the shipper possesses it
        ]
        nothing = await (await client.get("/v1/ebls", headers=keys["forwarder"])).json()
        assert nothing == {"items": [], "count": 0, "next": None}
        one = await (await client.get("/v1/ebls?limit=1", headers=keys["shipper-ops"])).json()
        assert [i["transportDocumentReference"] for i in one["items"]] == ["APIEBL0201"]
        for query, field in (("state=lost", "state"), ("limit=0", "limit"), ("sate=held", "sate")):
            bad = await client.get(f"/v1/ebls?{query}", headers=keys["shipper-ops"])
            assert bad.status == 422, await bad.text()
            assert (await bad.json())["errors"][0]["field"] == field


@pytest.mark.parametrize("number", ["NaN", "-Infinity", "1e999"])
async def test_a_number_without_a_canonical_form_is_named_by_its_path(
    api: Any, reference: Path, number: str
) -> None:
    """RFC 8785 has no form for NaN or an infinity (``1e999`` reads as one), so the
    document's checksum cannot be made: the 422 said 'nan is not a JSON number', naming no
    field of a document of hundreds."""
    client, keys = api
    headers = {"Authorization": f"Bearer {keys['operator']}", "Content-Type": "application/json"}
    text = json.dumps(
        {"transportDocument": transport_document(reference, "APINAN0001"), "to": "AEOT:SHIPPER"}
    )
    found = re.search(r'"(weight|value)": [0-9.]+', text)
    assert found is not None
    body = text[: found.start()] + f'"{found.group(1)}": {number}' + text[found.end() :]
    response = await client.post("/v1/ebls", data=body.encode(), headers=headers)
    assert response.status == 422, await response.text()
    [error] = (await response.json())["errors"]
    assert error["rule"] in {"jcs.number-finite", "dcsa.schema"}  # below a schema minimum
    assert error["field"].startswith("$.") and error["field"].endswith("." + found.group(1)), error


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reference": "LG\u202e0001DB"}, "$.transportDocumentReference"),
        ({"reference": "LG\u20660001"}, "$.transportDocumentReference"),
        ({"reference": "LG\u200b0001"}, "$.transportDocumentReference"),
        ({"to": "AEOT:SHIP\u202ePER"}, "to"),
        ({"to": "AE\u200fOT:SHIPPER"}, "to"),
        ({"name": "Shipper \u202eLtd"}, "name"),
        ({"document": "invoice\u202efdp.exe"}, "documents[0]"),
    ],
)
async def test_identifiers_shown_to_people_refuse_direction_and_control_characters(
    api: Any, reference: Path, change: dict[str, str], field: str
) -> None:
    """DCSA's pattern for a transportDocumentReference (``^\\S(?:.*\\S)?$``) lets U+202E
    through, and ``LG\\u202e0001DB`` shows as ``LGBD1000`` in every list and history an
    operator or the next holder reads (Unicode TR #36 2.1). Such an eBL was issued (201);
    now the 422 names the field and the character, and nothing is issued."""
    client, keys = api
    auth = {"Authorization": f"Bearer {keys['operator']}"}
    number = change.get("reference", "APIBIDI001")
    body: dict[str, Any] = {
        "transportDocument": transport_document(reference, number),
        "to": change.get("to", "AEOT:SHIPPER"),
    }
    if "name" in change:
        body["name"] = change["name"]
    if "document" in change:
        content = base64.b64encode(b"%PDF-1.7").decode()
        body["documents"] = [{"name": change["document"], "content": content}]
    refused = await client.post("/v1/ebls", json=body, headers=auth)
    assert refused.status == 422, await refused.text()
    [error] = (await refused.json())["errors"]
    assert (error["field"], error["rule"]) == (field, "text.unsafe-character"), error
    assert re.search(r"U\+[0-9A-F]{4} \(", error["message"]), error
    listed = await (await client.get("/v1/ebls", headers=auth)).json()
    assert listed["items"] == []


async def test_every_issue_about_the_body_points_at_it_from_zero(api: Any, reference: Path) -> None:
    """RFC 9457 problems named the place in the body three ways: ``documents[1]``, the
    official schema's JSONPath relative to the transport document (``$.consignmentItems[0]``,
    not where it is in the request) and none for an unknown member. Each issue about the
    body now also carries ``pointer``, its RFC 6901 JSON Pointer into the request body,
    items counted from 0; an issue about a header has none."""
    client, keys = api
    auth = {"Authorization": f"Bearer {keys['operator']}"}
    pdf = base64.b64encode(b"%PDF-1.7").decode()
    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {
                "transportDocument": transport_document(reference, "APIPTR0001"),
                "to": "AEOT:SHIPPER",
                "documents": [{"name": "a.pdf", "content": pdf}, {"name": " b", "content": pdf}],
            },
            "documents[1]",
            "/documents/1",
        ),
        (
            {
                "transportDocument": transport_document(
                    reference, "APIPTR0002", consignmentItems=[{}]
                ),
                "to": "AEOT:SHIPPER",
            },
            "$.consignmentItems[0]",
            "/transportDocument/consignmentItems/0",
        ),
        (
            {"transportDocument": transport_document(reference, "LG\u202e01"), "to": "AEOT:X"},
            "$.transportDocumentReference",
            "/transportDocument/transportDocumentReference",
        ),
        (
            {"transportDocument": {}, "to": "AEOT:SHIPPER", "visualization": {}},
            "visualization",
            "/visualization",
        ),
        ({"transportDocument": {}, "to": "NOPARTY"}, "to", "/to"),
    ]
    for body, field, pointer in cases:
        refused = await client.post("/v1/ebls", json=body, headers=auth)
        assert refused.status == 422, await refused.text()
        [error] = (await refused.json())["errors"]
        assert (error["field"], error.get("pointer")) == (field, pointer), error
    typo = await client.post(
        "/v1/ebls/APIPTR0001/transfers", json={"to": "IQAX:BUYER", "actoin": "x"}, headers=auth
    )
    assert [e.get("pointer") for e in (await typo.json())["errors"]] == ["/actoin"]
    unshown = await client.post(
        "/v1/ebls/APIPTR0001/transfers", json={"to": "IQAX:BUYER", "a b": 1}, headers=auth
    )
    [error] = (await unshown.json())["errors"]
    assert error["field"] == "(unprintable)" and "pointer" not in error  # no false pointer
    header = await client.post("/v1/ebls", data=b"{}", headers=auth)
    assert header.status == 415
    assert "pointer" not in (await header.json())["errors"][0]


@pytest.mark.parametrize("action", ["TRANSFER", "ENDORSE", "ENDORSE_TO_ORDER"])
async def test_a_transfer_to_the_party_acting_is_refused(
    api: Any, reference: Path, action: str
) -> None:
    """The possessor transferring (or the holder endorsing) the eBL to itself was recorded
    (200): a signed chain entry that changes nothing in the title, yet goes to every later
    platform. Now a 409 naming ``to``, and the chain is as it was."""
    client, keys = api
    auth = {"Authorization": f"Bearer {keys['operator']}"}
    document = transport_document(reference, "APISELF01", isToOrder=action != "TRANSFER")
    issued = await client.post(
        "/v1/ebls", json={"transportDocument": document, "to": "AEOT:SHIPPER"}, headers=auth
    )
    assert issued.status == 201, await issued.text()
    refused = await client.post(
        "/v1/ebls/APISELF01/transfers", json={"to": "AEOT:SHIPPER", "action": action}, headers=auth
    )
    assert refused.status == 409, await refused.text()
    [error] = (await refused.json())["errors"]
    assert (error["field"], error["rule"], error["pointer"]) == ("to", "pint.to-itself", "/to")
    history = await (await client.get("/v1/ebls/APISELF01", headers=auth)).json()
    assert len(history["chain"]) == 1 and history["possessor"] == "AEOT:AEOT/SHIPPER"


async def test_a_second_live_ebl_under_one_reference_is_refused(api: Any, reference: Path) -> None:
    """A changed transport document under the reference of an eBL still held here was
    issued too (201): two live originals of bill of lading APIDUP001. Now a 409 naming the
    reference; once the first is surrendered (SACC) the amended one is issued."""
    client, keys = api
    auth = {"Authorization": f"Bearer {keys['operator']}"}
    first = transport_document(reference, "APIDUP001")
    amended = transport_document(reference, "APIDUP001", termsAndConditions="Amended terms.")
    for document, status in ((first, 201), (amended, 409)):
        answer = await client.post(
            "/v1/ebls", json={"transportDocument": document, "to": "AEOT:SHIPPER"}, headers=auth
        )
        assert answer.status == status, await answer.text()
    [error] = (await answer.json())["errors"]
    assert (error["rule"], error["pointer"]) == (
        "ebl.reference-live",
        "/transportDocument/transportDocumentReference",
    )
    for action in ("SURRENDER_FOR_AMENDMENT", "SACC"):
        done = await client.post(
            "/v1/ebls/APIDUP001/transfers", json={"action": action}, headers=auth
        )
        assert done.status == 200, await done.text()
    again = await client.post(
        "/v1/ebls", json={"transportDocument": amended, "to": "AEOT:SHIPPER"}, headers=auth
    )
    assert again.status == 201, await again.text()


async def test_a_surrender_for_amendment_states_its_reason(api: Any, reference: Path) -> None:
    """PINT 3.0 gives a SURRENDER_FOR_AMENDMENT a ``reasonCode`` (SWTP switch to paper, COD
    change of destination, SWI switch BL) and any transaction ``comments`` for the
    recipient; a transfer request could state neither (422 unknown field), so the carrier
    learnt nothing of why. Now both are signed into the transaction and shown in the
    history; a reason code on another action, an unknown one or comments PINT's pattern
    refuses are a 422 naming the member, before anything is recorded."""
    client, keys = api
    auth = {"Authorization": f"Bearer {keys['operator']}"}
    document = transport_document(reference, "APIAMEND01")
    issued = await client.post(
        "/v1/ebls", json={"transportDocument": document, "to": "AEOT:SHIPPER"}, headers=auth
    )
    assert issued.status == 201, await issued.text()
    path = "/v1/ebls/APIAMEND01/transfers"
    for body, field in [
        ({"action": "SURRENDER_FOR_DELIVERY", "reasonCode": "SWTP"}, "reasonCode"),
        ({"action": "SURRENDER_FOR_AMENDMENT", "reasonCode": "PAPR"}, "reasonCode"),
        ({"action": "SURRENDER_FOR_AMENDMENT", "comments": " padded"}, "comments"),
        ({"action": "SURRENDER_FOR_AMENDMENT", "comments": "two\nlines"}, "comments"),
        ({"action": "SURRENDER_FOR_AMENDMENT", "comments": "x" * 256}, "comments"),
        ({"action": "SURRENDER_FOR_AMENDMENT", "comments": "fix \u202eit"}, "comments"),
        ({"action": "SURRENDER_FOR_AMENDMENT", "reasonCode": 7}, "reasonCode"),
    ]:
        refused = await client.post(path, json=body, headers=auth)
        assert refused.status == 422, await refused.text()
        [error] = (await refused.json())["errors"]
        assert (error["field"], error["pointer"]) == (field, f"/{field}"), error
    asked = await client.post(
        path,
        json={
            "action": "SURRENDER_FOR_AMENDMENT",
            "reasonCode": "COD",
            "comments": "Discharge at Nansha, not Yantian.",
        },
        headers=auth,
    )
    assert asked.status == 200, await asked.text()
    history = await (await client.get("/v1/ebls/APIAMEND01", headers=auth)).json()
    [issue], [surrender] = (entry["transactions"] for entry in history["chain"])
    assert "reasonCode" not in issue
    assert (surrender["reasonCode"], surrender["comments"]) == (
        "COD",
        "Discharge at Nansha, not Yantian.",
    )
