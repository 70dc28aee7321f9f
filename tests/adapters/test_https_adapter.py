"""The https adapter against the local receiver over mutual TLS, with signed bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.base import AdapterContext
from adapters.https import DetachedJwsSigner, HttpsAdapter
from adapters.testing import AdapterContract, make_envelope
from gateway.errors import PermanentDeliveryError, TransientDeliveryError, VerificationError
from gateway.settings import ConfigError
from gateway.signing.jws import verify_detached
from gateway.testing.receiver import Receiver
from gateway.testing.tls import TlsFiles


def build(
    receiver: Receiver, tls: TlsFiles, signer: DetachedJwsSigner | None, **extra: Any
) -> HttpsAdapter:
    options = {
        "url": receiver.url,
        "ca": str(tls.ca),
        "client_cert": str(tls.client_cert),
        "client_key": str(tls.client_key),
        "timeout": 2,
        **extra,
    }
    return HttpsAdapter.from_config(
        "hk", options, AdapterContext(data_dir=tls.ca.parent, body_signer=signer)
    )


class TestHttpsContract(AdapterContract):
    @pytest.fixture
    async def adapter(
        self, receiver: Receiver, tls: TlsFiles, body_signer: DetachedJwsSigner
    ) -> AsyncIterator[HttpsAdapter]:
        self.receiver = receiver
        adapter = build(receiver, tls, body_signer)
        yield adapter
        await adapter.aclose()

    async def delivered_count(self, adapter: Any, message_id: str) -> int:
        return 1 if message_id in self.receiver.accepted else 0


async def test_receipt_carries_receiver_answer(
    receiver: Receiver, tls: TlsFiles, body_signer: DetachedJwsSigner
) -> None:
    adapter = build(receiver, tls, body_signer)
    try:
        receipt = await adapter.deliver(make_envelope())
    finally:
        await adapter.aclose()
    assert receipt.remote_id
    assert receipt.content_type.startswith("application/json")
    assert b'"mac"' in receipt.body


@pytest.mark.parametrize("mode", ["500", "429", "reset", "timeout"])
async def test_receiver_trouble_is_transient(
    mode: str, receiver: Receiver, tls: TlsFiles, body_signer: DetachedJwsSigner
) -> None:
    receiver.hang_seconds = 4.0
    adapter = build(receiver, tls, body_signer, timeout=0.5)
    receiver.fail_next(1, mode)
    try:
        with pytest.raises(TransientDeliveryError) as caught:
            await adapter.deliver(make_envelope())
        assert caught.value.retryable
        receipt = await adapter.deliver(make_envelope())
    finally:
        await adapter.aclose()
    assert not receipt.duplicate


async def test_rejection_is_permanent(
    receiver: Receiver, tls: TlsFiles, body_signer: DetachedJwsSigner
) -> None:
    adapter = build(receiver, tls, body_signer)
    receiver.fail_next(1, "400")
    try:
        with pytest.raises(PermanentDeliveryError) as caught:
            await adapter.deliver(make_envelope())
    finally:
        await adapter.aclose()
    assert not caught.value.retryable
    assert caught.value.rule == "http.400"


async def test_a_receiver_still_processing_the_first_post_is_asked_again(
    receiver: Receiver, tls: TlsFiles, body_signer: DetachedJwsSigner
) -> None:
    """A retry after a crash may reach a receiver still processing the first post of the
    same ``Idempotency-Key``; it answers 409, and the client retries unchanged
    (draft-ietf-httpapi-idempotency-key-header, "Error Scenarios": 409 is the one error
    that needs no correction). Taken as a rejection, a document the receiver is about to
    accept would be dead-lettered."""
    adapter = build(receiver, tls, body_signer)
    receiver.fail_next(1, "409")
    try:
        with pytest.raises(TransientDeliveryError) as caught:
            await adapter.deliver(make_envelope())
        receipt = await adapter.deliver(make_envelope())
    finally:
        await adapter.aclose()
    assert caught.value.retryable and caught.value.rule == "http.409"
    assert receipt.message_id in receiver.accepted


async def test_unsigned_body_is_refused_by_a_verifying_receiver(
    receiver: Receiver, tls: TlsFiles
) -> None:
    adapter = build(receiver, tls, None)
    try:
        with pytest.raises(PermanentDeliveryError, match="401"):
            await adapter.deliver(make_envelope())
    finally:
        await adapter.aclose()


async def test_without_client_certificate_tls_fails(receiver: Receiver, tls: TlsFiles) -> None:
    adapter = HttpsAdapter.from_config(
        "hk",
        {"url": receiver.url, "ca": str(tls.ca), "timeout": 2},
        AdapterContext(data_dir=tls.ca.parent),
    )
    try:
        with pytest.raises(TransientDeliveryError):
            await adapter.deliver(make_envelope())
    finally:
        await adapter.aclose()
    assert not receiver.accepted


def test_detached_signature_round_trip(body_signer: DetachedJwsSigner) -> None:
    token = body_signer.sign_detached(b"body")
    header = verify_detached(token, b"body", body_signer.key.public_key())
    assert header["alg"] == "ES256"
    with pytest.raises(VerificationError):
        verify_detached(token, b"other", body_signer.key.public_key())


def test_options_are_checked(tmp_path: Path) -> None:
    context = AdapterContext(data_dir=tmp_path)
    with pytest.raises(ConfigError, match="https"):
        HttpsAdapter.from_config("hk", {"url": "http://x"}, context)
    with pytest.raises(ConfigError, match="unknown"):
        HttpsAdapter.from_config("hk", {"url": "https://x", "colour": 1}, context)
    with pytest.raises(ConfigError, match="together"):
        HttpsAdapter.from_config("hk", {"url": "https://x", "client_cert": "a.pem"}, context)
    for key, bad in (("timeout", "30s"), ("timeout", 0), ("connect_timeout", -1.0)):
        with pytest.raises(ConfigError) as caught:
            HttpsAdapter.from_config("hk", {"url": "https://x", key: bad}, context)
        assert caught.value.field == f"adapters.hk.{key}"


def test_an_inbox_without_inbound_trust_is_named_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An inbox that requires no signature is the operator's choice (a TLS proxy may
    authenticate the sender), never a silent one."""
    import logging

    from adapters.https.adapter import HttpsOptions

    with caplog.at_level(logging.WARNING, logger="lingang.adapters.https"):
        HttpsOptions.parse(
            "hk", {"url": "https://hk.example/inbox", "inbound_path": "/inbound/hk"}, tmp_path
        )
    assert any("receives at /inbound/hk from anyone" in r.getMessage() for r in caplog.records)
