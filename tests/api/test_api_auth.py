"""API keys: required, hashed at rest, never logged; tenants cannot see each other."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import pytest

from gateway.api.auth import KEY_CACHE_SECONDS
from tests.api.conftest import ApiClient, LiveApi
from tests.api.test_api_documents import XML, problem, submit
from tests.attack.conftest import raw, request_bytes


async def test_requests_without_a_valid_key_are_401(api: LiveApi) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer lgk_not-a-key"},
        {"X-API-Key": "lgk_not-a-key"},
        {"Authorization": "Bearer " + "k" * 5000},
        {"Authorization": f"Bearer {api.key_a}", "X-API-Key": api.key_b},
    ):
        status, response_headers, raw = await api.anonymous.request(
            "GET", "/v1/documents", headers=headers
        )
        assert status == 401, headers
        assert response_headers["WWW-Authenticate"].startswith("Bearer")
        data = problem(raw, 401)
        assert api.key_a not in raw.decode() and api.key_b not in raw.decode()
        assert data["errors"][0]["field"] == "Authorization"


async def test_a_key_header_given_twice_is_401(api: LiveApi) -> None:
    """Two Authorization (or X-API-Key) field lines: ambiguous, refused, whichever keys."""
    for name, value in (("Authorization", f"Bearer {api.key_a}"), ("X-API-Key", api.key_a)):
        for second in (value, value.replace(api.key_a, api.key_b)):
            request = request_bytes("GET", "/v1/documents", [(name, value), (name, second)])
            response = await raw(api.base, request)
            assert response.status == 401, (name, response.body[:200])
            assert response.problem()["errors"][0]["field"] == "Authorization"  # type: ignore[index]
            assert api.key_a not in response.body.decode()


async def test_x_api_key_header_works_too(api: LiveApi) -> None:
    status, _, _ = await api.anonymous.request(
        "GET", "/v1/documents", headers={"X-API-Key": api.key_a}
    )
    assert status == 200


async def test_a_revoked_key_no_longer_works(api: LiveApi) -> None:
    key, record = await api.store.issue_api_key(api.tenant_a.id, label="temp")
    client = ApiClient(api.a.session, api.base, key)
    assert (await client.request("GET", "/v1/partners"))[0] == 200
    await api.store.revoke_api_key(record.id)
    deadline = time.monotonic() + KEY_CACHE_SECONDS + 1.0
    while (status := (await client.request("GET", "/v1/partners"))[0]) == 200:
        assert time.monotonic() < deadline, "a revoked key kept working past the key cache"
        await asyncio.sleep(0.1)
    assert status == 401


async def test_tenants_cannot_read_retry_or_list_each_others_documents(
    api: LiveApi, fapiao_xml: bytes
) -> None:
    _, accepted = await submit(api.a, fapiao_xml)
    sid = accepted["id"]
    await api.store.put_output(sid, "signed", "application/xml", b"<Invoice/>")
    for method, path in (
        ("GET", f"/v1/documents/{sid}"),
        ("GET", f"/v1/documents/{sid}/output"),
        ("POST", f"/v1/documents/{sid}/retry"),
    ):
        status, _, raw = await api.b.request(method, path)
        assert status == 404, path
        assert sid not in json.loads(raw)["detail"]
        mine, _, _ = await api.a.request(method, path)
        assert mine != 404 or path.endswith("retry")
    status, _, raw = await api.b.request("GET", "/v1/documents")
    assert json.loads(raw)["items"] == []


async def test_tenants_cannot_see_or_change_each_others_partners(api: LiveApi) -> None:
    directory = {
        "partners": [{"buyer_id": "T08GA0028A", "endpoint": "0195:SGUEN1", "country": "SG"}]
    }
    status, _, _ = await api.a.request("PUT", "/v1/partners", json=directory)
    assert status == 200
    status, _, raw = await api.b.request("GET", "/v1/partners")
    assert json.loads(raw) == {"partners": [], "exporters": []}
    status, _, _ = await api.b.request("PUT", "/v1/partners", json={"partners": []})
    assert status == 200
    status, _, raw = await api.a.request("GET", "/v1/partners")
    assert json.loads(raw)["partners"] == directory["partners"]


async def test_keys_are_stored_only_as_hashes(api: LiveApi, tmp_path: Path) -> None:
    await api.store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("gateway.db*"))
    assert raw, "the SQLite store files should exist"
    for key in (api.key_a, api.key_b):
        assert key.encode() not in raw
        assert key.split("_", 1)[1].encode() not in raw
    from gateway.store import hash_api_key

    assert hash_api_key(api.key_a).encode() in raw


async def test_keys_never_reach_the_logs(
    api: LiveApi, fapiao_xml: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await submit(api.a, fapiao_xml)
    await api.anonymous.request("GET", "/v1/documents", headers={"X-API-Key": api.key_b})
    await api.anonymous.request(
        "GET", "/v1/documents", headers={"Authorization": f"Bearer {api.key_a}x"}
    )
    await api.a.request("POST", "/v1/documents", data=b"", headers=XML)
    access = [r for r in caplog.records if r.name == "gateway.api.access"]
    assert len(access) >= 4
    assert {getattr(r, "http_status", None) for r in access} >= {202, 200, 401, 422}
    assert any(getattr(r, "tenant_id", None) == api.tenant_a.id for r in access)
    for record in caplog.records:
        text = record.getMessage() + json.dumps(record.__dict__, default=str)
        for key in (api.key_a, api.key_b):
            assert key not in text
            assert key[4:20] not in text
