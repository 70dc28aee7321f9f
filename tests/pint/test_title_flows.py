"""Title over the wire, in process: two platforms on loopback TLS, the ``transfer`` kind run
on claimed jobs. A to-order eBL is endorsed, moved, endorsed again by its holder only, and
surrendered to the issuing carrier, which accepts the surrender (``SACC``); after that nobody
can move it. A surrender the carrier rejects (``SREJ``) gives the eBL back to the party that
asked, who may transfer it again."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.delivery.registry import AdapterRegistry
from gateway.delivery.transfer import TransferKind
from gateway.pint.codes import ActionCode
from gateway.pint.title import Party
from gateway.signing.jose import split_compact
from gateway.store import ConflictError
from gateway.testing.cluster import free_port
from gateway.testing.pint import (
    InProcessPlatform,
    platform,
    transport_document,
    write_platform_homes,
)
from gateway.testing.tls import make_tls


@pytest.fixture
async def pair(
    tmp_path: Path, reference: Path
) -> AsyncIterator[tuple[InProcessPlatform, InProcessPlatform]]:
    tls = make_tls(tmp_path / "tls")
    platforms = [
        platform("AEOT", "ed25519", "SHIPPER", carrier=True),
        platform("IQAX", "rsa", "BANK"),
    ]
    homes = write_platform_homes(
        tmp_path, platforms, reference_root=reference, tls=tls, ports=[free_port(), free_port()]
    )
    a, b = InProcessPlatform(homes[0], tls), InProcessPlatform(homes[1], tls)
    await a.start()
    await b.start()
    yield a, b
    await a.stop()
    await b.stop()


def not_asking(node: InProcessPlatform, partner: str) -> None:
    """``node`` sends to ``partner`` without asking its receiver validation first (the
    partner's ``receiver_validation = false``), so the envelope reaches the receiving
    platform's own check of the party (``BENV``)."""
    partners = node.adapter.platform.options.partners
    partners[partner] = dataclasses.replace(partners[partner], receiver_validation=False)


async def run_transfers(node: InProcessPlatform) -> list[str]:
    """Claim and run every due ``transfer`` job of ``node``; the response codes."""
    kind = TransferKind(node.store, AdapterRegistry({"pint": node.adapter}))
    codes = []
    for job in await node.store.claim_jobs("test-worker", limit=10):
        await kind.run(job, "test-worker")
        outbound = await kind.registry.outbound(job.submission_id)
        codes.append(outbound.response_code if outbound else None)
    return codes


async def test_to_order_ebl_endorsed_moved_and_surrendered(pair: Any, reference: Path) -> None:
    a, b = pair
    pa, pb = a.adapter.platform, b.adapter.platform
    document = transport_document(reference, "ORDER00001", isToOrder=True)
    shipper, bank = pa.options.party("SHIPPER"), pb.options.party("BANK")
    held = await pa.issue(document, to=shipper)
    assert held.state == "held"

    await pa.transfer("ORDER00001", to=bank, action=ActionCode.ENDORSE_TO_ORDER)
    assert await run_transfers(a) == ["RECE"]
    at_a, at_b = await pa.registry.find("ORDER00001"), await pb.registry.find("ORDER00001")
    assert at_a.state == "held"  # an endorsement notifies; possession stays with the shipper
    assert at_b.state == "transferred" and at_b.title["holder"]["eblPlatform"] == "IQAX"

    with pytest.raises(ConflictError, match="only the named holder"):
        await pa.transfer("ORDER00001", to=bank, action=ActionCode.ENDORSE)
    await pa.transfer("ORDER00001", to=bank)
    assert await run_transfers(a) == ["RECE"]
    at_a, at_b = await pa.registry.find("ORDER00001"), await pb.registry.find("ORDER00001")
    assert (at_a.state, at_b.state) == ("transferred", "held")
    assert len(at_b.chain) == 3

    assert pa.options.carrier is not None
    with pytest.raises(ConflictError, match="only to the issuing carrier"):
        await pb.transfer(
            "ORDER00001", to=pa.options.party("SHIPPER"), action=ActionCode.SURRENDER_FOR_DELIVERY
        )
    await pb.transfer("ORDER00001", to=pa.options.carrier, action=ActionCode.SURRENDER_FOR_DELIVERY)
    assert await run_transfers(b) == ["RECE"]
    at_a, at_b = await pa.registry.find("ORDER00001"), await pb.registry.find("ORDER00001")
    # a surrender is a request: the carrier possesses the eBL until it answers it
    assert (at_a.state, at_b.state) == ("held", "transferred")
    assert at_a.title["surrenderRequestedBy"]["eblPlatform"] == "IQAX"
    assert not at_a.title["surrendered"]
    with pytest.raises(ConflictError, match="only the carrier's SACC or SREJ"):
        await pa.transfer("ORDER00001", to=bank)
    await pa.transfer("ORDER00001", to=bank, action=ActionCode.SACC)
    assert await run_transfers(a) == ["RECE"]
    at_a, at_b = await pa.registry.find("ORDER00001"), await pb.registry.find("ORDER00001")
    assert (at_a.state, at_b.state) == ("surrendered", "surrendered")
    assert at_a.title["surrendered"] and at_b.title["surrendered"]
    for node in (pa, pb):
        with pytest.raises(ConflictError):
            await node.transfer("ORDER00001", to=bank if node is pa else shipper)
    history = await pa.history("ORDER00001")
    assert [t["actionCode"] for e in history["chain"] for t in e["transactions"]] == [
        "ISSUE", "ENDORSE_TO_ORDER", "TRANSFER", "SURRENDER_FOR_DELIVERY", "SACC",
    ]  # fmt: skip


async def test_a_rejected_surrender_gives_the_ebl_back(pair: Any, reference: Path) -> None:
    """SREJ returns possession to the party that asked to surrender; it may transfer again."""
    a, b = pair
    pa, pb = a.adapter.platform, b.adapter.platform
    shipper, bank = pa.options.party("SHIPPER"), pb.options.party("BANK")
    assert pa.options.carrier is not None
    await pa.issue(transport_document(reference, "SREJ000001"), to=bank)
    assert await run_transfers(a) == ["RECE"]
    await pb.transfer(
        "SREJ000001", to=pa.options.carrier, action=ActionCode.SURRENDER_FOR_AMENDMENT
    )
    assert await run_transfers(b) == ["RECE"]
    assert (await pa.registry.find("SREJ000001")).state == "held"
    await pa.transfer("SREJ000001", to=bank, action=ActionCode.SREJ)
    assert await run_transfers(a) == ["RECE"]
    at_a, at_b = await pa.registry.find("SREJ000001"), await pb.registry.find("SREJ000001")
    assert (at_a.state, at_b.state) == ("transferred", "held")
    assert at_b.title["possessor"]["identifyingCodes"] == [
        {"codeListProvider": "IQAX", "partyCode": "BANK"}
    ]
    assert at_b.title["surrenderRequestedBy"] is None and not at_b.title["surrendered"]
    await pb.transfer("SREJ000001", to=shipper)
    assert await run_transfers(b) == ["RECE"]
    assert (await pa.registry.find("SREJ000001")).state == "held"


async def test_a_transfer_to_a_party_unknown_here_is_refused(pair: Any, reference: Path) -> None:
    """The sending platform asks the receiving one first (receiver validation) and keeps
    the eBL unlocked when it does not know the party; sent without asking, the receiving
    platform answers BENV when the transferee is not one of its parties (the
    receiver-validation rule); the sender keeps the eBL."""
    from gateway.errors import FieldError

    a, b = pair
    pa, pb = a.adapter.platform, b.adapter.platform
    await pa.issue(transport_document(reference, "NOBODY0001"), to=pa.options.party("SHIPPER"))
    nobody = Party("IQAX", "Nobody", frozenset({("IQAX", "NOBODY")}))
    with pytest.raises(FieldError, match="does not know the party 'NOBODY'"):
        await pa.transfer("NOBODY0001", to=nobody)
    assert (await pa.registry.find("NOBODY0001")).state == "held"
    assert await run_transfers(a) == []
    not_asking(a, "IQAX")
    await pa.transfer("NOBODY0001", to=nobody)
    assert await run_transfers(a) == ["BENV"]
    assert (await pa.registry.find("NOBODY0001")).state == "held"
    assert await pb.registry.find("NOBODY0001") is None
    (outbound,) = await pa.registry.outbound_of((await pa.registry.find("NOBODY0001")).td_checksum)
    assert outbound.response is not None
    _, payload, _, _ = split_compact(outbound.response)
    assert "IQAX:IQAX/NOBODY is not a party of platform IQAX" in json.loads(payload)["reason"]
    await pa.transfer("NOBODY0001", to=pb.options.party("BANK"))
    assert await run_transfers(a) == ["RECE"]


async def test_issue_straight_to_another_platform(pair: Any, reference: Path) -> None:
    a, b = pair
    pa, pb = a.adapter.platform, b.adapter.platform
    await pa.issue(transport_document(reference, "STRAIGHT01"), to=pb.options.party("BANK"))
    assert (await pa.registry.find("STRAIGHT01")).state == "sending"
    assert await run_transfers(a) == ["RECE"]
    assert (await pa.registry.find("STRAIGHT01")).state == "transferred"
    assert (await pb.registry.find("STRAIGHT01")).state == "held"
    with pytest.raises(ConflictError, match="issued before"):
        await pa.issue(transport_document(reference, "STRAIGHT01"), to=pa.options.party("SHIPPER"))


async def test_a_large_supporting_document_arrives_whole(pair: Any, reference: Path) -> None:
    """A 3 MB document travels as a 4 MB JSON string: read whole, however it is chunked."""
    from adapters.dcsa_pint.platform import Attachment
    from gateway.pint.checksums import bytes_checksum

    a, b = pair
    pa, pb = a.adapter.platform, b.adapter.platform
    big = bytes(range(256)) * (3 * 1024 * 1024 // 256)
    await pa.issue(
        transport_document(reference, "BIGDOC0001"),
        to=pb.options.party("BANK"),
        attachments=[Attachment("scan.pdf", big)],
    )
    assert await run_transfers(a) == ["RECE"]
    assert await pb.registry.document(bytes_checksum(big)) == ("application/pdf", big)


async def test_an_ebl_back_before_the_answer_to_its_transfer_is_received(
    pair: Any, reference: Path
) -> None:
    """The shipper's transfer reached the bank's platform, but its signed answer was lost
    (the sender crashed before recording it). The bank transfers the eBL back: the envelope
    continues the chain the shipper's platform is still sending, so it is RECE, not DISE,
    and the transfer is settled; the retried job then keeps the bank's signed DUPE as its
    acknowledgement and leaves the title alone."""
    from adapters.base import Envelope

    a, b = pair
    pa, pb = a.adapter.platform, b.adapter.platform
    shipper, bank = pa.options.party("SHIPPER"), pb.options.party("BANK")
    await pa.issue(transport_document(reference, "LOSTANSWER"), to=shipper)
    sent = await pa.transfer("LOSTANSWER", to=bank)
    reached = await a.adapter.deliver(
        Envelope(
            message_id=f"{sent.id}@pint",
            body=json.dumps(sent.envelope).encode(),
            content_type="application/json",
            receiver="IQAX",
            document_kind="bill-of-lading",
            attachments={},
        )
    )
    assert reached.details["responseCode"] == "RECE"  # ...and the answer is lost
    assert (await pa.registry.find("LOSTANSWER")).state == "sending"

    await pb.transfer("LOSTANSWER", to=shipper)
    assert await run_transfers(b) == ["RECE"]
    at_a, at_b = await pa.registry.find("LOSTANSWER"), await pb.registry.find("LOSTANSWER")
    assert (at_a.state, at_b.state) == ("held", "transferred")
    assert at_a.chain == at_b.chain and len(at_a.chain) == 3
    (settled,) = (await pa.history("LOSTANSWER"))["transfers"]
    assert (settled["state"], settled["responseCode"], settled["response"]) == (
        "accepted", None, None,
    )  # fmt: skip
    assert settled["reason"].startswith("accepted: the eBL came back")

    assert await run_transfers(a) == ["DUPE"]
    history = await pa.history("LOSTANSWER")
    assert history["state"] == "held" and history["possessor"] == "AEOT:AEOT/SHIPPER"
    assert history["transfers"][0]["state"] == "accepted"
    assert history["transfers"][0]["responseCode"] == "DUPE"
    (outbound,) = await pa.registry.outbound_of(at_a.td_checksum)
    _, payload, _, _ = split_compact(outbound.response)
    assert json.loads(payload)["responseCode"] == "DUPE"

    await pa.transfer("LOSTANSWER", to=bank)
    assert await run_transfers(a) == ["RECE"]
    assert (await pb.registry.find("LOSTANSWER")).state == "held"


async def test_the_history_shows_each_transfers_signed_answer_and_reason(
    pair: Any, reference: Path
) -> None:
    """The holder sees why a transfer was refused (the reason the receiving platform signed)
    and gets each signed acknowledgement as it came, verifiable with the receiver's key."""
    from gateway.pint.checksums import jws_checksum
    from gateway.pint.responses import read_response

    a, b = pair
    pa, pb = a.adapter.platform, b.adapter.platform
    await pa.issue(transport_document(reference, "ANSWERS001"), to=pa.options.party("SHIPPER"))
    not_asking(a, "IQAX")
    nobody = Party("IQAX", "Nobody", frozenset({("IQAX", "NOBODY")}))
    refused = await pa.transfer("ANSWERS001", to=nobody)
    assert await run_transfers(a) == ["BENV"]
    taken = await pa.transfer("ANSWERS001", to=pb.options.party("BANK"))
    assert await run_transfers(a) == ["RECE"]

    first, second = (await pa.history("ANSWERS001"))["transfers"]
    assert (first["state"], first["responseCode"]) == ("rejected", "BENV")
    assert "IQAX:IQAX/NOBODY is not a party of platform IQAX" in first["reason"]
    assert (second["state"], second["responseCode"], second["held"]) == ("accepted", "RECE", None)
    for shown, sent in ((first, refused), (second, taken)):
        last = jws_checksum(sent.envelope["envelopeTransferChain"][-1])
        answer = read_response(
            shown["response"], pa.options.keys, platform="IQAX", last_checksum=last
        )
        assert answer.code.value == shown["responseCode"]


async def test_the_history_survives_a_partners_key_rotation(pair: Any, reference: Path) -> None:
    """The carrier's platform rotates its signing key and the bank's platform knows only the
    new one: the entries signed with the old key can no longer be verified there, and the
    history says so entry by entry instead of refusing to show the bank its own eBL."""
    import dataclasses

    from gateway.signing.jose import KeySet
    from gateway.testing.pint import make_key

    a, b = pair
    pa, pb = a.adapter.platform, b.adapter.platform
    await pa.issue(transport_document(reference, "ROTATED001"), to=pb.options.party("BANK"))
    assert await run_transfers(a) == ["RECE"]
    before = await pb.history("ROTATED001")
    assert [e["signatureVerified"] for e in before["chain"]] == [True]

    rotated = KeySet()
    rotated.add(pb.options.signer.key, "IQAX")
    rotated.add(make_key("ed25519"), "AEOT")
    pb.options = dataclasses.replace(pb.options, keys=rotated)
    after = await pb.history("ROTATED001")
    assert (after["state"], after["possessor"]) == ("held", "IQAX:IQAX/BANK")
    (entry,) = after["chain"]
    assert (entry["platform"], entry["signatureVerified"], entry["signedBy"]) == (
        "AEOT", False, None,
    )  # fmt: skip
    assert entry["kid"] == before["chain"][0]["kid"]
    assert "unknown signing key" in entry["signatureProblem"]
    assert [t["actionCode"] for t in entry["transactions"]] == ["ISSUE"]


async def test_the_history_judges_a_certified_key_at_the_entry_s_time(
    pair: Any, reference: Path
) -> None:
    """The carrier's platform gave its key in a certificate that has expired since the
    entry was signed: the entry is history, verified at the time it claims. A certificate
    that ended before that time does not cover it, and the history says so."""
    import asyncio
    import dataclasses
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    from gateway.signing.jose import KeySet
    from tests.live_revocation import self_signed_ca

    a, b = pair
    pa, pb = a.adapter.platform, b.adapter.platform
    await pa.issue(transport_document(reference, "CERTIFIED1"), to=pb.options.party("BANK"))
    assert await run_transfers(a) == ["RECE"]
    ca_cert, ca_key = self_signed_ca("Partner keys CA")
    aeot_key = pa.options.signer.key.public_key()

    def certified_until(end: datetime) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name.from_rfc4514_string("CN=AEOT signing"))
            .issuer_name(ca_cert.subject)
            .public_key(aeot_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(datetime.now(UTC) - timedelta(days=1))
            .not_valid_after(end)
            .sign(ca_key, hashes.SHA256())
        )

    def history_with(certificate: x509.Certificate) -> Any:
        keys = KeySet()
        keys.add(pb.options.signer.key, "IQAX")
        keys.add(aeot_key, "AEOT", certificate=certificate)
        pb.options = dataclasses.replace(pb.options, keys=keys)
        return pb.history("CERTIFIED1")

    lapsing = certified_until(datetime.now(UTC) + timedelta(seconds=2))
    await asyncio.sleep(2.5)
    (entry,) = (await history_with(lapsing))["chain"]
    assert (entry["signatureVerified"], entry["signedBy"]) == (True, "AEOT"), entry
    ended = certified_until(datetime.now(UTC) - timedelta(hours=1))
    (entry,) = (await history_with(ended))["chain"]
    assert entry["signatureVerified"] is False
    assert f"CN=AEOT signing (serial {ended.serial_number:x})" in entry["signatureProblem"]


async def test_a_refused_issue_is_shown_not_issued_with_the_signed_refusal(
    pair: Any, reference: Path
) -> None:
    """An issue straight to another platform that refuses it leaves nothing issued (the
    carrier may issue again), but its history still tells the carrier's operator why,
    by reference and by checksum; once issued after all, the refusal stays in its history."""
    from gateway.store import NotFoundError

    a, b = pair
    pa, pb = a.adapter.platform, b.adapter.platform
    not_asking(a, "IQAX")
    nobody = Party("IQAX", "Nobody", frozenset({("IQAX", "NOBODY")}))
    document = transport_document(reference, "REFUSED001")
    sent = await pa.issue(document, to=nobody)
    assert await run_transfers(a) == ["BENV"]
    assert await pa.registry.find("REFUSED001") is None

    for key in ("REFUSED001", sent.td_checksum):
        shown = await pa.history(key)
        assert (shown["state"], shown["possessor"], shown["chain"]) == (
            "not-issued", "AEOT:AEOT/COSCO", [],
        )  # fmt: skip
        assert shown["transportDocumentChecksum"] == sent.td_checksum
        (attempt,) = shown["transfers"]
        assert (attempt["state"], attempt["responseCode"]) == ("rejected", "BENV")
        assert "IQAX:IQAX/NOBODY is not a party of platform IQAX" in attempt["reason"]
    with pytest.raises(NotFoundError):
        await pb.history("REFUSED001")  # the receiving platform has nothing
    represents = {"cosco-ops": frozenset({"COSCO"}), "trader": frozenset({"SHIPPER"})}
    pa.options = dataclasses.replace(
        pa.options, tenants=frozenset(represents), represents=represents
    )
    with pytest.raises(NotFoundError):
        await pa.history("REFUSED001", tenant_id="trader")  # not the carrier's operator

    await pa.issue(document, to=pb.options.party("BANK"))
    assert await run_transfers(a) == ["RECE"]
    issued = await pa.history("REFUSED001", tenant_id="cosco-ops")
    assert issued["state"] == "transferred"
    assert [t["responseCode"] for t in issued["transfers"]] == ["BENV", "RECE"]


async def test_an_ebl_received_from_another_platform_is_listed(pair: Any, reference: Path) -> None:
    """The bank's platform finds the eBL it received without knowing its reference."""
    a, b = pair
    pa, pb = a.adapter.platform, b.adapter.platform
    await pa.issue(transport_document(reference, "LISTED0001"), to=pb.options.party("BANK"))
    assert await pb.listing() == []
    assert await run_transfers(a) == ["RECE"]
    (received,) = await pb.listing()
    assert (received["transportDocumentReference"], received["state"]) == ("LISTED0001", "held")
    assert (received["possessor"], received["mayTransfer"]) == ("IQAX:IQAX/BANK", True)
    (passed,) = await pa.listing(state="transferred")
    assert (passed["possessor"], passed["mayTransfer"]) == ("IQAX:IQAX/BANK", False)
    assert await pa.listing(state="held") == []
