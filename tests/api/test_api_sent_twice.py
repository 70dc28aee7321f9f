"""A fapiao posted twice, through the HTTP API on a real socket: the second submission is
accepted (202, stored) and ends ``refused`` with the error ``already-sent``, which the
document's status shows (the earlier submission, its state, how to resend); ``resend=true``
(query or form field) sends it again on purpose; the field is checked like the others and an
idempotent replay must repeat it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp

from tests.api.conftest import LiveApi

REPO = Path(__file__).resolve().parents[2]
SAMPLE = sorted((REPO / "gateway" / "samples").glob("*.xml"))[0]
PARTNERS = REPO / "tests" / "data" / "partners.toml"
XML = {"Content-Type": "application/xml"}


async def _partners(api: LiveApi) -> None:
    status, _, raw = await api.a.request(
        "PUT",
        "/v1/partners",
        data=PARTNERS.read_bytes(),
        headers={"Content-Type": "application/toml"},
    )
    assert status == 200, raw[:300]


async def _post(api: LiveApi, query: str = "", headers: dict[str, str] | None = None) -> Any:
    status, _, raw = await api.a.request(
        "POST",
        f"/v1/documents{query}",
        data=SAMPLE.read_bytes(),
        headers={**XML, **(headers or {})},
    )
    return status, json.loads(raw)


async def _process(api: LiveApi) -> None:
    kind = api.services.kinds.get("process")
    assert kind is not None
    for job in await api.store.claim_jobs("w", kinds={"process"}, limit=10):
        await kind.run(job, "w")


async def _document(api: LiveApi, submission_id: str) -> Any:
    status, _, raw = await api.a.request("GET", f"/v1/documents/{submission_id}")
    assert status == 200
    return json.loads(raw)


async def test_the_second_post_ends_refused_naming_the_first(api: LiveApi) -> None:
    await _partners(api)
    status, first = await _post(api)
    assert status == 202
    await _process(api)
    status, second = await _post(api)
    assert status == 202  # stored and acknowledged: the flow decides
    await _process(api)
    document = await _document(api, second["id"])
    assert document["status"] == "refused"
    last = document["history"][-1]
    assert last["state"] == "refused"
    assert last["detail"]["error"]["code"] == "already-sent"
    assert last["detail"]["error"]["rule"] == "document.already-sent"
    assert last["detail"]["earlier"]["id"] == first["id"]
    assert last["detail"]["earlier"]["state"] == "queued"
    assert first["id"] in last["reason"] and "resend=true" in last["reason"]
    assert document["deliveries"] == []
    assert (await _document(api, first["id"]))["status"] == "queued"


async def test_resend_true_sends_it_again_and_says_so(api: LiveApi) -> None:
    await _partners(api)
    _, first = await _post(api)
    await _process(api)
    status, again = await _post(api, "?resend=true")
    assert status == 202
    await _process(api)
    document = await _document(api, again["id"])
    assert document["status"] == "queued" and document["metadata"]["resend"] == "true"
    queued = [e for e in document["history"] if e["state"] == "queued"]
    assert queued[0]["detail"]["resend"]["of"]["id"] == first["id"]
    assert len(document["deliveries"]) == 1


async def test_resend_as_a_form_field(api: LiveApi) -> None:
    await _partners(api)
    await _post(api)
    await _process(api)
    form = aiohttp.FormData()
    form.add_field(
        "document", SAMPLE.read_bytes(), content_type="application/xml", filename=SAMPLE.name
    )
    form.add_field("resend", "true")
    status, _, raw = await api.a.request("POST", "/v1/documents", data=form)
    assert status == 202, raw[:300]
    await _process(api)
    assert (await _document(api, json.loads(raw)["id"]))["status"] == "queued"


async def test_resend_is_checked(api: LiveApi) -> None:
    for query, rule in (("?resend=yes", "format"), ("?resend=true&kind=ebl", "kind")):
        status, problem = await _post(api, query)
        assert status == 422, query
        assert problem["errors"][0]["field"] == "resend"
        assert problem["errors"][0]["rule"] == rule
    assert await api.store.list_submissions(api.tenant_a.id) == []


async def test_an_idempotent_replay_answers_the_first_and_must_repeat_resend(
    api: LiveApi,
) -> None:
    await _partners(api)
    key = {"Idempotency-Key": "batch-7"}
    status, first = await _post(api, headers=key)
    assert status == 202
    await _process(api)
    status, replay = await _post(api, "?resend=false", headers=key)
    assert (status, replay["id"], replay["status"]) == (200, first["id"], "queued")
    status, problem = await _post(api, "?resend=true", headers=key)
    assert status == 409 and "resend" in problem["detail"]
    assert len(await api.store.list_submissions(api.tenant_a.id)) == 1
