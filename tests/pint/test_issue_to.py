"""``issueToChecksum``: the carrier's issuance manifest carries the RFC 8785 checksum of the
``issueTo`` of its DCSA issuance request (EBL_ISS 3.0.3: an ``IssueToParty``, whose platform is
``sendToPlatform``). No envelope carries that object, and the ``ISSUE`` transaction's
recipient is a PINT ``RecipientParty`` (``eblPlatform``), whose checksum differs by shape, so
a receiver cannot check it (DCSA's PINT conformance kit signs a random one: "the receiver
cannot validate the issueToChecksum anyway"). The receiver requires it, well formed, and
compares it with nothing: such envelopes are received."""

from __future__ import annotations

import hashlib
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.pint import build
from gateway.pint.chain import verify_envelope
from gateway.pint.checksums import document_checksum, jws_checksum
from gateway.pint.codes import ActionCode, PintRejection, ResponseCode
from gateway.pint.responses import read_response
from gateway.pint.schema import EnvelopeSchema
from gateway.pint.title import Party
from gateway.signing.jose import CompactSigner
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

from .chains import envelope, transfer


def _issue_to(party: Party) -> dict[str, Any]:
    """``party`` as EBL_ISS's ``IssueToParty`` (what a carrier's issuance request names)."""
    data = party.as_json()
    return {
        "partyName": data["partyName"],
        "sendToPlatform": data["eblPlatform"],
        "identifyingCodes": data["identifyingCodes"],
    }


def _issued_with(
    carrier_platform: DemoPlatform,
    document: dict[str, Any],
    issuance: dict[str, Any],
    *extra: dict[str, Any],
) -> str:
    """A first entry (ISSUE to ``carrier_platform.party``, then ``extra``) whose carrier-signed
    issuance manifest is ``issuance`` as given."""
    assert carrier_platform.carrier is not None and carrier_platform.carrier_key is not None
    transactions = [
        build.transaction(ActionCode.ISSUE, carrier_platform.carrier, carrier_platform.party),
        *extra,
    ]
    return build.chain_entry(
        carrier_platform.signer,
        carrier_platform.code,
        document_checksum(document),
        transactions,
        issuance=CompactSigner(carrier_platform.carrier_key).sign_json(issuance),
    )


def _issuances(a: DemoPlatform, document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    td = document_checksum(document)
    return {
        "EBL_ISS issueTo (sendToPlatform)": {
            "documentChecksum": td,
            "issueToChecksum": document_checksum(_issue_to(a.party)),
        },
        "unrelated (as the DCSA kit signs)": {
            "documentChecksum": td,
            "issueToChecksum": hashlib.sha256(b"a random UUID").hexdigest(),
        },
    }


def test_issue_to_checksum_is_not_compared_with_the_issue_recipient(
    platforms: dict[str, DemoPlatform], schema: EnvelopeSchema, document: dict[str, Any]
) -> None:
    a, b = platforms["A"], platforms["B"]
    keys, carriers = key_sets(list(platforms.values()))
    for name, issuance in _issuances(a, document).items():
        first = _issued_with(a, document, issuance, transfer(a.party, b.party))
        verified = verify_envelope(
            envelope(a, document, [first]),
            keys=keys,
            carriers=carriers,
            platform=b.code,
            schema=schema,
        )
        assert verified.title.possessor.same(b.party), name


def test_issue_to_checksum_is_still_required(
    platforms: dict[str, DemoPlatform], schema: EnvelopeSchema, document: dict[str, Any]
) -> None:
    """The official schema requires it (``IssuanceManifest.required``): without it, BENV."""
    a, b = platforms["A"], platforms["B"]
    keys, carriers = key_sets(list(platforms.values()))
    issuance = {"documentChecksum": document_checksum(document)}
    first = _issued_with(a, document, issuance, transfer(a.party, b.party))
    with pytest.raises(PintRejection) as caught:
        verify_envelope(
            envelope(a, document, [first]),
            keys=keys,
            carriers=carriers,
            platform=b.code,
            schema=schema,
        )
    assert caught.value.response is ResponseCode.BENV
    assert "issueToChecksum" in caught.value.message


@pytest.fixture
async def at_iqax(
    tmp_path: Path, reference: Path
) -> AsyncIterator[tuple[InProcessPlatform, list[DemoPlatform], ssl.SSLContext]]:
    tls = make_tls(tmp_path / "tls")
    made = [platform("AEOT", "ed25519", "A", carrier=True), platform("IQAX", "p256", "B")]
    homes = write_platform_homes(
        tmp_path, made, reference_root=reference, tls=tls, ports=[free_port(), free_port()]
    )
    running = await InProcessPlatform(homes[1], tls).start()
    yield running, made, ssl.create_default_context(cafile=str(tls.ca))
    await running.stop()


async def test_receiver_answers_rece_whatever_the_issue_to_checksum(
    at_iqax: Any, reference: Path
) -> None:
    running, (a, b), context = at_iqax
    keys, _ = key_sets([a, b])
    for number, issuance in enumerate(
        _issuances(a, transport_document(reference, "LGISSUETO0")).values()
    ):
        document = transport_document(reference, f"LGISSUETO{number + 1}")
        issuance = {**issuance, "documentChecksum": document_checksum(document)}
        first = _issued_with(a, document, issuance, transfer(a.party, b.party))
        body = json.dumps(envelope(a, document, [first], with_document=False)).encode()
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                running.home.url + "/v3/envelopes",
                data=body,
                ssl=context,
                headers={"Content-Type": "application/json"},
            ) as response,
        ):
            status, answer = response.status, await response.read()
        signed = read_response(
            json.loads(answer), keys, platform="IQAX", last_checksum=jws_checksum(first)
        )
        assert (status, signed.code) == (200, ResponseCode.RECE), signed.payload
        record = await running.adapter.platform.registry.find(f"LGISSUETO{number + 1}")
        assert record is not None and record.state == "held"
