"""The ``dcsa_pint`` adapter: the adapter contract against a real receiving platform on TLS,
and its options refused by name."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from adapters.base import AdapterContext, Envelope, Receipt
from adapters.dcsa_pint import PintAdapter
from adapters.testing import AdapterContract
from gateway.errors import ConfigError, TransientDeliveryError
from gateway.pint import build
from gateway.pint.checksums import bytes_checksum, jws_checksum
from gateway.pint.codes import ActionCode, ResponseCode
from gateway.pint.responses import sign_response
from gateway.signing.jose import CompactSigner
from gateway.store.ebl import EblRegistry
from gateway.testing.cluster import free_port
from gateway.testing.pint import (
    DemoPlatform,
    InProcessPlatform,
    make_key,
    pem,
    platform,
    transport_document,
    write_platform_homes,
)
from gateway.testing.tls import TlsFiles, make_tls

DOCUMENT = b"%PDF-1.7 packing list"


class TestPintContract(AdapterContract):
    @pytest.fixture
    async def adapter(self, tmp_path: Path, reference: Path) -> AsyncIterator[PintAdapter]:
        tls: TlsFiles = make_tls(tmp_path / "tls")
        self.reference = reference
        self.sender, self.receiver_platform = (
            platform("AEOT", "ed25519", "SHIPPER", carrier=True),
            platform("IQAX", "p256", "BUYER"),
        )
        homes = write_platform_homes(
            tmp_path, [self.sender, self.receiver_platform], reference_root=reference, tls=tls,
            ports=[free_port(), free_port()],
        )  # fmt: skip
        sending, receiving = InProcessPlatform(homes[0], tls), InProcessPlatform(homes[1], tls)
        await sending.start()
        await receiving.start()
        self.receiving = receiving
        self.sent: dict[str, str] = {}
        yield sending.adapter
        await sending.stop()
        await receiving.stop()

    def make_envelope(self, variant: int = 0) -> Envelope:
        sender = self.sender
        assert sender.carrier is not None and sender.carrier_key is not None
        document = transport_document(self.reference, f"C{uuid.uuid4().hex[:12].upper()}")
        issuance = build.issuance_manifest(
            document, sender.party, CompactSigner(sender.carrier_key)
        )
        transactions = [
            build.transaction(ActionCode.ISSUE, sender.carrier, sender.party),
            build.transaction(ActionCode.TRANSFER, sender.party, self.receiver_platform.party),
        ]
        from gateway.pint.checksums import document_checksum

        entry = build.chain_entry(
            sender.signer, sender.code, document_checksum(document), transactions, issuance=issuance
        )
        meta = build.document_metadata("packing-list.pdf", DOCUMENT, "application/pdf")
        body = build.envelope(sender.signer, document, [entry], [meta])
        message_id = f"{uuid.uuid4()}@pint"
        self.sent[message_id] = jws_checksum(entry)
        return Envelope(
            message_id=message_id,
            body=json.dumps(body).encode(),
            content_type="application/json",
            receiver="IQAX",
            attachments={bytes_checksum(DOCUMENT): DOCUMENT},
        )

    async def delivered_count(self, adapter: Any, message_id: str) -> int:
        registry = EblRegistry.of(self.receiving.store)
        return 0 if await registry.accepted(self.sent[message_id]) is None else 1


def test_options_are_checked_by_name(tmp_path: Path) -> None:
    context = AdapterContext(data_dir=tmp_path, store=None)
    with pytest.raises(ConfigError, match="needs the gateway's store"):
        PintAdapter.from_config("pint", {}, context)

    class FakeStore:
        connector: Any = None
        clock: Any = None

    context = AdapterContext(data_dir=tmp_path, store=FakeStore())
    cases = {
        "unknown options": {"platform": "AEOT", "colour": "red"},
        "'platform' is required": {},
        "up to 4 letters": {"platform": "TOOLONG"},
        "'signing_key' is required": {"platform": "AEOT"},
    }
    for message, options in cases.items():
        with pytest.raises(ConfigError, match=message):
            PintAdapter.from_config("pint", options, context)
    (tmp_path / "k.pem").write_text("not a key")
    with pytest.raises(ConfigError, match="cannot load private key"):
        PintAdapter.from_config(
            "pint", {"platform": "AEOT", "signing_key": "k.pem", "envelope_schema": "x"}, context
        )


async def test_partner_keys_from_their_published_jwks(tmp_path: Path, reference: Path) -> None:
    """Neither platform holds the other's keys: each fetches the other's JWKS over https on
    first need (an unknown kid) and the transfer completes."""

    from gateway.signing.jose import jwks_of

    tls = make_tls(tmp_path / "tls")
    sender, receiver = (
        platform("AEOT", "ed25519", "SHIPPER", carrier=True),
        platform("IQAX", "rsa", "BUYER"),
    )
    homes = write_platform_homes(
        tmp_path,
        [sender, receiver],
        reference_root=reference,
        tls=tls,
        ports=[free_port(), free_port()],
    )
    published = {"AEOT": jwks_of([sender.key]), "IQAX": jwks_of([receiver.key])}

    async def serve_jwks(request: web.Request) -> web.Response:
        return web.json_response(published[request.match_info["code"]])

    app = web.Application()
    app.router.add_get("/{code}.json", serve_jwks)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(
        runner, "127.0.0.1", port, ssl_context=tls.server_context(require_client_cert=False)
    ).start()
    for home in homes:
        text = home.config.read_text()
        lines = []
        for line in text.splitlines():
            if line.startswith("jwks = "):
                code = Path(json.loads(line.split("=", 1)[1])).name.split(".")[0]
                line = f'jwks_url = "https://127.0.0.1:{port}/{code}.json"'
            lines.append(line)
        home.config.write_text("\n".join(lines) + "\n")
    sending, receiving = InProcessPlatform(homes[0], tls), InProcessPlatform(homes[1], tls)
    await sending.start()
    await receiving.start()
    try:
        assert len(sending.adapter.options.keys.keys) == 1  # only its own
        contract = TestPintContract()
        contract.reference, contract.sender, contract.receiver_platform = (
            reference,
            sender,
            receiver,
        )
        contract.sent = {}
        receipt = await sending.adapter.deliver(contract.make_envelope())
        assert receipt.details["responseCode"] == "RECE"
        assert len(receiving.adapter.options.keys.keys) == 2
    finally:
        await sending.stop()
        await receiving.stop()
        await runner.cleanup()


async def test_x5c_chains_checked_against_the_trust_store_over_the_wire(
    tmp_path: Path, reference: Path
) -> None:
    """The receiver requires an x5c chain to its trust store: the sender's chained signatures
    pass, the same key without the chain is BSIG."""
    import trustme
    from cryptography.hazmat.primitives import serialization

    from gateway.delivery.registry import AdapterRegistry
    from gateway.delivery.transfer import TransferKind

    ca = trustme.CA()
    leaf = ca.issue_cert("aeot.example")
    (tmp_path / "aeot.pem").write_bytes(leaf.cert_chain_pems[0].bytes())
    (tmp_path / "roots.pem").write_bytes(ca.cert_pem.bytes())
    tls = make_tls(tmp_path / "tls")
    sender, receiver = (
        platform("AEOT", "p256", "SHIPPER", carrier=True),
        platform("IQAX", "rsa", "BUYER"),
    )
    sender.key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), None)  # type: ignore[assignment]
    homes = write_platform_homes(
        tmp_path,
        [sender, receiver],
        reference_root=reference,
        tls=tls,
        ports=[free_port(), free_port()],
    )
    for home, extra in ((homes[0], f'signing_chain = ["{tmp_path / "aeot.pem"}"]'),
                        (homes[1], f'trust = ["{tmp_path / "roots.pem"}"]\nrequire_x5c = true')):  # fmt: skip
        home.config.write_text(
            home.config.read_text().replace("timeout = 10.0\n", f"timeout = 10.0\n{extra}\n", 1)
        )
    sending, receiving = InProcessPlatform(homes[0], tls), InProcessPlatform(homes[1], tls)
    await sending.start()
    await receiving.start()
    try:
        await sending.adapter.platform.issue(
            transport_document(reference, "X5C0000001"), to=receiving.adapter.options.party("BUYER")
        )
        kind = TransferKind(sending.store, AdapterRegistry({"pint": sending.adapter}))
        (job,) = await sending.store.claim_jobs("w", limit=5)
        await kind.run(job, "w")
        assert (await receiving.adapter.platform.registry.find("X5C0000001")).state == "held"
        contract = TestPintContract()
        contract.reference, contract.sender, contract.receiver_platform, contract.sent = (
            reference,
            sender,
            receiver,
            {},
        )
        unchained = await sending.adapter.deliver(
            contract.make_envelope()
        )  # DemoPlatform signer: no x5c
        assert unchained.details["responseCode"] == "BSIG"
        assert "x5c" in unchained.details["reason"]
    finally:
        await sending.stop()
        await receiving.stop()


def test_signing_chain_must_match_the_signing_key(tmp_path: Path, reference: Path) -> None:
    import trustme

    leaf = trustme.CA().issue_cert("aeot.example")
    (tmp_path / "aeot.pem").write_bytes(leaf.cert_chain_pems[0].bytes())
    (tmp_path / "k.pem").write_bytes(pem(make_key("p256")))

    class FakeStore:
        connector: Any = None
        clock: Any = None

    options = {
        "platform": "AEOT",
        "signing_key": "k.pem",
        "signing_chain": ["aeot.pem"],
        "envelope_schema": "x",
    }
    with pytest.raises(ConfigError, match="not the signing key"):
        PintAdapter.from_config(
            "pint", options, AdapterContext(data_dir=tmp_path, store=FakeStore())
        )


async def test_sender_follows_the_receivers_own_envelope_reference(
    tmp_path: Path, reference: Path
) -> None:
    """A receiver built by someone else hands out an opaque reference of its own (here with a
    slash): the documents and the finish go to exactly that reference."""
    seen: list[str] = []
    state: dict[str, str] = {}

    def make_app(foreign: DemoPlatform) -> web.Application:
        async def start(request: web.Request) -> web.Response:
            body = await request.json()
            state["last"] = jws_checksum(body["envelopeTransferChain"][-1])
            return web.json_response({
                "envelopeReference": "opaque/ref 1",
                "transportDocumentChecksum": "0" * 64,
                "lastEnvelopeTransferChainEntrySignedContentChecksum": state["last"],
                "missingAdditionalDocumentChecksums": [bytes_checksum(DOCUMENT)],
            }, status=201)  # fmt: skip

        async def document(request: web.Request) -> web.Response:
            seen.append(f"doc {request.match_info['ref']}")
            return web.Response(status=204)

        async def finish(request: web.Request) -> web.Response:
            seen.append(f"finish {request.match_info['ref']}")
            token = sign_response(
                foreign.signer,
                ResponseCode.RECE,
                state["last"],
                received=[bytes_checksum(DOCUMENT)],
            )
            return web.json_response(token)

        app = web.Application()
        app.router.add_post("/v3/envelopes", start)
        app.router.add_put("/v3/envelopes/{ref}/additional-documents/{checksum}", document)
        app.router.add_put("/v3/envelopes/{ref}/finish-transfer", finish)
        return app

    receipt = await deliver_to_hand_written_platform(tmp_path, reference, make_app)
    assert receipt.details["responseCode"] == "RECE"
    assert seen == ["doc opaque/ref 1", "finish opaque/ref 1"]


def test_parties_known_here_follow_the_receiver_validation_rule() -> None:
    """A party is known when it is on this platform and one of its identifying codes is this
    platform's code list with a code of ``parties`` (or of the carrier issuing here)."""
    from adapters.dcsa_pint.options import PintOptions
    from gateway.pint.title import Party
    from gateway.signing.jose import KeySet

    options = PintOptions(
        platform="IQAX",
        signer=CompactSigner(make_key("p256")),
        keys=KeySet(),
        carriers=KeySet(),
        envelope_schema=Path("unused.json"),
        parties={"BANK": "Bank Ltd"},
        carrier=Party("IQAX", "OOCL", frozenset({("IQAX", "OOCL")})),
    )
    assert options.party_name("IQAX", "BANK") == "Bank Ltd"
    assert options.party_name("IQAX", "OOCL") == "OOCL"
    assert options.party_name("SGTD", "BANK") is None
    assert options.party_name("IQAX", "NOBODY") is None
    assert options.knows(Party("IQAX", "Bank", frozenset({("LEI", "5493"), ("IQAX", "BANK")})))
    assert not options.knows(Party("SGTD", "Bank", frozenset({("IQAX", "BANK")})))
    assert not options.knows(Party("IQAX", "Bank", frozenset({("LEI", "BANK")})))
    assert not options.knows(Party("IQAX", "Nobody", frozenset({("IQAX", "NOBODY")})))


@pytest.mark.parametrize("lost_for_ever", [False, True])
async def test_sender_resends_the_documents_a_signed_mdoc_lists_and_finishes_again(
    tmp_path: Path, reference: Path, lost_for_ever: bool
) -> None:
    """PINT 3.0, finish-transfer 409: with ``MDOC`` "the sending platform should (re)send the
    missing documents (provided in ``missingAdditionalDocumentChecksums``) and then retry to
    finish the envelope transfer". A receiver that lost the document once gets it again and
    accepts; one that answers ``MDOC`` for ever gets it ``MAX_MDOC_ROUNDS`` more times, and
    the ``MDOC`` is the attempt's answer (not final: the transfer job retries later)."""
    from adapters.dcsa_pint.sender import MAX_MDOC_ROUNDS

    checksum = bytes_checksum(DOCUMENT)
    seen: list[str] = []
    state: dict[str, str] = {}

    def make_app(foreign: DemoPlatform) -> web.Application:
        async def start(request: web.Request) -> web.Response:
            body = await request.json()
            state["last"] = jws_checksum(body["envelopeTransferChain"][-1])
            return web.json_response({
                "envelopeReference": "ref-1",
                "transportDocumentChecksum": "0" * 64,
                "lastEnvelopeTransferChainEntrySignedContentChecksum": state["last"],
                "missingAdditionalDocumentChecksums": [checksum],
            }, status=201)  # fmt: skip

        async def document(request: web.Request) -> web.Response:
            assert request.match_info["checksum"] == checksum
            assert await request.json() == base64.b64encode(DOCUMENT).decode()
            seen.append("doc")
            return web.Response(status=204)

        async def finish(request: web.Request) -> web.Response:
            seen.append("finish")
            if lost_for_ever or seen.count("finish") == 1:
                token = sign_response(
                    foreign.signer, ResponseCode.MDOC, state["last"], missing=[checksum]
                )
                return web.json_response(token, status=409)
            token = sign_response(
                foreign.signer, ResponseCode.RECE, state["last"], received=[checksum]
            )
            return web.json_response(token)

        app = web.Application()
        app.router.add_post("/v3/envelopes", start)
        app.router.add_put("/v3/envelopes/{ref}/additional-documents/{checksum}", document)
        app.router.add_put("/v3/envelopes/{ref}/finish-transfer", finish)
        return app

    receipt = await deliver_to_hand_written_platform(tmp_path, reference, make_app)
    if lost_for_ever:
        assert receipt.details["responseCode"] == "MDOC"
        assert seen == ["doc", "finish"] * (MAX_MDOC_ROUNDS + 1)
    else:
        assert receipt.details["responseCode"] == "RECE"
        assert seen == ["doc", "finish", "doc", "finish"]


async def test_a_busy_platform_s_retry_after_reaches_the_retry_policy(
    tmp_path: Path, reference: Path
) -> None:
    """A partner platform that answers the envelope with 503 and ``Retry-After`` (no signed
    response: it did not look at it) is retried, not sooner than it asked."""

    def make_app(foreign: DemoPlatform) -> web.Application:
        async def busy(request: web.Request) -> web.Response:
            return web.Response(status=503, text="maintenance", headers={"Retry-After": "120"})

        app = web.Application()
        app.router.add_post("/v3/envelopes", busy)
        return app

    with pytest.raises(TransientDeliveryError) as caught:
        await deliver_to_hand_written_platform(tmp_path, reference, make_app)
    assert caught.value.retry_after == 120.0
    assert "HTTP 503 (Retry-After 120 s)" in str(caught.value)


async def deliver_to_hand_written_platform(
    tmp_path: Path, reference: Path, make_app: Callable[[DemoPlatform], web.Application]
) -> Receipt:
    """Deliver the contract's envelope from an in-process sending platform (AEOT) to a
    receiving platform (IQAX) written by hand as ``make_app(iqax)``, served over TLS."""
    tls = make_tls(tmp_path / "tls")
    sender, foreign = (
        platform("AEOT", "ed25519", "SHIPPER", carrier=True),
        platform("IQAX", "rsa", "BUYER"),
    )
    homes = write_platform_homes(
        tmp_path, [sender, foreign], reference_root=reference, tls=tls,
        ports=[free_port(), free_port()],
    )  # fmt: skip
    runner = web.AppRunner(make_app(foreign))
    await runner.setup()
    await web.TCPSite(
        runner, "127.0.0.1", homes[1].port,
        ssl_context=tls.server_context(require_client_cert=False),
    ).start()  # fmt: skip
    sending = InProcessPlatform(homes[0], tls)
    await sending.start()
    try:
        contract = TestPintContract()
        contract.reference, contract.sender, contract.receiver_platform, contract.sent = (
            reference, sender, foreign, {},
        )  # fmt: skip
        return await sending.adapter.deliver(contract.make_envelope())
    finally:
        await sending.stop()
        await runner.cleanup()


@pytest.mark.parametrize(
    "content",
    [b"[1]", b'"keys"', b"\xff\xfe{}", b"{", b'{"keys": [], "keys": []}'],
    ids=["array", "string", "not-utf-8", "not-json", "keys-twice"],
)
def test_a_partner_jwks_file_that_is_no_jwks_is_a_config_error_naming_it(
    tmp_path: Path, reference: Path, content: bytes
) -> None:
    """A partner platform's JWKS file is handed to the operator from outside: one that is a
    JSON array raised AttributeError from the start (a traceback, not a configuration
    error), and the others' errors did not say which file or option."""
    from adapters.dcsa_pint.options import PintOptions
    from gateway.settings import Settings

    tls = make_tls(tmp_path / "tls")
    platforms = [
        platform("AEOT", "ed25519", "SHIPPER", carrier=True),
        platform("IQAX", "p256", "BUYER"),
    ]
    homes = write_platform_homes(
        tmp_path, platforms, reference_root=reference, tls=tls, ports=[free_port(), free_port()]
    )
    settings = Settings.load(homes[0].config, env={})
    options = settings.adapters["pint"].options
    jwks = Path(options["partners"]["IQAX"]["jwks"])
    jwks = jwks if jwks.is_absolute() else settings.data_dir / jwks
    jwks.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        PintOptions.parse("pint", options, settings.data_dir)
    assert caught.value.field == "adapters.pint.partners.IQAX.jwks"
    assert str(jwks) in caught.value.message


def test_a_partner_named_as_this_platform_is_refused(tmp_path: Path) -> None:
    """A partners block shared by a network's platforms, copied whole, names this platform
    too: its keys were added as this platform's (they would verify chain entries and
    carrier manifests signed "by" this platform). Refused at start, naming the partner."""
    (tmp_path / "k.pem").write_bytes(pem(make_key("p256")))

    class FakeStore:
        connector: Any = None
        clock: Any = None

    options = {
        "platform": "AEOT",
        "signing_key": "k.pem",
        "envelope_schema": "x",
        "partners": {
            "IQAX": {"url": "https://iqax.example"},
            "AEOT": {"url": "https://aeot.example"},
        },
    }
    context = AdapterContext(data_dir=tmp_path, store=FakeStore())
    with pytest.raises(ConfigError, match="is this platform itself") as caught:
        PintAdapter.from_config("pint", options, context)
    assert caught.value.field == "adapters.pint.partners.AEOT"
