"""Two platforms racing to hand the same eBL to a third over the wire: one RECE, the rest
DISE; the same envelope racing itself: one RECE, the rest DUPE."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.pint.checksums import jws_checksum
from gateway.pint.responses import read_response
from gateway.testing.cluster import free_port
from gateway.testing.pint import (
    InProcessPlatform,
    key_sets,
    platform,
    transport_document,
    write_platform_homes,
)
from gateway.testing.tls import make_tls

from .chains import envelope, issue_entry, next_entry, transfer


@pytest.fixture
async def target(
    tmp_path: Path, reference: Path
) -> AsyncIterator[tuple[InProcessPlatform, list[Any], ssl.SSLContext]]:
    tls = make_tls(tmp_path / "tls")
    platforms = [
        platform("AEOT", "ed25519", "A", carrier=True),
        platform("IQAX", "p256", "B"),
        platform("SGTD", "rsa", "C"),
    ]
    homes = write_platform_homes(
        tmp_path,
        platforms,
        reference_root=reference,
        tls=tls,
        ports=[free_port() for _ in platforms],
    )
    running = await InProcessPlatform(homes[2], tls).start()
    yield running, platforms, ssl.create_default_context(cafile=str(tls.ca))
    await running.stop()


async def _post_all(
    running: InProcessPlatform, context: ssl.SSLContext, bodies: list[dict[str, Any]]
) -> list[tuple[int, bytes]]:
    async with aiohttp.ClientSession() as session:

        async def post(body: dict[str, Any]) -> tuple[int, bytes]:
            async with session.post(
                running.home.url + "/v3/envelopes", json=body, ssl=context
            ) as response:
                return response.status, await response.read()

        return list(await asyncio.gather(*(post(b) for b in bodies)))


async def test_racing_platforms(target: Any, reference: Path) -> None:
    running, platforms, context = target
    a, b, c = platforms
    keys, _ = key_sets(platforms)
    document = transport_document(reference, "RACE000001")
    via_b = issue_entry(a, document, a.party, transfer(a.party, b.party))
    fork_b = next_entry(b, document, via_b, [transfer(b.party, c.party)])
    direct = issue_entry(a, document, a.party, transfer(a.party, c.party))
    candidates = [
        envelope(b, document, [via_b, fork_b], with_document=False),
        envelope(a, document, [direct], with_document=False),
    ]
    answers = await _post_all(running, context, candidates * 4)
    codes = []
    for (status, body), sent in zip(answers, candidates * 4, strict=True):
        last = jws_checksum(sent["envelopeTransferChain"][-1])
        answer = read_response(json.loads(body), keys, platform="SGTD", last_checksum=last)
        assert status == answer.code.http_status
        codes.append(answer.code.value)
    assert codes.count("RECE") == 1
    assert set(codes) <= {"RECE", "DUPE", "DISE"} and "DISE" in codes
    held = await running.adapter.platform.registry.find("RACE000001")
    assert held is not None and held.state == "held"
    winner = next(s for s, code in zip(candidates * 4, codes, strict=True) if code == "RECE")
    assert held.chain == winner["envelopeTransferChain"]


async def test_a_chain_guarded_by_a_control_tracking_registry_is_refused(
    target: Any, reference: Path
) -> None:
    """Without a registry client the platform cannot make such a transfer final: BENV, nothing kept."""
    from gateway.pint import build
    from gateway.pint.checksums import document_checksum
    from gateway.pint.codes import ActionCode
    from gateway.signing.jose import CompactSigner

    running, platforms, context = target
    a, _, c = platforms
    keys, _ = key_sets(platforms)
    document = transport_document(reference, "CTR0000001")
    issuance = build.issuance_manifest(document, a.party, CompactSigner(a.carrier_key))
    entry = json.loads(json.dumps({
        "eblPlatform": a.code,
        "transportDocumentChecksum": document_checksum(document),
        "issuanceManifestSignedContent": issuance,
        "controlTrackingRegistry": "https://ctr.example/v1",
        "transactions": [build.transaction(ActionCode.ISSUE, a.carrier, a.party), transfer(a.party, c.party)],
    }))  # fmt: skip
    token = a.signer.sign_json(entry)
    ((status, body),) = await _post_all(
        running, context, [envelope(a, document, [token], with_document=False)]
    )
    answer = read_response(
        json.loads(body), keys, platform="SGTD", last_checksum=jws_checksum(token)
    )
    assert (status, answer.code.value) == (422, "BENV")
    assert "control tracking registry" in answer.payload["reason"]
    assert await running.adapter.platform.registry.find("CTR0000001") is None
