"""``issueToChecksum``: the carrier's issuance manifest names, by RFC 8785 checksum, the party
it issued the eBL to; the ``ISSUE`` transaction's recipient must be that party. An envelope
whose ``ISSUE`` recipient is someone else is refused with a signed ``BENV`` (``INCD`` is only
for additional documents, PINT 3.0), and nothing reaches the registry."""

from __future__ import annotations

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


def _issued_to_someone_else(
    carrier_platform: DemoPlatform, document: dict[str, Any], to: Party, *extra: dict[str, Any]
) -> str:
    """A first entry whose ISSUE goes to ``carrier_platform.party`` while the carrier's
    issuance manifest names ``to``: every signature is good, the content disagrees."""
    assert carrier_platform.carrier is not None and carrier_platform.carrier_key is not None
    issuance = build.issuance_manifest(document, to, CompactSigner(carrier_platform.carrier_key))
    transactions = [
        build.transaction(ActionCode.ISSUE, carrier_platform.carrier, carrier_platform.party),
        *extra,
    ]
    return build.chain_entry(
        carrier_platform.signer,
        carrier_platform.code,
        document_checksum(document),
        transactions,
        issuance=issuance,
    )


def test_issue_recipient_must_match_issue_to_checksum(
    platforms: dict[str, DemoPlatform], schema: EnvelopeSchema, document: dict[str, Any]
) -> None:
    a, b = platforms["A"], platforms["B"]
    keys, carriers = key_sets(list(platforms.values()))
    first = _issued_to_someone_else(a, document, b.party, transfer(a.party, b.party))
    with pytest.raises(PintRejection) as caught:
        verify_envelope(
            envelope(a, document, [first]),
            keys=keys,
            carriers=carriers,
            platform=b.code,
            schema=schema,
        )
    assert caught.value.response is ResponseCode.BENV
    assert (caught.value.field or "").endswith("issuanceManifestSignedContent.issueToChecksum")
    good = build.chain_entry(
        a.signer,
        a.code,
        document_checksum(document),
        [
            build.transaction(ActionCode.ISSUE, a.carrier, a.party),  # type: ignore[arg-type]
            transfer(a.party, b.party),
        ],
        issuance=build.issuance_manifest(
            document,
            a.party,
            CompactSigner(a.carrier_key),  # type: ignore[arg-type]
        ),
    )
    verified = verify_envelope(
        envelope(a, document, [good]), keys=keys, carriers=carriers, platform=b.code, schema=schema
    )
    assert verified.title.possessor.same(b.party)


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


async def test_receiver_answers_signed_benv_and_keeps_nothing(
    at_iqax: Any, reference: Path
) -> None:
    running, (a, b), context = at_iqax
    document = transport_document(reference, "LGISSUETO1")
    first = _issued_to_someone_else(a, document, b.party, transfer(a.party, b.party))
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
    assert status == 422, answer[:300]
    keys, _ = key_sets([a, b])
    signed = read_response(
        json.loads(answer), keys, platform="IQAX", last_checksum=jws_checksum(first)
    )
    assert signed.code is ResponseCode.BENV and "issueToChecksum" in signed.payload["reason"]
    registry = running.adapter.platform.registry
    assert await registry.find("LGISSUETO1") is None
    assert await registry.get(document_checksum(document)) is None
