"""``/v1/documents``: submit (raw and multipart), idempotency, status, outputs, retry, list."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from gateway.store import JobSpec, JobState, open_store
from gateway.store.idempotency import IdempotencyExpiry
from tests.api.conftest import ApiClient, LiveApi

XML = {"Content-Type": "application/xml"}


def problem(body: bytes, status: int) -> dict[str, Any]:
    """Parse a problem body and check its RFC 9457 shape."""
    data = json.loads(body)
    assert data["status"] == status
    assert data["type"].startswith("urn:lingang:problem:")
    for name in ("title", "detail", "instance"):
        assert isinstance(data[name], str)
    assert isinstance(data["errors"], list)
    return data


def named(data: dict[str, Any], field: str, rule: str) -> bool:
    """Whether the problem names this field and rule."""
    return any(e.get("field") == field and e.get("rule") == rule for e in data["errors"])


async def submit(client: ApiClient, body: bytes, **headers: str) -> tuple[int, dict[str, Any]]:
    status, _, raw = await client.request(
        "POST", "/v1/documents", data=body, headers={**XML, **headers}
    )
    return status, json.loads(raw)


async def test_raw_xml_is_stored_durably_and_acknowledged(api: LiveApi, fapiao_xml: bytes) -> None:
    status, headers, raw = await api.a.request(
        "POST",
        "/v1/documents?profile=pint-sg&recipient=0195:SGUEN201234567A&filename=f.xml",
        data=fapiao_xml,
        headers=XML,
    )
    assert status == 202
    body = json.loads(raw)
    assert headers["Location"] == f"/v1/documents/{body['id']}"
    assert body["status"] == "received"
    assert body["links"]["self"] == headers["Location"]
    stored = await api.store.get_submission(api.tenant_a.id, body["id"])
    assert stored is not None
    assert stored.data == fapiao_xml
    assert stored.content_type == "application/xml"
    assert stored.filename == "f.xml"
    assert stored.metadata == {"profile": "pint-sg", "receiver": "0195:SGUEN201234567A"}


async def test_multipart_with_fields_and_metadata_part(api: LiveApi, fapiao_xml: bytes) -> None:
    form = aiohttp.FormData()
    form.add_field("document", fapiao_xml, filename="inv.xml", content_type="application/xml")
    form.add_field("metadata", json.dumps({"profile": "bis3"}), content_type="application/json")
    form.add_field("recipient", "0088:5790000435975")
    form.add_field("idempotency_key", "mp-1")
    status, _, raw = await api.a.request("POST", "/v1/documents", data=form)
    assert status == 202, raw
    stored = await api.store.get_submission(api.tenant_a.id, json.loads(raw)["id"])
    assert stored is not None
    assert stored.filename == "inv.xml"
    assert stored.idempotency_key == "mp-1"
    assert stored.metadata == {"profile": "bis3", "receiver": "0088:5790000435975"}


async def test_same_idempotency_key_returns_the_first_submission(
    api: LiveApi, fapiao_xml: bytes
) -> None:
    first_status, first = await submit(api.a, fapiao_xml, **{"Idempotency-Key": "k-1"})
    again_status, again = await submit(api.a, fapiao_xml, **{"Idempotency-Key": "k-1"})
    assert (first_status, again_status) == (202, 200)
    assert again["id"] == first["id"]
    assert len(await api.store.list_submissions(api.tenant_a.id)) == 1


async def test_a_key_past_its_retention_starts_a_new_submission(
    api: LiveApi, fapiao_xml: bytes
) -> None:
    """draft-ietf-httpapi-idempotency-key-header §2.3: keys expire after the published
    [limits] idempotency_hours; the first submission stays, shown without its key."""
    _, first = await submit(api.a, fapiao_xml, **{"Idempotency-Key": "k-old"})
    ahead = api.store.clock() + timedelta(hours=169)
    expiry = IdempotencyExpiry(api.store.connector, clock=lambda: ahead)
    assert (await expiry.expire(api.services.settings.limits.idempotency_hours)).submissions == 1
    status, again = await submit(api.a, fapiao_xml, **{"Idempotency-Key": "k-old"})
    assert status == 202 and again["id"] != first["id"]
    status, _, raw = await api.a.request("GET", f"/v1/documents/{first['id']}")
    assert status == 200 and json.loads(raw)["idempotency_key"] is None


async def test_same_key_with_another_body_is_a_conflict(api: LiveApi, fapiao_xml: bytes) -> None:
    await submit(api.a, fapiao_xml, **{"Idempotency-Key": "k-2"})
    _status, _, raw = await api.a.request(
        "POST",
        "/v1/documents",
        data=b"<EInvoice/>",
        headers={**XML, "Idempotency-Key": "k-2"},
    )
    assert named(problem(raw, 409), "Idempotency-Key", "idempotency-key-reuse")


async def test_same_key_with_other_metadata_is_a_conflict_naming_it(
    api: LiveApi, fapiao_xml: bytes
) -> None:
    """The rate, currency, references, kind and file name are part of the submission: a
    repeat that changes one would otherwise be answered with the first, the change dropped."""
    first, _, _ = await api.a.request(
        "POST",
        "/v1/documents?filename=a.xml",
        data=fapiao_xml,
        headers={**XML, "Idempotency-Key": "k-3"},
    )
    assert first == 202
    for query, field in [
        ("filename=a.xml&currency=USD&exchange_rate=7.1", "currency"),
        ("filename=a.xml&buyer_reference=PO-1", "buyer_reference"),
        ("filename=a.xml&kind=ebl", "kind"),
        ("filename=other.xml", "filename"),
    ]:
        _, _, raw = await api.a.request(
            "POST",
            f"/v1/documents?{query}",
            data=fapiao_xml,
            headers={**XML, "Idempotency-Key": "k-3"},
        )
        data = problem(raw, 409)
        assert named(data, field, "differs"), (query, data)
    again, _, _ = await api.a.request(
        "POST",
        "/v1/documents?filename=a.xml&kind=invoice",
        data=fapiao_xml,
        headers={**XML, "Idempotency-Key": "k-3"},
    )
    assert again == 200  # kind=invoice is what leaving it out means


async def test_a_lone_surrogate_in_a_metadata_part_is_422(api: LiveApi, fapiao_xml: bytes) -> None:
    """JSON's ``\\ud800`` decodes to half a surrogate pair, which UTF-8 cannot store (once
    a 500 when the submission was written)."""
    for name in ("buyer_reference", "order_reference"):
        form = aiohttp.FormData()
        form.add_field("document", fapiao_xml, filename="inv.xml", content_type="application/xml")
        form.add_field("metadata", '{"' + name + '": "\\ud800x"}', content_type="application/json")
        status, _, raw = await api.a.request("POST", "/v1/documents", data=form)
        assert status == 422, raw
        assert named(problem(raw, 422), name, "format")
    assert await api.store.list_submissions(api.tenant_a.id) == []


async def test_idempotency_keys_are_per_tenant(api: LiveApi, fapiao_xml: bytes) -> None:
    _, mine = await submit(api.a, fapiao_xml, **{"Idempotency-Key": "shared"})
    status, theirs = await submit(api.b, fapiao_xml, **{"Idempotency-Key": "shared"})
    assert status == 202
    assert theirs["id"] != mine["id"]


async def test_bad_submissions_are_4xx_problems_naming_the_field(api: LiveApi) -> None:
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        (
            {"data": b"x", "headers": {"Content-Type": "image/png"}},
            415,
            "Content-Type",
            "media-type",
        ),
        ({"data": b"", "headers": XML}, 422, "document", "required"),
        (
            {"data": b'{"fphm": ', "headers": {"Content-Type": "application/json"}},
            422,
            "document",
            "json",
        ),
        (
            {"data": b"<a/>", "headers": {**XML, "Idempotency-Key": "has space"}},
            422,
            "Idempotency-Key",
            "format",
        ),
    ]
    for kwargs, status, field, rule in cases:
        code, _, raw = await api.a.request("POST", "/v1/documents", **kwargs)
        assert code == status, raw
        assert named(problem(raw, status), field, rule)
    code, _, raw = await api.a.request(
        "POST", "/v1/documents?recipient=nocolon", data=b"<a/>", headers=XML
    )
    assert named(problem(raw, 422), "recipient", "endpoint")
    code, _, raw = await api.a.request(
        "POST", "/v1/documents?colour=red", data=b"<a/>", headers=XML
    )
    assert named(problem(raw, 422), "colour", "unknown-parameter")


async def test_a_content_type_that_names_no_media_type_is_415(
    api: LiveApi, fapiao_xml: bytes
) -> None:
    """aiohttp reads a Content-Type it cannot parse as ``application/octet-stream``, one of
    the types a fapiao may come as: such a header was accepted and the bytes sniffed."""
    for value in ("???", "xml", "application/xml, text/xml", "/xml", " ; charset=utf-8"):
        status, _, raw = await api.a.request(
            "POST", "/v1/documents", data=fapiao_xml, headers={"Content-Type": value}
        )
        assert status == 415, (value, raw)
        assert named(problem(raw, 415), "Content-Type", "media-type"), value
    assert await api.store.list_submissions(api.tenant_a.id) == []
    for value in ("application/xml; charset=utf-8", "Application/XML", "text/xml;charset=UTF-8"):
        status, _, raw = await api.a.request(
            "POST", "/v1/documents", data=fapiao_xml, headers={"Content-Type": value}
        )
        assert status == 202, (value, raw)


async def test_an_ebl_target_no_conversion_has_is_422(api: LiveApi) -> None:
    """``targets`` names formats; one that is none of them was stored and rejected later by
    the flow, so the client learnt of its typo only by polling."""
    body = b'{"transportDocumentReference": "X"}'
    for targets, unknown in (("pdf", "pdf"), ("ubl,foo", "foo"), ("dcsa,tradetrust", "tradetrust")):
        status, _, raw = await api.a.request(
            "POST",
            f"/v1/documents?kind=ebl&targets={targets}",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        assert status == 422, (targets, raw)
        data = problem(raw, 422)
        assert named(data, "targets", "enum"), data
        assert repr(unknown) in data["detail"], data
    assert await api.store.list_submissions(api.tenant_a.id) == []
    status, _, raw = await api.a.request(
        "POST",
        "/v1/documents?kind=ebl&targets=dcsa,ubl,uncefact,tradetrust-oa,tradetrust-vc",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    assert status == 202, raw


async def test_bad_multipart_is_a_problem(api: LiveApi) -> None:
    form = aiohttp.FormData()
    form.add_field("metadata", "{not json", content_type="application/json")
    form.add_field("document", b"<a/>", filename="a.xml", content_type="application/xml")
    status, _, raw = await api.a.request("POST", "/v1/documents", data=form)
    assert named(problem(raw, 422), "metadata", "json")

    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("profile", "pint-sg")
    status, _, raw = await api.a.request("POST", "/v1/documents", data=form)
    assert named(problem(raw, 422), "document", "required")

    status, _, raw = await api.a.request(
        "POST",
        "/v1/documents",
        data=b"--x\r\ngarbage without headers",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert 400 <= status < 500
    problem(raw, status)

    status, _, raw = await api.a.request(
        "POST",
        "/v1/documents",
        data=b"whatever",
        headers={"Content-Type": "multipart/form-data"},
    )
    assert 400 <= status < 500
    problem(raw, status)


async def test_body_over_the_limit_is_413(tmp_path: Any, fapiao_xml: bytes) -> None:
    from tests.api.conftest import start_api

    async for live in start_api(tmp_path, f"sqlite:///{tmp_path}/s.db", max_body_bytes=1024):
        _, _, raw = await live.a.request(
            "POST", "/v1/documents", data=b"<a>" + b"x" * 4096 + b"</a>", headers=XML
        )
        assert named(problem(raw, 413), "body", "max-body-bytes")

        async def chunks() -> Any:
            for _ in range(8):
                yield b"y" * 512

        _, _, raw = await live.a.request("POST", "/v1/documents", data=chunks(), headers=XML)
        assert named(problem(raw, 413), "body", "max-body-bytes")

        form = aiohttp.FormData()
        form.add_field("document", b"z" * 4096, filename="a.xml", content_type="application/xml")
        _status, _, raw = await live.a.request("POST", "/v1/documents", data=form)
        problem(raw, 413)
        assert await live.store.list_submissions(live.tenant_a.id) == []


async def test_status_shows_history_timings_report_deliveries_and_receipts(
    api: LiveApi, fapiao_xml: bytes
) -> None:
    _, accepted = await submit(api.a, fapiao_xml)
    sid = accepted["id"]
    report = {"profile": "pint-sg", "valid": True, "findings": [], "counts": {"fatal": 0}}
    await api.store.put_output(sid, "report", "application/json", json.dumps(report).encode())
    await api.store.put_output(sid, "signed", "application/xml", b"<Invoice/>")
    stages = [{"stage": "parse", "ok": True, "ms": 1.5}, {"stage": "sign", "ok": True, "ms": 3.0}]
    await api.store.record_event(sid, "processed", reason="ready", detail={"stages": stages})
    job = await api.store.enqueue_job(sid, JobSpec("deliver", "local", "out", payload_ref="signed"))
    claimed = await api.store.claim_jobs("w1")
    assert [j.id for j in claimed if j.id == job.id] == [job.id]
    from gateway.store import Receipt

    await api.store.complete_job(job.id, "w1", Receipt(kind="local-receipt", detail={"ok": 1}))

    status, _, raw = await api.a.request("GET", f"/v1/documents/{sid}")
    assert status == 200
    body = json.loads(raw)
    assert body["status"] == "processed"
    assert [e["state"] for e in body["history"]] == ["received", "processed"]
    assert body["history"][1]["timings"][1] == {"stage": "sign", "ms": 3.0, "ok": True}
    assert body["validation"] == report
    assert [d["adapter"] for d in body["deliveries"]] == ["local"]
    assert body["deliveries"][0]["state"] == "done"
    assert [r["kind"] for r in body["receipts"]] == ["local-receipt"]
    assert body["links"]["output:report"].endswith("/output?kind=report")


async def test_output_returns_the_signed_document_or_another_kind(
    api: LiveApi, fapiao_xml: bytes
) -> None:
    _, accepted = await submit(api.a, fapiao_xml)
    sid = accepted["id"]
    status, _, raw = await api.a.request("GET", f"/v1/documents/{sid}/output")
    problem(raw, 404)
    await api.store.put_output(sid, "signed", "application/xml", b"<Invoice>signed</Invoice>")
    await api.store.put_output(sid, "ubl", "application/xml", b"<Invoice>plain</Invoice>")
    status, headers, raw = await api.a.request("GET", f"/v1/documents/{sid}/output")
    assert (status, raw) == (200, b"<Invoice>signed</Invoice>")
    assert headers["Content-Type"].startswith("application/xml")
    assert "attachment" in headers["Content-Disposition"]
    status, _, raw = await api.a.request("GET", f"/v1/documents/{sid}/output?kind=ubl")
    assert raw == b"<Invoice>plain</Invoice>"
    status, _, raw = await api.a.request("GET", f"/v1/documents/{sid}/output?kind=../../x")
    problem(raw, 404)


async def test_unknown_and_malformed_ids_are_404_problems(api: LiveApi) -> None:
    for path in (
        "/v1/documents/0123456789abcdef0123456789abcdef",
        "/v1/documents/not-a-uuid",
        "/v1/documents/%00%ff",
        "/v1/documents/" + "a" * 500,
        "/v1/documents/x/output",
    ):
        status, headers, raw = await api.a.request("GET", path)
        assert status == 404, path
        assert headers["Content-Type"].startswith("application/problem+json")
        assert named(problem(raw, 404), "path", "not-found"), raw


async def test_a_method_a_path_does_not_allow_is_405_naming_the_allowed(api: LiveApi) -> None:
    status, headers, raw = await api.a.request("DELETE", "/v1/documents")
    assert status == 405
    (issue,) = problem(raw, 405)["errors"]
    assert issue["field"] == "method" and issue["rule"] == "method-not-allowed"
    assert "POST" in issue["message"] and "POST" in headers["Allow"]


async def test_retry_of_a_dead_letter_and_409_when_nothing_is_dead(
    api: LiveApi, fapiao_xml: bytes
) -> None:
    _, accepted = await submit(api.a, fapiao_xml)
    sid = accepted["id"]
    status, _, raw = await api.a.request("POST", f"/v1/documents/{sid}/retry")
    assert named(problem(raw, 409), "id", "retryable")

    job = await api.store.enqueue_job(sid, JobSpec("deliver", "local", "out", payload_ref="signed"))
    pipeline_job = [j for j in await api.store.claim_jobs("w1", limit=10)]
    assert job.id in {j.id for j in pipeline_job}
    await api.store.fail_job(job.id, "w1", "receiver said no", retryable=False, retry_after=None)
    dead = await api.store.get_job(job.id)
    assert dead is not None and dead.state == JobState.DEAD

    status, _, raw = await api.a.request("POST", f"/v1/documents/{sid}/retry")
    assert status == 202, raw
    body = json.loads(raw)
    assert [j["id"] for j in body["retried"]] == [job.id]
    assert body["retried"][0]["message_id"] == job.message_id
    again = await api.store.get_job(job.id)
    assert again is not None and again.state == JobState.PENDING


async def test_list_pages_and_filters(api: LiveApi, fapiao_xml: bytes) -> None:
    distinct = [fapiao_xml + f"<!-- {i} -->".encode() for i in range(3)]
    ids = [(await submit(api.a, body))[1]["id"] for body in distinct]
    status, _, raw = await api.a.request("GET", "/v1/documents?limit=2")
    body = json.loads(raw)
    assert status == 200
    assert body["count"] == 2
    assert {item["id"] for item in body["items"]} <= set(ids)
    assert body["next"] == {
        "before": body["items"][-1]["created_at"],
        "before_id": body["items"][-1]["id"],
    }
    status, _, raw = await api.a.request(
        "GET", "/v1/documents", params={"limit": 2, **body["next"]}
    )
    rest = json.loads(raw)
    assert rest["count"] == 1 and rest["next"] is None
    assert {item["id"] for item in body["items"] + rest["items"]} == set(ids)
    status, _, raw = await api.a.request("GET", "/v1/documents?state=delivered")
    assert json.loads(raw)["items"] == []
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    status, _, raw = await api.a.request("GET", "/v1/documents", params={"before": future})
    assert json.loads(raw)["count"] == 3
    for query, field, rule in (
        ("limit=0", "limit", "range"),
        ("limit=ten", "limit", "integer"),
        ("before=yesterday", "before", "date-time"),
        ("before=2026-01-01T00:00:00", "before", "date-time"),
        ("state=" + "s" * 65, "state", "format"),
        ("before_id=abc", "before", "required"),
        ("before=2026-01-01T00:00:00Z&before_id=a%20b", "before_id", "format"),
    ):
        status, _, raw = await api.a.request("GET", f"/v1/documents?{query}")
        assert named(problem(raw, 422), field, rule), query


async def test_concurrent_repeats_of_one_key_make_one_submission(
    api: LiveApi, fapiao_xml: bytes
) -> None:
    results = await asyncio.gather(
        *(submit(api.a, fapiao_xml, **{"Idempotency-Key": "burst"}) for _ in range(8))
    )
    assert sorted(status for status, _ in results) == [200] * 7 + [202]
    assert len({body["id"] for _, body in results}) == 1
    assert len(await api.store.list_submissions(api.tenant_a.id)) == 1


async def test_an_acknowledged_submission_is_visible_to_another_store_instance(
    api: LiveApi, fapiao_xml: bytes, tmp_path: Path
) -> None:
    _, accepted = await submit(api.a, fapiao_xml)
    other = await open_store(f"sqlite:///{tmp_path}/gateway.db")
    try:
        stored = await other.get_submission(api.tenant_a.id, accepted["id"])
        assert stored is not None and stored.data == fapiao_xml
        assert [job.kind for job in await other.list_jobs(submission_id=stored.id)] == ["process"]
    finally:
        await other.close()
