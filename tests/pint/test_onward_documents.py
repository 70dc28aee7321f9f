"""The documents an eBL carries travel on with it: three platforms on loopback TLS, the middle
one on each store. What B received from A (a supporting document and the carrier's
visualisation) is kept with the eBL and survives a restart. The visualisation goes with
every transfer (PINT 3.0); a supporting document received from another platform goes on only
when the sender asks (``forward_documents``: PINT leaves it to the sender, and its details
are privy to the two platforms that exchanged it); one attached here goes with the eBL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.dcsa_pint.platform import Attachment
from gateway.pint.checksums import bytes_checksum
from gateway.signing.jose import split_compact
from gateway.store import ConflictError
from gateway.testing.cluster import free_port
from gateway.testing.pint import (
    InProcessPlatform,
    PlatformHome,
    platform,
    transport_document,
    write_platform_homes,
)
from gateway.testing.tls import TlsFiles, make_tls
from tests.pint.test_title_flows import run_transfers

INVOICE = Attachment("commercial-invoice.pdf", b"%PDF-1.7 commercial invoice LG-ONWARD")
VISUAL = Attachment("Carrier rendered copy of the B/L.pdf", b"%PDF-1.7 the carrier's B/L copy")
PACKING = Attachment("packing-list.json", b'{"packages": 12}', "application/json")


class Three:
    """A (carrier, AEOT), B (IQAX) and C (SGTD), each serving PINT on its own TLS port."""

    def __init__(self, homes: list[PlatformHome], tls: TlsFiles) -> None:
        self.homes = homes
        self.tls = tls
        self.nodes: list[InProcessPlatform] = []

    async def start(self) -> None:
        self.nodes = [await InProcessPlatform(h, self.tls).start() for h in self.homes]

    async def restart(self, index: int) -> InProcessPlatform:
        await self.nodes[index].stop()
        self.nodes[index] = await InProcessPlatform(self.homes[index], self.tls).start()
        return self.nodes[index]

    async def stop(self) -> None:
        for node in self.nodes:
            await node.stop()


@pytest.fixture
async def three(tmp_path: Path, reference: Path, store_url: str) -> AsyncIterator[Three]:
    tls = make_tls(tmp_path / "tls")
    platforms = [
        platform("AEOT", "ed25519", "SHIPPER", carrier=True),
        platform("IQAX", "p256", "BANK"),
        platform("SGTD", "rsa", "IMPORTER"),
    ]
    homes = write_platform_homes(
        tmp_path, platforms, reference_root=reference, tls=tls,
        ports=[free_port() for _ in platforms],
        store_urls=[f"sqlite:///{tmp_path}/a.db", store_url, f"sqlite:///{tmp_path}/c.db"],
    )  # fmt: skip
    running = Three(homes, tls)
    await running.start()
    yield running
    await running.stop()


def _manifest(envelope: dict[str, Any]) -> dict[str, Any]:
    _, payload, _, _ = split_compact(envelope["envelopeManifestSignedContent"])
    return dict(json.loads(payload))


async def _sent_manifest(node: InProcessPlatform, reference: str) -> dict[str, Any]:
    registry = node.adapter.platform.registry
    record = await registry.find(reference)
    return _manifest((await registry.outbound_of(record.td_checksum))[-1].envelope)


async def test_documents_received_travel_on_with_the_ebl(three: Three, reference: Path) -> None:
    a, b, c = three.nodes
    pa, pb = a.adapter.platform, b.adapter.platform
    bank, importer = pb.options.party("BANK"), c.adapter.platform.options.party("IMPORTER")
    await pa.issue(
        transport_document(reference, "ONWARD0001"), to=bank, attachments=[INVOICE],
        visualisation=VISUAL,
    )  # fmt: skip
    assert await run_transfers(a) == ["RECE"]
    from_a = await _sent_manifest(a, "ONWARD0001")

    b = await three.restart(1)  # what B keeps with the eBL is in its store, not in memory
    pb = b.adapter.platform
    carried = (await pb.history("ONWARD0001"))["documents"]
    assert {(d["name"], d["documentChecksum"], d["size"], d["origin"]) for d in carried} == {
        (d.name, bytes_checksum(d.data), len(d.data), "received") for d in (VISUAL, INVOICE)
    }

    # B forwards what it received, attaches a packing list and (again) the invoice: the
    # invoice is announced once
    await pb.transfer(
        "ONWARD0001", to=importer, attachments=[PACKING, INVOICE], forward_documents=True
    )
    assert await run_transfers(b) == ["RECE"]
    manifest = await _sent_manifest(b, "ONWARD0001")
    assert manifest["eBLVisualisationByCarrier"] == from_a["eBLVisualisationByCarrier"]
    assert sorted(d["name"] for d in manifest["supportingDocuments"]) == [
        INVOICE.name, PACKING.name,
    ]  # fmt: skip
    assert [d for d in manifest["supportingDocuments"] if d["name"] == INVOICE.name] == [
        d for d in from_a["supportingDocuments"]
    ]

    pc = c.adapter.platform
    at_c = await pc.registry.find("ONWARD0001")
    assert at_c.state == "held"
    for document in (INVOICE, VISUAL, PACKING):
        assert await pc.registry.document(bytes_checksum(document.data)) == (
            document.media_type,
            document.data,
        )
    assert {d["name"] for d in (await pc.history("ONWARD0001"))["documents"]} == {
        INVOICE.name, VISUAL.name, PACKING.name,
    }  # fmt: skip
    (outbound,) = await pb.registry.outbound_of(at_c.td_checksum)
    assert outbound.response is not None
    _, answer, _, _ = split_compact(outbound.response)
    assert sorted(json.loads(answer)["receivedAdditionalDocumentChecksums"]) == sorted(
        bytes_checksum(d.data) for d in (INVOICE, VISUAL, PACKING)
    )

    # by default C keeps the supporting documents it received: only the visualisation goes
    await pc.transfer("ONWARD0001", to=bank)
    assert await run_transfers(c) == ["RECE"]
    back = await _sent_manifest(c, "ONWARD0001")
    assert "supportingDocuments" not in back
    assert back["eBLVisualisationByCarrier"] == from_a["eBLVisualisationByCarrier"]
    assert (await pb.registry.find("ONWARD0001")).state == "held"


async def test_received_supporting_documents_go_on_only_when_asked(
    three: Three, reference: Path
) -> None:
    """B sends on what A sent it only when B's sender asks: by default C gets the carrier's
    visualisation and what B attaches, never A's invoice (not announced, not asked for)."""
    a, b, c = three.nodes
    pa, pb, pc = a.adapter.platform, b.adapter.platform, c.adapter.platform
    await pa.issue(
        transport_document(reference, "ONWARD0004"), to=pb.options.party("BANK"),
        attachments=[INVOICE], visualisation=VISUAL,
    )  # fmt: skip
    assert await run_transfers(a) == ["RECE"]
    await pb.transfer("ONWARD0004", to=pc.options.party("IMPORTER"), attachments=[PACKING])
    assert await run_transfers(b) == ["RECE"]
    manifest = await _sent_manifest(b, "ONWARD0004")
    assert [d["name"] for d in manifest["supportingDocuments"]] == [PACKING.name]
    assert manifest["eBLVisualisationByCarrier"]["name"] == VISUAL.name
    history = await pc.history("ONWARD0004")
    assert {(d["name"], d["origin"]) for d in history["documents"]} == {
        (VISUAL.name, "received"), (PACKING.name, "received"),
    }  # fmt: skip
    assert await pc.registry.document(bytes_checksum(INVOICE.data)) is None
    # what B attached stays B's own: B's history says so
    assert {(d["name"], d["origin"]) for d in (await pb.history("ONWARD0004"))["documents"]} == {
        (VISUAL.name, "received"), (INVOICE.name, "received"), (PACKING.name, "attached"),
    }  # fmt: skip


async def test_an_ebl_issued_here_carries_its_documents(three: Three, reference: Path) -> None:
    """Issued to a party of this platform, the eBL keeps its documents (they were dropped)
    and its first transfer to another platform sends them (attached here: no need to ask)."""
    a, b, _ = three.nodes
    pa, pb = a.adapter.platform, b.adapter.platform
    held = await pa.issue(
        transport_document(reference, "ONWARD0002"), to=pa.options.party("SHIPPER"),
        attachments=[INVOICE], visualisation=VISUAL,
    )  # fmt: skip
    assert held.state == "held"
    await pa.transfer("ONWARD0002", to=pb.options.party("BANK"))
    assert await run_transfers(a) == ["RECE"]
    assert {d["name"] for d in (await pb.history("ONWARD0002"))["documents"]} == {
        INVOICE.name, VISUAL.name,
    }  # fmt: skip


async def test_a_visualisation_not_held_is_refused_before_sending(
    three: Three, reference: Path
) -> None:
    """An eBL whose carrier signed a visualisation cannot go on without it: the receiver would
    refuse the envelope (BSIG). The transfer is refused here, naming it, and nothing is
    locked."""
    a, b, c = three.nodes
    pa, pb = a.adapter.platform, b.adapter.platform
    await pa.issue(
        transport_document(reference, "ONWARD0003"), to=pb.options.party("BANK"),
        visualisation=VISUAL,
    )  # fmt: skip
    assert await run_transfers(a) == ["RECE"]
    record = await pb.registry.find("ONWARD0003")
    await b.store.connector.write(_forget_links(record.td_checksum))
    with pytest.raises(ConflictError, match=r"visualisation [0-9a-f]{64} is not held here"):
        await pb.transfer("ONWARD0003", to=c.adapter.platform.options.party("IMPORTER"))
    assert (await pb.registry.find("ONWARD0003")).state == "held"


def _forget_links(td_checksum: str) -> Any:
    """What a registry kept before it linked documents to eBLs (an eBL received earlier)."""
    from gateway.store.connector import Query

    yield Query("ebl_unlink_documents", {"td_checksum": td_checksum})
