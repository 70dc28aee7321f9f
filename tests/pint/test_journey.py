"""One to-order eBL's whole journey over three platforms on loopback TLS, its invariants
checked after every step: issued by the carrier to the shipper (AEOT), blank-endorsed, moved
to the bank (IQAX), endorsed to the buyer (SGTD) and moved to it, surrendered for delivery
and accepted by the carrier. After each step exactly one platform holds it; every platform
that knows it keeps a prefix of the one chain, each entry linked to the one before and
signed by the platform of its actor; every transfer sent keeps the receiver's signed answer,
which verifies with the receiver's key and names the transfer's last entry."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.pint.checksums import jws_checksum
from gateway.pint.codes import ActionCode
from gateway.pint.responses import read_response
from gateway.pint.stored import entry_payload
from gateway.testing.cluster import free_port
from gateway.testing.pint import (
    InProcessPlatform,
    platform,
    transport_document,
    write_platform_homes,
)
from gateway.testing.tls import make_tls
from tests.pint.test_title_flows import run_transfers


@pytest.fixture
async def trio(tmp_path: Path, reference: Path) -> AsyncIterator[list[InProcessPlatform]]:
    tls = make_tls(tmp_path / "tls")
    platforms = [
        platform("AEOT", "ed25519", "SHIPPER", carrier=True),
        platform("IQAX", "rsa", "BANK"),
        platform("SGTD", "p256", "BUYER"),
    ]
    homes = write_platform_homes(
        tmp_path, platforms, reference_root=reference, tls=tls,
        ports=[free_port() for _ in platforms],
    )  # fmt: skip
    nodes = [InProcessPlatform(home, tls) for home in homes]
    for node in nodes:
        await node.start()
    yield nodes
    for node in nodes:
        await node.stop()


async def check_invariants(nodes: list[InProcessPlatform], reference: str) -> list[str]:
    """The states of ``reference`` on each platform, after checking the invariants."""
    records = [await n.adapter.platform.registry.find(reference) for n in nodes]
    known = [r for r in records if r is not None]
    longest = max((r.chain for r in known), key=len)
    for record in known:
        assert record.chain == longest[: len(record.chain)], "two platforms know other chains"
    for index, token in enumerate(longest):
        entry = entry_payload(token)
        previous = entry.get("previousEnvelopeTransferChainEntrySignedContentChecksum")
        assert previous == (jws_checksum(longest[index - 1]) if index else None)
        actors = {t["actor"]["eblPlatform"] for t in entry["transactions"]}
        assert actors == {entry["eblPlatform"]}
    holding = [r for r in known if r.state == "held"]
    assert len(holding) <= 1, "more than one platform holds the eBL"
    for node, record in zip(nodes, records, strict=True):
        if record is None:
            continue
        history = await node.adapter.platform.history(reference)
        assert all(e["signatureVerified"] for e in history["chain"])
        for sent, shown in zip(
            await node.adapter.platform.registry.outbound_of(record.td_checksum),
            history["transfers"],
            strict=True,
        ):
            assert shown["state"] == "accepted" and shown["response"] is not None
            last = jws_checksum(sent.envelope["envelopeTransferChain"][-1])
            keys = node.adapter.platform.options.keys
            answer = read_response(
                shown["response"], keys, platform=sent.platform, last_checksum=last
            )
            assert answer.code.value == shown["responseCode"] == "RECE"
    return ["-" if r is None else r.state for r in records]


async def test_issue_endorse_transfer_surrender_across_three_platforms(
    trio: list[InProcessPlatform], reference: Path
) -> None:
    a, b, c = trio
    pa, pb, pc = (n.adapter.platform for n in trio)
    shipper, bank, buyer = (
        pa.options.party("SHIPPER"), pb.options.party("BANK"), pc.options.party("BUYER"),
    )  # fmt: skip
    await pa.issue(transport_document(reference, "JOURNEY001", isToOrder=True), to=shipper)
    assert await check_invariants(trio, "JOURNEY001") == ["held", "-", "-"]

    await pa.transfer("JOURNEY001", to=None, action=ActionCode.BLANK_ENDORSE)
    await pa.transfer("JOURNEY001", to=bank)
    assert await run_transfers(a) == ["RECE"]
    assert await check_invariants(trio, "JOURNEY001") == ["transferred", "held", "-"]

    await pb.transfer("JOURNEY001", to=buyer, action=ActionCode.ENDORSE)
    assert await run_transfers(b) == ["RECE"]  # notifies the endorsee; the bank keeps it
    assert await check_invariants(trio, "JOURNEY001") == ["transferred", "held", "transferred"]
    listed = {i["transportDocumentReference"]: i for i in await pc.listing()}
    assert listed["JOURNEY001"]["holder"] == "SGTD:SGTD/BUYER"
    assert listed["JOURNEY001"]["possessor"] == "IQAX:IQAX/BANK"

    await pb.transfer("JOURNEY001", to=buyer)
    assert await run_transfers(b) == ["RECE"]
    assert await check_invariants(trio, "JOURNEY001") == ["transferred", "transferred", "held"]

    await pc.transfer("JOURNEY001", to=None, action=ActionCode.SURRENDER_FOR_DELIVERY)
    assert await run_transfers(c) == ["RECE"]
    assert await check_invariants(trio, "JOURNEY001") == ["held", "transferred", "transferred"]

    await pa.transfer("JOURNEY001", to=None, action=ActionCode.SACC)
    assert await run_transfers(a) == ["RECE"]
    assert await check_invariants(trio, "JOURNEY001") == [
        "surrendered", "transferred", "surrendered",
    ]  # fmt: skip
    history = await pc.history("JOURNEY001")
    assert [t["actionCode"] for e in history["chain"] for t in e["transactions"]] == [
        "ISSUE", "BLANK_ENDORSE", "TRANSFER", "ENDORSE", "TRANSFER",
        "SURRENDER_FOR_DELIVERY", "SACC",
    ]  # fmt: skip
    assert json.loads(json.dumps(history))["title"]["surrendered"] is True
