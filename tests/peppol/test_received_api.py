"""Received documents in the API (``/v1/received``): what a receiving tenant sees of the
documents that came to it over AS4, on a live gateway over TLS on 127.0.0.1: the list, each
document's verdict with the validation report under its own profile (the rule ids of a
rejection), the Message Level Status, the hand-over to the local system, the signed receipt
its sender got and the document itself; another tenant sees none of it (404)."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives import hashes

from gateway.signing.peppol_pki import PeppolTestPki
from gateway.signing.truststore import TrustStore
from gateway.store.received import ReceivedStore
from gateway.testing.tls import TlsFiles
from tests.console.conftest import try_signin
from tests.peppol.as4_gateway import (
    EXAMPLES,
    LOCAL,
    Answer,
    GatewayAp,
    Side,
    document_message,
    post,
    running_gateway,
)

WITH_ATTACHMENT = f"{EXAMPLES}/PINT-SG INV example 02 - full valid invoice 1.xml"
OTHER_PARTICIPANT = "0195:SGUEN201111111A"


@pytest.fixture
async def ap(
    tmp_path: Path, pki: PeppolTestPki, tls: TlsFiles, artefacts_home: Path, store_url: str
) -> AsyncIterator[GatewayAp]:
    side = Side(local=(f"importer={LOCAL.value}", f"rival={OTHER_PARTICIPANT}"))
    async with running_gateway(
        tmp_path / "c3",
        pki=pki,
        tls=tls,
        artefacts_home=artefacts_home,
        store_url=store_url,
        side=side,
    ) as gateway:
        yield gateway


async def _key(ap: GatewayAp, tenant_id: str) -> str:
    store = ap.services.store
    if await store.get_tenant(tenant_id) is None:
        await store.create_tenant(tenant_id, tenant_id=tenant_id)
    key, _ = await store.issue_api_key(tenant_id)
    return key


async def _get(
    ap: GatewayAp, tls: TlsFiles, key: str, path: str
) -> tuple[int, dict[str, str], bytes]:
    base = ap.url.removesuffix("/as4")
    connector = aiohttp.TCPConnector(ssl=tls.client_context())
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get(base + path, headers={"Authorization": f"Bearer {key}"}) as response,
    ):
        return response.status, dict(response.headers), await response.read()


async def _json(ap: GatewayAp, tls: TlsFiles, key: str, path: str) -> Any:
    status, _, body = await _get(ap, tls, key, path)
    assert status == 200, body[:300]
    return json.loads(body)


async def test_received_documents_are_listed_with_verdict_report_receipt_and_outputs(
    ap: GatewayAp, pki: PeppolTestPki, tls: TlsFiles, ap_trust: TrustStore, reference: Path
) -> None:
    valid = (reference / WITH_ATTACHMENT).read_bytes()
    invalid = valid.replace(b"<cbc:IssueDate>", b"<cbc:IssueDate>x", 1)
    answers = {}
    for name, body in (("valid", valid), ("invalid", invalid)):
        message = document_message(pki, body)
        answer = await post(ap.url, message.body, message.content_type, tls.client_context())
        assert answer.status == 200 and answer.signal(ap_trust).receipt is not None
        answers[name] = answer
    await ap.drain()
    key = await _key(ap, "importer")

    listed = await _json(ap, tls, key, "/v1/received")
    assert listed["count"] == 2
    by_status = {item["status"]: item for item in listed["items"]}
    assert set(by_status) == {"accepted", "rejected"}
    accepted, rejected = by_status["accepted"], by_status["rejected"]
    assert accepted["facts"]["profile"] == "pint-sg"
    assert accepted["facts"]["document_kind"] == "Invoice"
    assert accepted["receiver"] == LOCAL.value and accepted["channel"]

    detail = await _json(ap, tls, key, accepted["links"]["self"])
    assert detail["handed_on"]["adapter"] == "erp"
    assert detail["validation"]["profile"] == "pint-sg"
    assert not [f for f in detail["validation"]["findings"] if f["flag"] == "fatal"]
    assert detail["answer"]["media_type"] == "application/soap+xml"
    assert detail["transport"]["peppol"]["c2_seat"] == "PSG000001"
    assert [r["kind"] for r in detail["receipts"]] == ["inbound-accepted"]
    assert "path" not in json.dumps(detail["handed_on"])  # the folder's path stays private

    stored = {m.id: m for m in await ap.services.store.list_inbound()}
    status, _, original = await _get(ap, tls, key, detail["links"]["output:received"])
    assert status == 200 and original == stored[accepted["id"]].data  # the SBDH's payload
    status, _, answer_bytes = await _get(ap, tls, key, detail["links"]["output:answer"])
    assert status == 200 and answer_bytes == answers["valid"].body
    status, _, canonical = await _get(ap, tls, key, detail["links"]["output:canonical"])
    assert status == 200 and json.loads(canonical)["number"]
    status, headers, page = await _get(ap, tls, key, detail["links"]["output:readable"])
    assert status == 200 and b"<html" in page.lower()
    assert "script-src" not in headers["Content-Security-Policy"]

    refused = await _json(ap, tls, key, f"/v1/received/{rejected['id']}")
    fatal = {f["rule_id"] for f in refused["validation"]["findings"] if f["flag"] == "fatal"}
    assert "ibr-073" in fatal
    assert refused["error"]["code"] == "validation"
    assert refused["mls"]["code"] == "RE" and refused["handed_on"] is None
    status, _, report = await _get(
        ap, tls, key, f"/v1/received/{rejected['id']}/output?kind=report"
    )
    assert status == 200 and "ibr-073" in report.decode()


async def test_another_tenant_sees_none_of_them(
    ap: GatewayAp, pki: PeppolTestPki, tls: TlsFiles, reference: Path
) -> None:
    message = document_message(pki, (reference / WITH_ATTACHMENT).read_bytes())
    await post(ap.url, message.body, message.content_type, tls.client_context())
    await ap.drain()
    (stored,) = await ap.services.store.list_inbound()
    rival = await _key(ap, "rival")
    assert (await _json(ap, tls, rival, "/v1/received"))["items"] == []
    for path in (f"/v1/received/{stored.id}", f"/v1/received/{stored.id}/output"):
        status, _, _ = await _get(ap, tls, rival, path)
        assert status == 404
    importer = await _key(ap, "importer")
    status, _, _ = await _get(ap, tls, importer, f"/v1/received/{stored.id}/output?kind=nope")
    assert status == 404
    status, _, _ = await _get(ap, tls, importer, "/v1/received?limit=0")
    assert status == 422
    (mine,) = (await _json(ap, tls, importer, "/v1/received"))["items"]
    assert mine["id"] == stored.id
    older = await _json(ap, tls, importer, "/v1/received?before=2000-01-01T00:00:00%2B00:00")
    newer = await _json(ap, tls, importer, "/v1/received?before=2999-01-01T00:00:00%2B00:00")
    assert (older["items"], [i["id"] for i in newer["items"]]) == ([], [stored.id])


async def test_the_console_lists_and_shows_them_to_their_tenant_only(
    ap: GatewayAp, pki: PeppolTestPki, tls: TlsFiles, reference: Path
) -> None:
    valid = (reference / WITH_ATTACHMENT).read_bytes()
    invalid = valid.replace(b"<cbc:IssueDate>", b"<cbc:IssueDate>x", 1)
    for body in (valid, invalid):
        message = document_message(pki, body)
        await post(ap.url, message.body, message.content_type, tls.client_context())
    await ap.drain()
    by_status = {
        s.status: s for s in await ReceivedStore(ap.services.store.connector).list("importer")
    }
    accepted, rejected = by_status["accepted"].id, by_status["rejected"].id
    base = ap.url.removesuffix("/as4")
    importer = await _console(base, await _key(ap, "importer"), tls)
    async with importer:
        async with importer.get(f"{base}/console/received") as response:
            page = await response.text()
        assert response.status == 200 and accepted in page and rejected in page
        async with importer.get(f"{base}/console/received/{rejected}") as response:
            page = await response.text()
        assert response.status == 200 and "ibr-073" in page and "RE" in page
        async with importer.get(f"{base}/console/received/{accepted}") as response:
            page = await response.text()
        assert response.status == 200 and "/view" in page and "erp" in page
        assert "<th>单据号码</th><td>F012345</td>" in page  # was the key 'document_number'
        assert "<th>文档类型</th><td>发票 (Invoice)</td>" in page
        async with importer.get(f"{base}/console/received/{accepted}/view") as response:
            assert response.status == 200 and "<html" in (await response.text()).lower()
        async with importer.get(f"{base}/console/received/{accepted}/outputs/answer") as response:
            assert response.status == 200 and b"Receipt" in await response.read()
    rival = await _console(base, await _key(ap, "rival"), tls)
    async with rival:
        async with rival.get(f"{base}/console/received") as response:
            page = await response.text()
        assert accepted not in page and rejected not in page
        for path in (f"/received/{accepted}", f"/received/{accepted}/view",
                     f"/received/{accepted}/outputs/received"):  # fmt: skip
            async with rival.get(f"{base}/console{path}") as response:
                assert response.status == 404, path


async def _console(base: str, key: str, tls: TlsFiles) -> aiohttp.ClientSession:
    """A console session signed in with ``key`` over TLS."""
    session = aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        connector=aiohttp.TCPConnector(ssl=tls.client_context()),
    )
    response = await try_signin(session, base, key)
    assert response.status == 303, response.status
    return session


async def test_rejected_documents_are_found_by_status_in_the_api_and_the_console(
    ap: GatewayAp, pki: PeppolTestPki, tls: TlsFiles, reference: Path
) -> None:
    """An operator finds what the gateway refused: ``?status=rejected`` lists the rejected
    document only, with the code of the MLS its sender got (``RE``), in the API and in the
    console's list (a filter and an MLS column)."""
    valid = (reference / WITH_ATTACHMENT).read_bytes()
    invalid = valid.replace(b"<cbc:IssueDate>", b"<cbc:IssueDate>x", 1)
    for body in (valid, invalid):
        message = document_message(pki, body)
        await post(ap.url, message.body, message.content_type, tls.client_context())
    await ap.drain()
    key = await _key(ap, "importer")
    (rejected,) = (await _json(ap, tls, key, "/v1/received?status=rejected"))["items"]
    (accepted,) = (await _json(ap, tls, key, "/v1/received?status=accepted"))["items"]
    assert (rejected["status"], rejected["mls_code"]) == ("rejected", "RE")
    assert accepted["status"] == "accepted" and accepted["mls_code"] == "AP"
    assert (await _json(ap, tls, key, "/v1/received?status=failed"))["items"] == []
    status, _, body = await _get(ap, tls, key, "/v1/received?status=delivered")
    assert status == 422 and json.loads(body)["errors"][0]["field"] == "status"

    base = ap.url.removesuffix("/as4")
    async with await _console(base, key, tls) as console:
        async with console.get(f"{base}/console/received?status=rejected") as response:
            page = await response.text()
        assert response.status == 200
        assert rejected["id"] in page and accepted["id"] not in page
        assert 'data-mls="RE"' in page and '<option value="rejected" selected' in page
        async with console.get(f"{base}/console/received/{rejected['id']}") as response:
            page = await response.text()
        assert 'id="rejection"' in page


async def test_the_origin_of_a_received_message_is_kept_with_it(
    ap: GatewayAp, pki: PeppolTestPki, tls: TlsFiles, ap_trust: TrustStore, reference: Path
) -> None:
    """Non-repudiation of origin: the record names the certificate that signed the message
    (fingerprint, serial, issuer — the seat id alone survives a renewal) and the digests it
    signed, the same the signed receipt repeats. Sent chunked, which AS4 receivers MUST take
    (Peppol AS4 profile, message packaging; RFC 7230 §4.1)."""
    message = document_message(pki, (reference / WITH_ATTACHMENT).read_bytes())

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(message.body), 4096):
            yield message.body[start : start + 4096]

    connector = aiohttp.TCPConnector(ssl=tls.client_context())
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.post(
            ap.url, data=chunks(), headers={"Content-Type": message.content_type}
        ) as response,
    ):
        assert response.request_info.headers["Transfer-Encoding"] == "chunked"
        answer = Answer(response.status, response.content_type, await response.read())
    receipt = answer.signal(ap_trust).receipt
    assert answer.status == 200 and receipt is not None
    await ap.drain()
    key = await _key(ap, "importer")
    (item,) = (await _json(ap, tls, key, "/v1/received"))["items"]
    origin = (await _json(ap, tls, key, item["links"]["self"]))["transport"]["peppol"]["origin"]
    cert = pki.sender.cert
    assert origin["certificate_sha256"] == cert.fingerprint(hashes.SHA256()).hex()
    assert origin["certificate_serial"] == format(cert.serial_number, "x")
    assert origin["certificate_issuer"] == cert.issuer.rfc4514_string()
    assert "CN=PSG000001" in origin["certificate_subject"]
    signed = [(p["uri"], p["digest"]) for p in origin["signed_parts"]]
    assert len(signed) >= 3 and signed == [
        (r.uri, base64.b64decode(r.digest).hex()) for r in receipt.references
    ]  # in hex: a base64 digest beginning with '/' was dropped from the page as a path


async def test_an_as4_endpoint_without_local_participants_is_named_at_start(
    tmp_path: Path,
    pki: PeppolTestPki,
    tls: TlsFiles,
    artefacts_home: Path,
    reference: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With no ``[peppol] local_participants`` the AS4 endpoint takes documents for any
    receiver (none is refused PEPPOL:NOT_SERVICED) and no tenant sees them: said at start,
    naming the adapter; the document is kept for the operator."""
    caplog.set_level(logging.WARNING, logger="lingang.service")
    async with running_gateway(
        tmp_path / "open", pki=pki, tls=tls, artefacts_home=artefacts_home, side=Side(local=())
    ) as gateway:
        (warning,) = [r for r in caplog.records if "local_participants" in r.getMessage()]
        assert "'peppol'" in warning.getMessage() and "--unclaimed" in warning.getMessage()
        message = document_message(pki, (reference / WITH_ATTACHMENT).read_bytes())
        answer = await post(gateway.url, message.body, message.content_type, tls.client_context())
        assert answer.status == 200
        (stored,) = await gateway.services.store.list_inbound()
        assert stored.tenant_id is None
        unclaimed = await ReceivedStore(gateway.services.store.connector).list(None)
        assert [s.id for s in unclaimed] == [stored.id]
    caplog.clear()
    async with running_gateway(
        tmp_path / "served", pki=pki, tls=tls, artefacts_home=artefacts_home
    ):
        assert not [r for r in caplog.records if "local_participants" in r.getMessage()]
