"""A transfer started again with a corrected manifest (what ``INCD`` asks the sender to do)
succeeds, on SQLite and on PostgreSQL: the receiver keeps the new manifest, not the first."""

from __future__ import annotations

import base64
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.pint import build
from gateway.pint.checksums import bytes_checksum, jws_checksum
from gateway.pint.responses import read_response
from gateway.signing.jose import KeySet, b64url
from gateway.testing.cluster import free_port
from gateway.testing.pint import (
    DemoPlatform,
    InProcessPlatform,
    key_sets,
    platform,
    transport_document,
    write_platform_homes,
)
from gateway.testing.tls import make_tls

from .chains import issue_entry, transfer

WRONG = b"%PDF-1.7 the wrong invoice"
RIGHT = b"%PDF-1.7 the corrected invoice"


@pytest.fixture
def platforms() -> list[DemoPlatform]:
    """The sender (AEOT, also the carrier) and the receiver (IQAX)."""
    return [platform("AEOT", "ed25519", "A", carrier=True), platform("IQAX", "p256", "B")]


Receiver = tuple[InProcessPlatform, KeySet, ssl.SSLContext]


@pytest.fixture
async def start_receiver(
    tmp_path: Path, reference: Path, platforms: list[DemoPlatform], store_url: str
) -> AsyncIterator[Callable[..., Awaitable[Receiver]]]:
    """Starts IQAX's receiving endpoints, with ``options`` (TOML lines) added to its
    ``[adapters.pint]`` table and ``limits`` to a ``[limits]`` table."""
    started: list[InProcessPlatform] = []

    async def start(options: str = "", limits: str = "") -> Receiver:
        tls = make_tls(tmp_path / "tls")
        homes = write_platform_homes(
            tmp_path, platforms, reference_root=reference, tls=tls,
            ports=[free_port(), free_port()], store_urls=[f"sqlite:///{tmp_path}/a.db", store_url],
        )  # fmt: skip
        config = homes[1].config
        text = config.read_text().replace("[adapters.pint]\n", f"[adapters.pint]\n{options}\n")
        config.write_text(f"{text}[limits]\n{limits}\n" if limits else text)
        started.append(await InProcessPlatform(homes[1], tls).start())
        keys, _ = key_sets(platforms)
        return started[-1], keys, ssl.create_default_context(cafile=str(tls.ca))

    yield start
    for running in started:
        await running.stop()


@pytest.fixture
async def receiver(start_receiver: Callable[..., Awaitable[Receiver]]) -> Receiver:
    return await start_receiver()


async def _call(
    running: InProcessPlatform, context: ssl.SSLContext, method: str, path: str, body: Any
) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method, running.home.url + path, data=json.dumps(body).encode(), ssl=context,
            headers={"Content-Type": "application/json"},
        ) as response,
    ):  # fmt: skip
        return response.status, json.loads(await response.read() or b"null")


async def test_a_transfer_restarted_with_a_corrected_manifest_is_received(
    receiver: Any, platforms: list[DemoPlatform], reference: Path
) -> None:
    running, keys, context = receiver
    a, b = platforms
    document = transport_document(reference, "RESTART001")
    entry = issue_entry(a, document, a.party, transfer(a.party, b.party))
    last = jws_checksum(entry)

    def started(attachment: bytes) -> dict[str, Any]:
        meta = build.document_metadata("invoice.pdf", attachment, "application/pdf")
        return build.envelope(a.signer, document, [entry], [meta])

    def code(answer: Any) -> str:
        return read_response(answer, keys, platform="IQAX", last_checksum=last).code.value

    status, first = await _call(running, context, "POST", "/v3/envelopes", started(WRONG))
    assert status == 201 and first["missingAdditionalDocumentChecksums"] == [bytes_checksum(WRONG)]
    status, second = await _call(running, context, "POST", "/v3/envelopes", started(RIGHT))
    assert status == 201 and second["envelopeReference"] == first["envelopeReference"]
    assert second["missingAdditionalDocumentChecksums"] == [bytes_checksum(RIGHT)]

    base = f"/v3/envelopes/{second['envelopeReference']}"
    content = base64.b64encode(RIGHT).decode()
    path = f"{base}/additional-documents/{bytes_checksum(RIGHT)}"
    status, _ = await _call(running, context, "PUT", path, content)
    assert status == 204
    status, answer = await _call(running, context, "PUT", f"{base}/finish-transfer", None)
    assert (status, code(answer)) == (200, "RECE")

    for again in (started(RIGHT), started(WRONG)):  # accepted: never reopened
        status, answer = await _call(running, context, "POST", "/v3/envelopes", again)
        assert (status, code(answer)) == (200, "DUPE")
    registry = running.adapter.platform.registry
    assert await registry.inbound(second["envelopeReference"]) is None
    assert (await registry.find("RESTART001")).state == "held"


async def test_document_sizes_are_judged_by_the_decoded_bytes(
    start_receiver: Callable[..., Awaitable[Receiver]],
    platforms: list[DemoPlatform],
    reference: Path,
) -> None:
    """The adapter's ``max_document_bytes`` decides: a document larger is refused at the
    start (BENV naming it), not answered INCD on every PUT; one that fits is taken though its
    base64 is a third larger; a PUT body larger than any document could be is a 413."""
    running, keys, context = await start_receiver("max_document_bytes = 64")
    assert running.adapter.receiver.max_document_bytes == 64
    a, b = platforms
    document = transport_document(reference, "SIZES001")
    entry = issue_entry(a, document, a.party, transfer(a.party, b.party))
    last = jws_checksum(entry)

    def started(attachment: bytes) -> dict[str, Any]:
        meta = build.document_metadata("invoice.pdf", attachment, "application/pdf")
        return build.envelope(a.signer, document, [entry], [meta])

    status, answer = await _call(running, context, "POST", "/v3/envelopes", started(b"%" * 65))
    refused = read_response(answer, keys, platform="IQAX", last_checksum=last)
    assert (status, refused.code.value) == (422, "BENV")
    assert (
        "is 65 bytes; this platform takes documents of up to 64 bytes"
        in (refused.payload["reason"])
    )

    fits = b"%" * 64
    status, opened = await _call(running, context, "POST", "/v3/envelopes", started(fits))
    assert status == 201, opened
    base = f"/v3/envelopes/{opened['envelopeReference']}/additional-documents/"
    status, problem = await _call(running, context, "PUT", base + bytes_checksum(fits), "A" * 200)
    assert status == 413, problem
    assert "documents of up to 64 bytes" in problem["statusCodeMessage"]
    status, _ = await _call(
        running, context, "PUT", base + bytes_checksum(fits), base64.b64encode(fits).decode()
    )
    assert status == 204


async def test_the_default_document_limit_is_10_mib(
    receiver: Receiver, platforms: list[DemoPlatform], reference: Path
) -> None:
    """Without ``max_document_bytes`` a document of 10 MiB is announced and one byte more is
    BENV (the limit receivers applied before the option decided it)."""
    running, keys, context = receiver
    assert running.adapter.receiver.max_document_bytes == 10 * 1024 * 1024
    a, b = platforms
    document = transport_document(reference, "SIZES002")
    entry = issue_entry(a, document, a.party, transfer(a.party, b.party))
    last = jws_checksum(entry)

    def announcing(size: int) -> dict[str, Any]:
        meta = build.metadata("big.pdf", size, "application/pdf", bytes_checksum(b"%"))
        return build.envelope(a.signer, document, [entry], [meta])

    status, answer = await _call(
        running, context, "POST", "/v3/envelopes", announcing(10 * 1024 * 1024 + 1)
    )
    refused = read_response(answer, keys, platform="IQAX", last_checksum=last)
    assert (status, refused.code.value) == (422, "BENV")
    assert "up to 10485760 bytes" in refused.payload["reason"]
    status, opened = await _call(
        running, context, "POST", "/v3/envelopes", announcing(10 * 1024 * 1024)
    )
    assert status == 201, opened


async def test_a_document_may_be_larger_than_the_request_body_limit(
    start_receiver: Callable[..., Awaitable[Receiver]],
    platforms: list[DemoPlatform],
    reference: Path,
) -> None:
    """``limits.max_body_bytes`` bounds the envelope, ``max_document_bytes`` the document: a
    document of ``max_document_bytes`` is taken though its base64 PUT body is far larger
    than the request body limit."""
    running, _, context = await start_receiver(
        "max_document_bytes = 200000", limits="max_body_bytes = 65536"
    )
    a, b = platforms
    document = transport_document(reference, "SIZES003")
    entry = issue_entry(a, document, a.party, transfer(a.party, b.party))
    pdf = b"%PDF" + b"7" * (200000 - 4)
    meta = build.document_metadata("big.pdf", pdf, "application/pdf")
    status, opened = await _call(
        running, context, "POST", "/v3/envelopes",
        build.envelope(a.signer, document, [entry], [meta]),
    )  # fmt: skip
    assert status == 201, opened
    base = f"/v3/envelopes/{opened['envelopeReference']}"
    encoded = base64.b64encode(pdf).decode()
    assert len(encoded) > 4 * 65536
    path = f"{base}/additional-documents/{bytes_checksum(pdf)}"
    status, answer = await _call(running, context, "PUT", path, encoded)
    assert status == 204, answer
    status, answer = await _call(running, context, "PUT", f"{base}/finish-transfer", None)
    assert status == 200, answer


async def test_a_retry_with_its_last_entry_signed_again_is_dupe_not_dise(
    receiver: Any, platforms: list[DemoPlatform], reference: Path
) -> None:
    """PINT 3.0: the ``DUPE`` answer carries the entry accepted before, which "might differ in
    the retry (e.g. due to signing with the private key that differs ...)". A sender
    retrying an accepted envelope with its last entry signed again (the same payload, another
    protected header, so another checksum) gets ``DUPE`` with the accepted entry and the
    documents received; an entry whose payload changed is still ``DISE``."""
    running, keys, context = receiver
    a, b = platforms
    document = transport_document(reference, "RESIGN001")
    entry = issue_entry(a, document, a.party, transfer(a.party, b.party))
    meta = build.document_metadata("invoice.pdf", RIGHT, "application/pdf")
    status, started = await _call(
        running,
        context,
        "POST",
        "/v3/envelopes",
        build.envelope(a.signer, document, [entry], [meta]),
    )
    assert status == 201
    base = f"/v3/envelopes/{started['envelopeReference']}"
    content = base64.b64encode(RIGHT).decode()
    status, _ = await _call(
        running, context, "PUT", f"{base}/additional-documents/{bytes_checksum(RIGHT)}", content
    )
    assert status == 204
    status, answer = await _call(running, context, "PUT", f"{base}/finish-transfer", None)
    assert status == 200

    _, payload, _ = entry.split(".")
    header = b64url(json.dumps({"alg": "EdDSA"}).encode())  # no kid: another protected header
    signature = a.key.sign(f"{header}.{payload}".encode("ascii"))  # type: ignore[union-attr,call-arg]
    resigned = f"{header}.{payload}.{b64url(signature)}"
    assert resigned != entry
    retry = build.envelope(a.signer, document, [resigned], [meta])
    status, answer = await _call(running, context, "POST", "/v3/envelopes", retry)
    verified = read_response(answer, keys, platform="IQAX", last_checksum=jws_checksum(resigned))
    assert (status, verified.code.value) == (200, "DUPE"), verified.payload
    assert verified.payload["duplicateOfAcceptedEnvelopeTransferChainEntrySignedContent"] == entry
    assert verified.payload["receivedAdditionalDocumentChecksums"] == [bytes_checksum(RIGHT)]

    changed = issue_entry(a, document, a.party, transfer(a.party, b.party) | {"comments": "again"})
    status, answer = await _call(
        running,
        context,
        "POST",
        "/v3/envelopes",
        build.envelope(a.signer, document, [changed], [meta]),
    )
    verified = read_response(answer, keys, platform="IQAX", last_checksum=jws_checksum(changed))
    assert (status, verified.code.value) == (409, "DISE")


async def test_rece_and_dupe_always_list_the_documents_received_even_none(
    receiver: Any, platforms: list[DemoPlatform], reference: Path
) -> None:
    """PINT 3.0: "the receiving platform includes this attribute
    [receivedAdditionalDocumentChecksums] with the RECE or DUPE responseCode"; for an
    envelope without additional documents it is there, empty. No other code carries it."""
    running, keys, context = receiver
    a, b = platforms
    document = transport_document(reference, "NODOCS001")
    entry = issue_entry(a, document, a.party, transfer(a.party, b.party))
    envelope = build.envelope(a.signer, document, [entry], [])
    for expected in ("RECE", "DUPE"):
        status, answer = await _call(running, context, "POST", "/v3/envelopes", envelope)
        verified = read_response(answer, keys, platform="IQAX", last_checksum=jws_checksum(entry))
        assert (status, verified.code.value) == (200, expected)
        assert verified.payload["receivedAdditionalDocumentChecksums"] == []
    other = transport_document(reference, "NODOCS002")
    stranger = issue_entry(a, other, a.party, transfer(a.party, a.party))
    status, answer = await _call(
        running, context, "POST", "/v3/envelopes", build.envelope(a.signer, other, [stranger], [])
    )
    verified = read_response(answer, keys, platform="IQAX", last_checksum=jws_checksum(stranger))
    assert (status, verified.code.value) == (422, "BENV")
    assert "receivedAdditionalDocumentChecksums" not in verified.payload
