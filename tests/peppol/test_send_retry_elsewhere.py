"""A retry on another worker (another host, its own data folder) of a message the receiving AP
already stored: the AP answers its original receipt for the MessageId, and that receipt must
verify against the message the retry rebuilt, or a delivered document is marked failed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.base import AdapterContext
from adapters.peppol import PeppolAdapter
from adapters.peppol.testing import DnsTestServer
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.testing.tls import TlsFiles
from tests.peppol.as4_gateway import GatewayAp
from tests.peppol.conftest import adapter_options
from tests.peppol.test_peppol_adapter import INVOICE, envelope_for


async def test_a_retry_on_another_host_verifies_the_aps_original_receipt(
    pki: PeppolTestPki,
    tls: TlsFiles,
    dns_server: DnsTestServer,
    ap: GatewayAp,
    reference: Path,
    tmp_path: Path,
) -> None:
    route = {"participant": "*", "url": ap.url, "certificate": str(pki.path("ap-receiver.pem"))}
    options = adapter_options(pki, tls, dns_server, routes=[route])
    hosts = [
        PeppolAdapter.from_config("peppol", options, AdapterContext(data_dir=tmp_path / name))
        for name in ("host-one", "host-two")
    ]
    fixed = datetime.now(UTC) - timedelta(minutes=3)  # when the envelope was stored
    envelope = replace(
        envelope_for(reference, INVOICE, "sub-elsewhere.peppol@lingang"), created_at=fixed
    )
    try:
        first = await hosts[0].deliver(envelope)
        # host one stored nothing the other sees (its job was not marked done: it crashed)
        again = await hosts[1].deliver(replace(envelope, attempt=2))
    finally:
        for host in hosts:
            await host.aclose()
    assert again.body == first.body  # the AP's first receipt, verified for the rebuilt message
    assert again.details["report"]["receipt"]["verified"]
    (stored,) = await ap.services.store.list_inbound()  # received once
    assert stored.message_id == envelope.message_id
