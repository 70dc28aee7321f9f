"""The console's defences: tenant scoping, CSRF, escaping, cookie flags, redirects."""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from pathlib import Path

import aiohttp
import pytest
import trustme
from aiohttp import web

from gateway.api.console import session as sessions
from gateway.jobs.submissions import PROCESS
from gateway.store import JobState
from tests.console.conftest import (
    SAMPLES,
    LiveConsole,
    csrf_of,
    signed_in,
    start_console,
)
from tests.readable.page_text import page_text

HOSTILE_ITEM = "*金属制品*<script>window.pwned=1</script>"
HOSTILE_NAME = "<img src=x onerror=alert(1)>.xml"


def hostile_fapiao() -> bytes:
    """The sample fapiao with script markup in an item name (escaped, as XML requires)."""
    xml = (SAMPLES / "export-zero-rate.xml").read_text("utf-8")
    assert "*金属制品*精密齿轮" in xml
    escaped = HOSTILE_ITEM.replace("<", "&lt;").replace(">", "&gt;")
    return xml.replace("*金属制品*精密齿轮", escaped).encode("utf-8")


async def submit(live: LiveConsole, tenant_id: str, data: bytes, filename: str) -> str:
    submission, _ = await live.services.submissions.submit(
        tenant_id,
        data,
        content_type="application/xml",
        filename=filename,
        metadata={},
        idempotency_key=None,
    )
    return submission.id


async def page_token(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(url) as response:
        return csrf_of(await response.text())


async def test_another_tenants_document_is_404_in_the_console(quiet: LiveConsole) -> None:
    doc = await submit(quiet, quiet.tenant_a.id, hostile_fapiao(), "a.xml")
    owner = await signed_in(quiet, quiet.key_a)
    other = await signed_in(quiet, quiet.key_b)
    async with owner, other:
        async with owner.get(f"{quiet.base}/console/documents/{doc}") as response:
            assert response.status == 200
        unknown = "0" * len(doc)
        await quiet.store.put_output(doc, "signed", "application/xml", b"<Invoice/>")
        async with owner.get(f"{quiet.base}/console/documents/{doc}/outputs/signed") as response:
            assert response.status == 200 and await response.read() == b"<Invoice/>"
            assert response.headers["Content-Disposition"].startswith("attachment")
        for path in (
            f"/console/documents/{doc}",
            f"/console/documents/{doc}/view",
            f"/console/documents/{doc}/outputs/signed",
        ):
            async with other.get(quiet.base + path) as response:
                assert response.status == 404, path
                owned = (await response.text()).replace(doc, unknown)
            async with other.get(quiet.base + path.replace(doc, unknown)) as response:
                assert response.status == 404
                assert await response.text() == owned, "another tenant's id looks unknown"
        async with other.get(f"{quiet.base}/console/documents/..%2f..%2fetc") as response:
            assert response.status == 404
        token = await page_token(other, f"{quiet.base}/console/upload")
        async with other.post(
            f"{quiet.base}/console/documents/{doc}/retry",
            data={"csrf": token},
            allow_redirects=False,
        ) as response:
            assert response.status == 404
        async with other.get(f"{quiet.base}/console/documents") as response:
            assert doc not in await response.text()


async def test_the_api_view_is_tenant_scoped(quiet: LiveConsole) -> None:
    doc = await submit(quiet, quiet.tenant_a.id, hostile_fapiao(), "a.xml")
    async with aiohttp.ClientSession() as client:
        url = f"{quiet.base}/v1/documents/{doc}/view"
        async with client.get(url, headers={"Authorization": f"Bearer {quiet.key_b}"}) as r:
            assert r.status == 404
        async with client.get(url) as r:
            assert r.status == 401
        async with client.get(url, headers={"Authorization": f"Bearer {quiet.key_a}"}) as r:
            assert r.status == 200
            assert r.content_type == "text/html"
            assert "script-src" not in r.headers["Content-Security-Policy"]
            assert "default-src 'none'" in r.headers["Content-Security-Policy"]
            page = await r.text()
    assert "发票号码 / Invoice number" in page_text(page)


async def test_forms_without_the_csrf_token_are_refused(quiet: LiveConsole) -> None:
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        token = await page_token(session, f"{quiet.base}/console/partners")
        before = await quiet.store.list_directory(quiet.tenant_a.id)
        cases = [
            {"toml": "", "action": "save"},
            {"toml": "", "action": "save", "csrf": ""},
            {"toml": "", "action": "save", "csrf": "x" * 40},
            {"toml": "", "action": "save", "csrf": token[:-1] + ("0" if token[-1] != "0" else "1")},
        ]
        for form in cases:
            async with session.post(f"{quiet.base}/console/partners", data=form) as response:
                assert response.status == 403, form
        assert await quiet.store.list_directory(quiet.tenant_a.id) == before
        upload = aiohttp.FormData()
        upload.add_field("document", hostile_fapiao(), filename="f.xml", content_type="text/xml")
        async with session.post(f"{quiet.base}/console/upload", data=upload) as response:
            assert response.status == 403
        async with session.post(f"{quiet.base}/console/signout", data={}) as response:
            assert response.status == 403
        async with session.post(
            f"{quiet.base}/console/partners",
            data={"toml": "", "action": "validate", "csrf": token},
            headers={"Origin": "http://evil.example"},
        ) as response:
            assert response.status == 403
        async with session.post(
            f"{quiet.base}/console/partners", data={"toml": "", "action": "validate", "csrf": token}
        ) as response:
            assert response.status == 200
        assert (await quiet.store.list_submissions(quiet.tenant_a.id)) == []


async def test_a_token_of_another_session_is_refused(quiet: LiveConsole) -> None:
    first = await signed_in(quiet, quiet.key_a)
    second = await signed_in(quiet, quiet.key_a)
    async with first, second:
        token = await page_token(first, f"{quiet.base}/console/partners")
        async with second.post(
            f"{quiet.base}/console/partners", data={"toml": "", "action": "validate", "csrf": token}
        ) as response:
            assert response.status == 403


async def test_signin_needs_its_form_token(quiet: LiveConsole) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with (
        aiohttp.ClientSession(cookie_jar=jar) as session,
        session.post(
            f"{quiet.base}/console/signin", data={"api_key": quiet.key_a}, allow_redirects=False
        ) as response,
    ):
        assert response.status == 403
        assert "lingang_session" not in response.cookies


async def test_document_text_with_script_is_shown_as_text(quiet: LiveConsole) -> None:
    doc = await submit(quiet, quiet.tenant_a.id, hostile_fapiao(), HOSTILE_NAME)
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        async with session.get(f"{quiet.base}/console/documents/{doc}/view") as response:
            view = await response.text()
        async with session.get(f"{quiet.base}/console/documents") as response:
            listing = await response.text()
        async with session.get(f"{quiet.base}/console/documents/{doc}") as response:
            page = await response.text()
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in view
    assert "<script" not in view
    for html in (listing, page):
        assert "&lt;img src=x onerror=alert(1)&gt;.xml" in html
        assert "<img" not in html
    assert "<script" not in listing
    assert "Acme &lt;b&gt;Exports&lt;/b&gt;" in listing


async def test_pages_cannot_be_framed_or_run_injected_script(quiet: LiveConsole) -> None:
    session = await signed_in(quiet, quiet.key_a)
    async with session, session.get(f"{quiet.base}/console/documents") as response:
        policy = response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy


async def test_cookies_carry_their_flags(quiet: LiveConsole) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(f"{quiet.base}/console/signin") as response:
            signin_cookie = response.headers.getone("Set-Cookie")
            token = csrf_of(await response.text())
        async with session.post(
            f"{quiet.base}/console/signin",
            data={"csrf": token, "api_key": quiet.key_a},
            allow_redirects=False,
        ) as response:
            session_cookie = response.headers.getone("Set-Cookie")
    for header in (signin_cookie, session_cookie):
        assert "HttpOnly" in header
        assert "SameSite=Strict" in header
        assert "Path=/console" in header
        assert "Secure" not in header  # plain HTTP here; see the TLS test
    assert session_cookie.startswith("lingang_session=")
    assert quiet.key_a not in session_cookie


async def test_cookies_are_secure_over_tls(tmp_path: Path) -> None:
    authority = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server)
    async for live in start_console(
        tmp_path, f"sqlite:///{tmp_path}/tls.db", workers=0, ssl_context=server
    ):
        client = ssl.create_default_context()
        authority.configure_trust(client)
        connector = aiohttp.TCPConnector(ssl=client)
        async with aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True)
        ) as session:
            async with session.get(f"{live.base}/console/signin") as response:
                token = csrf_of(await response.text())
                assert "Secure" in response.headers.getone("Set-Cookie")
            async with session.post(
                f"{live.base}/console/signin",
                data={"csrf": token, "api_key": live.key_a},
                allow_redirects=False,
            ) as response:
                header = response.headers.getone("Set-Cookie")
        assert re.search(r"; Secure\b", header), header
        assert "HttpOnly" in header and "SameSite=Strict" in header


async def test_pages_over_tls_carry_hsts(tmp_path: Path) -> None:
    """RFC 6797 7.1: every console answer over TLS (the sign-in form, a redirect, a refused
    form) says Strict-Transport-Security; the plain-HTTP console never does (7.2)."""
    authority = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server)
    async for live in start_console(
        tmp_path, f"sqlite:///{tmp_path}/tls.db", workers=0, ssl_context=server
    ):
        client = ssl.create_default_context()
        authority.configure_trust(client)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=client)) as session:
            for method, path in (
                ("GET", "/console/signin"),
                ("GET", "/console/documents"),
                ("POST", "/console/upload"),
            ):
                async with session.request(
                    method, live.base + path, allow_redirects=False
                ) as response:
                    assert response.status in {200, 303, 403}
                    hsts = response.headers.get("Strict-Transport-Security", "")
                    assert hsts.startswith("max-age=31536000"), (path, hsts)
                    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_plain_http_pages_carry_no_hsts(quiet: LiveConsole) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{quiet.base}/console/signin") as response,
    ):
        assert "Strict-Transport-Security" not in response.headers


async def test_without_a_session_pages_redirect_and_posts_are_refused(
    quiet: LiveConsole,
) -> None:
    async with aiohttp.ClientSession() as anonymous:
        for screen in ("documents", "upload", "stuck", "partners", "health"):
            async with anonymous.get(
                f"{quiet.base}/console/{screen}", allow_redirects=False
            ) as response:
                assert response.status == 303
                assert response.headers["Location"] == "/console/signin"
        async with anonymous.post(f"{quiet.base}/console/partners", data={"csrf": "x"}) as r:
            assert r.status == 403
        forged = {"lingang_session": "eyJ0IjoiYSJ9.0000"}
        async with anonymous.get(
            f"{quiet.base}/console/documents", cookies=forged, allow_redirects=False
        ) as response:
            assert response.status == 303


async def test_a_session_ends_after_30_idle_minutes_not_while_used(
    quiet: LiveConsole, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OWASP ASVS 3.3.2 (level 2): re-authentication after 30 minutes of inactivity. Each
    request moves the session's last request on (a fresh cookie, the same CSRF token); a
    copy of an older cookie, or the session itself after 31 quiet minutes, is signed out."""
    started = time.time()
    clock = [started]
    monkeypatch.setattr(sessions, "now", lambda: clock[0])
    session = await signed_in(quiet, quiet.key_a)
    async with session, aiohttp.ClientSession() as other:
        first_cookie = {c.key: c.value for c in session.cookie_jar}
        token = await page_token(session, f"{quiet.base}/console/upload")
        for minutes in (29, 58):
            clock[0] = started + minutes * 60
            async with session.get(
                f"{quiet.base}/console/documents", allow_redirects=False
            ) as response:
                assert response.status == 200, minutes
                fresh = response.headers.get("Set-Cookie", "")
                assert fresh.startswith("lingang_session="), fresh
                assert (
                    "HttpOnly" in fresh and "SameSite=Strict" in fresh and "Path=/console" in fresh
                )
                assert csrf_of(await response.text()) == token
        async with other.get(
            f"{quiet.base}/console/documents", cookies=first_cookie, allow_redirects=False
        ) as response:
            assert response.status == 303  # the sign-in cookie, 58 minutes idle
        clock[0] = started + (58 + 31) * 60
        async with session.get(f"{quiet.base}/console/documents", allow_redirects=False) as r:
            assert (r.status, r.headers["Location"]) == (303, "/console/signin")


async def test_a_method_a_page_does_not_take_is_405_naming_those_it_does(
    quiet: LiveConsole,
) -> None:
    """RFC 9110 15.5.6: a 405 MUST carry Allow, on the console's error page as in the API."""
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        for method, path, allowed in (
            ("PUT", "/console/documents", {"GET", "HEAD"}),
            ("GET", "/console/signout", {"POST"}),
            ("DELETE", "/console/upload", {"GET", "HEAD", "POST"}),
        ):
            async with session.request(
                method, quiet.base + path, allow_redirects=False
            ) as response:
                assert response.status == 405, (method, path)
                assert set(response.headers["Allow"].split(",")) == allowed, path


async def test_a_revoked_key_ends_its_sessions(quiet: LiveConsole) -> None:
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        async with session.get(f"{quiet.base}/console/documents", allow_redirects=False) as r:
            assert r.status == 200
        for key in await quiet.store.list_api_keys(quiet.tenant_a.id):
            await quiet.store.revoke_api_key(key.id)
        async with session.get(f"{quiet.base}/console/documents", allow_redirects=False) as r:
            assert r.status == 303


async def test_signing_out_ends_the_session_even_for_a_copied_cookie(
    quiet: LiveConsole,
) -> None:
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        cookie = next(c for c in session.cookie_jar if c.key == "lingang_session").value
        token = await page_token(session, f"{quiet.base}/console/documents")
        async with session.post(
            f"{quiet.base}/console/signout", data={"csrf": token}, allow_redirects=False
        ) as response:
            assert response.status == 303
    async with (
        aiohttp.ClientSession() as copy,
        copy.get(
            f"{quiet.base}/console/documents",
            cookies={"lingang_session": cookie},
            allow_redirects=False,
        ) as response,
    ):
        assert response.status == 303


async def test_the_language_switch_only_goes_back_into_the_console(quiet: LiveConsole) -> None:
    async with aiohttp.ClientSession() as session:
        for target in (
            "//evil.example/x",
            "https://evil.example/",
            "/v1/documents",
            "/console\\..\\x",
            "/console/../v1/documents",  # a browser resolves the dot segments: /v1/documents
            "/console/%2e%2e/%2E%2E/evil",
            "/console/./../x",
            "/console/\t/x",
        ):
            async with session.get(
                f"{quiet.base}/console/lang",
                params={"to": "en", "next": target},
                allow_redirects=False,
            ) as response:
                assert response.headers["Location"] == "/console/documents", target
        async with session.get(
            f"{quiet.base}/console/lang",
            params={"to": "en", "next": "/console/documents?state=held&page=2"},
            allow_redirects=False,
        ) as response:
            assert response.headers["Location"] == "/console/documents?state=held&page=2"


async def test_retry_from_the_console_requeues_a_dead_letter(quiet: LiveConsole) -> None:
    """Without workers: a dead ``process`` job is retried from the document page."""
    doc = await submit(quiet, quiet.tenant_a.id, hostile_fapiao(), "a.xml")
    [job] = await quiet.store.claim_jobs("w", kinds=[PROCESS])
    await quiet.store.fail_job(job.id, "w", "boom", retryable=False, retry_after=None)
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        async with session.get(f"{quiet.base}/console/stuck") as response:
            assert doc in await response.text()
        token = await page_token(session, f"{quiet.base}/console/documents/{doc}")
        async with session.post(
            f"{quiet.base}/console/documents/{doc}/retry", data={"csrf": token}
        ) as response:
            assert response.status == 200
    [again] = await quiet.store.list_jobs(submission_id=doc)
    assert again.state is JobState.PENDING
    await asyncio.sleep(0)


async def test_hostile_cookies_tokens_and_forms_are_refused_not_500(quiet: LiveConsole) -> None:
    """Found by an audit: each of these was a 500 page (``compare_digest`` refuses text that
    is not ASCII, a cookie's raw bytes could not be encoded for the MAC, aiohttp raised while
    reading a malformed form, ``urlsplit`` raised on an unclosed IPv6 bracket)."""
    signin = quiet.base + "/console/signin"
    documents = quiet.base + "/console/documents"
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(signin) as response:
            token = csrf_of(await response.text())
        for csrf in ("é" * 40, "\u4e2d" * 40):
            async with session.post(
                signin, data={"csrf": csrf, "api_key": quiet.key_a}, allow_redirects=False
            ) as response:
                assert response.status == 403, csrf
        for content_type, body in [
            ("multipart/form-data; boundary=B", b"--B\r\nContent-Disposition: form-da"),
            ("multipart/form-data", b"csrf=x"),
            ("application/x-www-form-urlencoded; charset=x-evil", f"csrf={token}".encode()),
        ]:
            async with session.post(
                signin, data=body, headers={"Content-Type": content_type}, allow_redirects=False
            ) as response:
                assert response.status == 400, (content_type, response.status)
        async with session.post(
            signin,
            data={"csrf": token, "api_key": quiet.key_a},
            headers={"Origin": "http://[::1"},
            allow_redirects=False,
        ) as response:
            assert response.status == 403
    host, port = quiet.base.removeprefix("http://").split(":")
    for cookie in (b"lingang_session=eyJ0Ijo.\xc3\xa9\xc3\xa9", b"lingang_session=\xff\xfe.abc"):
        status = await _raw_status(host, int(port), b"GET", b"/console/documents", cookie)
        assert status == 303, cookie  # to the sign-in page, as for any cookie not ours
    status = await _raw_status(
        host, int(port), b"POST", b"/console/signin", b"lingang_signin=\xff\xfe" + b"a" * 20,
        b"csrf=x&api_key=y",
    )  # fmt: skip
    assert status == 403
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        async with session.get(documents, params={"until": "9999-12-31"}) as response:
            assert response.status == 200  # the day after it overflowed
        page = await (await session.get(quiet.base + "/console/upload")).text()
        cookie = "; ".join(f"{c.key}={c.value}" for c in session.cookie_jar).encode()
        body = (
            b'--B\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n%s\r\n'
            b'--B\r\nContent-Disposition: form-data; name="document"; filename="a\x00b.xml"\r\n'
            b"Content-Type: text/xml\r\n\r\n<a/>\r\n--B--\r\n" % csrf_of(page).encode()
        )
        status = await _raw_status(
            host, int(port), b"POST", b"/console/upload", cookie, body,
            b"multipart/form-data; boundary=B",
        )  # fmt: skip
        assert 400 <= status < 500, status  # a NUL in a part's header: once a 500


async def _raw_status(
    host: str,
    port: int,
    method: bytes,
    path: bytes,
    cookie: bytes,
    body: bytes = b"",
    content_type: bytes = b"application/x-www-form-urlencoded",
) -> int:
    """The status of a request with bytes no client sends (raw bytes in a cookie, a NUL in
    a part's header)."""
    reader, writer = await asyncio.open_connection(host, port)
    head = b"%s %s HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\n" % (method, path, host.encode(), cookie)
    if body:
        head += b"Content-Type: %s\r\n" % content_type
    head += b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    writer.write(head + body)
    await writer.drain()
    line = await reader.readline()
    writer.close()
    return int(line.split()[1])


async def test_cookies_are_secure_behind_a_tls_proxy_when_told() -> None:
    """``[console] secure_cookies``: the gateway sees plain HTTP from the proxy in front, yet
    the browser's cookies must never travel without TLS."""
    from aiohttp.test_utils import TestClient, TestServer

    from gateway.api.console.session import SECURE_COOKIES, set_cookie

    async def handler(request: web.Request) -> web.Response:
        response = web.Response(text="ok")
        set_cookie(response, request, "lingang_session", "value", max_age=60)
        return response

    for told in (False, True):
        app = web.Application()
        app[SECURE_COOKIES] = told
        app.router.add_get("/console/x", handler)
        async with TestClient(TestServer(app)) as client:
            response = await client.get("/console/x")
            header = response.headers.getone("Set-Cookie")
        assert bool(re.search(r"; Secure\b", header)) is told, header


async def test_a_dead_delivery_shows_no_host_or_port(live: LiveConsole) -> None:
    """A delivery that gave up records the adapter's error (``TransientDeliveryError: ...
    ConnectionKey(host='127.0.0.1', port=...)``) as the reason of the document's ``dead``
    event. The console's history and ``GET /v1/documents/{id}`` showed it to the tenant as
    recorded: disclosure.py rewrote only events named ``delivery-retry`` / ``dead-letter``,
    which nothing records. The tenant now reads the stable reason (the operator's detail
    stays in the logs)."""
    from gateway.api.disclosure import TRANSPORT_REASON
    from tests.console.conftest import SAMPLES

    doc = await submit(
        live, live.tenant_a.id, (SAMPLES / "exempt-services.xml").read_bytes(), "x.xml"
    )
    for _ in range(400):
        found = await live.store.get_submission(live.tenant_a.id, doc)
        if found is not None and found.state == "dead":
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the delivery did not dead-letter")
    [dead] = [e for e in await live.store.list_events(doc) if e.state == "dead"]
    assert "ConnectionKey" in (dead.reason or "")  # what the store keeps for the operator
    session = await signed_in(live, live.key_a)
    async with session:
        session.cookie_jar.update_cookies({"lingang_lang": "en"})
        async with session.get(f"{live.base}/console/documents/{doc}") as response:
            page = await response.text()
        async with session.get(
            f"{live.base}/v1/documents/{doc}", headers={"Authorization": f"Bearer {live.key_a}"}
        ) as response:
            history = (await response.json())["history"]
    shown = page[page.index('id="history"') : page.index("</table>", page.index('id="history"'))]
    reasons = [h["reason"] for h in history if h["state"] == "dead"]
    assert reasons == [TRANSPORT_REASON]
    assert TRANSPORT_REASON in shown
    for text in (shown, str(history)):
        assert "ConnectionKey" not in text and "127.0.0.1" not in text
