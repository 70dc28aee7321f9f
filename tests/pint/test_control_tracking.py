"""The control-tracking-registry hook, two platforms on loopback TLS and a registry over TLS:
a transfer the receiver has signed ``RECE`` for stays ``sending`` at the sender until the
registry records it; the retry resends the envelope, the receiver answers ``DUPE`` (its
registry unchanged) and the record is made once per transfer."""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiohttp import web

from adapters.dcsa_pint.ctr import ControlTrackingRegistry
from adapters.dcsa_pint.options import PintOptions
from gateway.delivery.registry import AdapterRegistry
from gateway.delivery.transfer import TransferKind
from gateway.errors import ConfigError, TransientDeliveryError
from gateway.testing.cluster import free_port
from gateway.testing.pint import transport_document
from tests.pint.test_title_flows import pair

__all__ = ["pair"]


class Registry:
    """A control tracking registry over TLS that refuses its first ``refuse`` records (503)."""

    def __init__(self, refuse: int) -> None:
        self.refuse = refuse
        self.records: dict[str, dict[str, Any]] = {}
        self.posts = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.posts += 1
        if self.refuse > 0:
            self.refuse -= 1
            return web.Response(status=503)
        record = await request.json()
        self.records[record["envelopeTransferChainEntrySignedContentChecksum"]] = record
        return web.json_response({"recorded": True}, status=201)


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[tuple[Registry, str, Path]]:
    ca = trustme.CA()
    ca_pem = tmp_path / "ctr-ca.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    kept = Registry(refuse=1)
    app = web.Application()
    app.router.add_post("/transfers", kept.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    yield kept, f"https://127.0.0.1:{port}/transfers", ca_pem
    await runner.cleanup()


async def test_a_transfer_is_final_only_once_the_registry_records_it(
    pair: Any, registry: tuple[Registry, str, Path], reference: Path
) -> None:
    a, b = pair
    kept, url, ca_pem = registry
    pa, pb = a.adapter.platform, b.adapter.platform
    a.adapter.ctr = ControlTrackingRegistry(
        url, ssl_context=ssl.create_default_context(cafile=str(ca_pem))
    )
    await pa.issue(transport_document(reference, "TRACKED001"), to=pb.options.party("BANK"))
    kind = TransferKind(a.store, AdapterRegistry({"pint": a.adapter}))
    (job,) = [j for j in await a.store.claim_jobs("w", limit=5) if j.kind == "transfer"]

    with pytest.raises(TransientDeliveryError, match="did not record"):
        await kind.run(job, "w")
    assert (await pa.registry.find("TRACKED001")).state == "sending"  # not final here yet
    assert (await pb.registry.find("TRACKED001")).state == "held"  # the receiver signed RECE
    assert kept.records == {}

    await kind.run(job, "w")  # the retry: DUPE from the receiver, then recorded
    outbound = await kind.registry.outbound(job.submission_id)
    assert outbound is not None and outbound.response_code == "DUPE"
    assert (await pa.registry.find("TRACKED001")).state == "transferred"
    assert (await pb.registry.find("TRACKED001")).state == "held"
    ((checksum, record),) = kept.records.items()
    assert len(checksum) == 64 and kept.posts == 2
    assert record["sendingPlatform"] == "AEOT" and record["receivingPlatform"] == "IQAX"
    assert record["responseCode"] == "DUPE"
    assert len(record["transportDocumentChecksum"]) == 64
    assert json.loads(json.dumps(record)) == record


async def test_an_unreachable_registry_leaves_the_transfer_open(pair: Any, reference: Path) -> None:
    a, b = pair
    pa, pb = a.adapter.platform, b.adapter.platform
    a.adapter.ctr = ControlTrackingRegistry(f"http://127.0.0.1:{free_port()}/transfers")
    await pa.issue(transport_document(reference, "TRACKED002"), to=pb.options.party("BANK"))
    kind = TransferKind(a.store, AdapterRegistry({"pint": a.adapter}))
    (job,) = [j for j in await a.store.claim_jobs("w", limit=5) if j.kind == "transfer"]
    with pytest.raises(TransientDeliveryError, match="cannot be reached") as caught:
        await kind.run(job, "w")
    assert caught.value.retryable
    assert (await pa.registry.find("TRACKED002")).state == "sending"


def test_the_registry_url_must_be_https_off_loopback(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="https") as caught:
        PintOptions.parse(
            "pint",
            {"platform": "AEOT", "control_tracking_registry": "http://ctr.example/transfers"},
            tmp_path,
        )
    assert caught.value.field == "adapters.pint.control_tracking_registry"
