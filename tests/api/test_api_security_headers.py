"""Security headers on every API response (OWASP ASVS 14.4, 8.2.1; RFC 6797 for HSTS).

Over TLS every answer, success, problem, unrouted path, download, carries ``nosniff``, a
content security policy (one that runs nothing and forbids framing where the handler set
none), ``Cache-Control: no-store`` and ``Strict-Transport-Security``; over plain HTTP the
same without HSTS (RFC 6797 7.2: never over non-secure transport).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from multidict import CIMultiDict

from gateway.api.headers import API_POLICY, HSTS
from tests.api.conftest import LiveApi, start_api


@pytest.fixture
async def tls_api(tmp_path: Path) -> AsyncIterator[LiveApi]:
    async for api in start_api(tmp_path, f"sqlite:///{tmp_path}/tls.db", tls=trustme.CA()):
        yield api


def assert_baseline(headers: CIMultiDict[str], *, hsts: bool) -> None:
    assert headers.get("X-Content-Type-Options") == "nosniff", headers
    assert headers.get("Cache-Control") == "no-store", headers
    assert "Content-Security-Policy" in headers, headers
    assert headers.get("Referrer-Policy") in {"no-referrer", "same-origin"}, headers
    assert headers.get("Strict-Transport-Security") == (HSTS if hsts else None), headers
    assert headers.get("Server") == "lingang", headers  # no Python or aiohttp version


async def submitted(api: LiveApi, data: bytes = b"<Invoice/>") -> str:
    submission, _ = await api.services.submissions.submit(
        api.tenant_a.id,
        data,
        content_type="application/xml",
        filename="x.xml",
        metadata={},
        idempotency_key=None,
    )
    return submission.id


async def test_every_response_over_tls_carries_the_security_headers(tls_api: LiveApi) -> None:
    sid = await submitted(tls_api)
    answers = [
        await tls_api.a.request("GET", "/v1/documents"),
        await tls_api.a.request("GET", f"/v1/documents/{sid}"),
        await tls_api.b.request("GET", f"/v1/documents/{sid}"),  # another tenant's: 404
        await tls_api.anonymous.request("GET", "/v1/documents"),  # 401
        await tls_api.a.request("GET", "/v1/nothing-here"),  # unrouted 404
        await tls_api.a.request("DELETE", "/v1/documents"),  # 405
        await tls_api.anonymous.request("GET", "/openapi.json"),
        await tls_api.anonymous.request("GET", "/healthz"),
    ]
    for status, headers, _ in answers:
        assert status < 600
        assert_baseline(headers, hsts=True)
        assert headers["Content-Security-Policy"] == API_POLICY
    for status, headers, _ in answers[:6]:  # the /v1/ answers (ASVS 14.4.2)
        assert headers["Content-Disposition"] == 'attachment; filename="api.json"', status


async def test_a_download_is_never_rendered_as_a_page(tls_api: LiveApi) -> None:
    """Even an output stored as text/html (a partner's declared type) downloads as an
    attachment that the browser may not sniff, run script in or frame."""
    sid = await submitted(tls_api)
    hostile = b"<html><script>parent.pwned=1</script></html>"
    await tls_api.store.put_output(sid, "signed", "text/html", hostile)
    status, headers, body = await tls_api.a.request("GET", f"/v1/documents/{sid}/output")
    assert (status, body) == (200, hostile)
    assert headers["Content-Disposition"] == f'attachment; filename="{sid}-signed.bin"'
    assert_baseline(headers, hsts=True)
    policy = headers["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy


async def test_the_readable_view_keeps_its_own_policy(tls_api: LiveApi, fapiao_xml: bytes) -> None:
    """The view is framed by the console (same origin): its own policy is not replaced."""
    sid = await submitted(tls_api, fapiao_xml)
    status, headers, _ = await tls_api.a.request("GET", f"/v1/documents/{sid}/view")
    assert status == 200
    assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]
    assert_baseline(headers, hsts=True)


async def test_plain_http_answers_have_no_hsts(api: LiveApi) -> None:
    for status, headers, _ in (
        await api.a.request("GET", "/v1/documents"),
        await api.anonymous.request("GET", "/v1/documents"),
    ):
        assert status in {200, 401}
        assert_baseline(headers, hsts=False)
