"""An idempotent replay must repeat the submission: a change is a 409 naming what differs.

Item 7 of the hardening issue: the same key and body with a different ``recipient``,
``profile`` or content type answered 200 "replayed" and silently dropped the new values.
"""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import LiveApi

FIRST = {"profile": "pint-sg", "recipient": "0195:SGUEN201234567A"}


async def _post(
    live: LiveApi, body: bytes, params: dict[str, str], media: str = "application/xml"
) -> tuple[int, dict[str, object]]:
    status, _, raw = await live.a.request(
        "POST",
        "/v1/documents",
        params=params,
        data=body,
        headers={"Content-Type": media, "Idempotency-Key": "order-42"},
    )
    return status, json.loads(raw)


@pytest.mark.parametrize(
    ("params", "media", "differs"),
    [
        ({**FIRST, "recipient": "0195:SGUEN209999999B"}, "application/xml", ["recipient"]),
        ({**FIRST, "profile": "bis3"}, "application/xml", ["profile"]),
        ({"recipient": FIRST["recipient"]}, "application/xml", ["profile"]),
        (FIRST, "text/xml", ["Content-Type"]),
        ({"profile": "cii"}, "application/octet-stream", ["Content-Type", "profile", "recipient"]),
    ],
)
async def test_a_changed_replay_is_a_conflict_naming_the_fields(
    live: LiveApi, fapiao_xml: bytes, params: dict[str, str], media: str, differs: list[str]
) -> None:
    status, first = await _post(live, fapiao_xml, FIRST)
    assert status == 202, first
    status, problem = await _post(live, fapiao_xml, params, media)
    assert status == 409, problem
    named = [e["field"] for e in problem["errors"] if e.get("rule") == "differs"]  # type: ignore[union-attr, index]
    assert named == differs
    for field in differs:
        assert field in str(problem["detail"])
    (listed,) = await live.store.list_submissions(live.tenant_a.id)
    stored = await live.store.get_submission(live.tenant_a.id, listed.id)
    assert stored is not None
    assert stored.metadata == {"profile": "pint-sg", "receiver": FIRST["recipient"]}


async def test_an_exact_replay_still_answers_the_first_result(
    live: LiveApi, fapiao_xml: bytes
) -> None:
    _, first = await _post(live, fapiao_xml, FIRST)
    status, again = await _post(live, fapiao_xml, FIRST)
    assert (status, again["id"]) == (200, first["id"])
