"""A surrender requested by a party of the carrier's own platform is answered through the same
API route as one from another platform. The carrier's platform runs the gateway's services
(the ``/v1/ebls`` API and its PINT endpoints on one TLS port, its store SQLite or PostgreSQL);
the other platform runs in process on its own TLS port. The transactions between parties of
the carrier's platform are recorded there as signed chain entries, and the other platform
verifies them when the eBL travels on."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from adapters.dcsa_pint.platform import parse_party
from gateway.api import create_app
from gateway.delivery.transfer import TransferKind
from gateway.pint.codes import ActionCode
from gateway.service import Services, open_services
from gateway.settings import Settings
from gateway.testing.cluster import free_port
from gateway.testing.pint import (
    InProcessPlatform,
    platform,
    transport_document,
    write_platform_homes,
)
from gateway.testing.tls import make_tls
from tests.pint.test_title_flows import run_transfers

SHIPPER = parse_party("AEOT:SHIPPER")
"""The shipper, a party of the carrier's platform."""


@dataclass
class Carrier:
    """The carrier's platform (AEOT) as ``lingang serve`` runs it, and an API client."""

    services: Services
    url: str
    key: str
    context: ssl.SSLContext

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                method, self.url + path, json=body, ssl=self.context,
                headers={"Authorization": f"Bearer {self.key}"},
            ) as response,
        ):  # fmt: skip
            return response.status, await response.json()

    async def run_transfers(self) -> list[str | None]:
        kind = TransferKind(self.services.store, self.services.adapters)
        codes = []
        for job in await self.services.store.claim_jobs("test-worker", limit=10):
            await kind.run(job, "test-worker")
            outbound = await kind.registry.outbound(job.submission_id)
            codes.append(outbound.response_code if outbound else None)
        return codes


@pytest.fixture
async def carrier_and_bank(
    tmp_path: Path, reference: Path, store_url: str
) -> AsyncIterator[tuple[Carrier, InProcessPlatform]]:
    tls = make_tls(tmp_path / "tls")
    platforms = [
        platform("AEOT", "ed25519", "SHIPPER", carrier=True),
        platform("IQAX", "p256", "BANK"),
    ]
    ports = [free_port(), free_port()]
    homes = write_platform_homes(
        tmp_path, platforms, reference_root=reference, tls=tls, ports=ports,
        store_urls=[store_url, f"sqlite:///{tmp_path}/b.db"],
    )  # fmt: skip
    config = homes[0].config
    config.write_text(
        config.read_text().replace("timeout = 10.0\n", 'timeout = 10.0\ntenants = ["ops"]\n', 1)
    )
    services = await open_services(Settings.load(config))
    await services.store.create_tenant("Carrier ops", tenant_id="ops")
    key = (await services.store.issue_api_key("ops"))[0]
    server = TestServer(create_app(services), host="127.0.0.1", port=ports[0])
    await server.start_server(ssl=tls.server_context(require_client_cert=False))
    bank = await InProcessPlatform(homes[1], tls).start()
    context = ssl.create_default_context(cafile=str(tls.ca))
    yield Carrier(services, homes[0].url, key, context), bank
    await bank.stop()
    await server.close()
    await services.close()


def _actions(history: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["platform"], t["actionCode"]) for e in history["chain"] for t in e["transactions"]]


async def test_a_surrender_from_the_carriers_own_platform_is_answered_here(
    carrier_and_bank: tuple[Carrier, InProcessPlatform], reference: Path
) -> None:
    carrier, bank = carrier_and_bank
    pb = bank.adapter.platform
    document = transport_document(reference, "SURRHERE01")
    status, _ = await carrier.call("POST", "/v1/ebls", {"transportDocument": document,
                                                        "to": "IQAX:BANK"})  # fmt: skip
    assert status == 202
    assert await carrier.run_transfers() == ["RECE"]
    await pb.transfer("SURRHERE01", to=SHIPPER)
    assert await run_transfers(bank) == ["RECE"]

    # the shipper, a party of the carrier's platform, asks to surrender (no recipient named:
    # the issuing carrier); the carrier rejects it, again naming nobody (the requester)
    status, body = await carrier.call(
        "POST", "/v1/ebls/SURRHERE01/transfers", {"action": "SURRENDER_FOR_AMENDMENT"}
    )
    assert (status, body["state"], body["possessor"]) == (200, "held", "AEOT:AEOT/COSCO")
    _, history = await carrier.call("GET", "/v1/ebls/SURRHERE01")
    assert history["title"]["surrenderRequestedBy"]["identifyingCodes"] == [
        {"codeListProvider": "AEOT", "partyCode": "SHIPPER"}
    ]
    status, body = await carrier.call("POST", "/v1/ebls/SURRHERE01/transfers", {"to": "IQAX:BANK"})
    assert status == 409 and "only the carrier's SACC or SREJ" in body["detail"]
    status, body = await carrier.call("POST", "/v1/ebls/SURRHERE01/transfers", {"action": "SREJ"})
    assert (status, body["state"], body["possessor"]) == (200, "held", "AEOT:AEOT/SHIPPER")

    # the local entries travel with the eBL; the other platform verifies them
    status, _ = await carrier.call("POST", "/v1/ebls/SURRHERE01/transfers", {"to": "IQAX:BANK"})
    assert status == 202
    assert await carrier.run_transfers() == ["RECE"]
    assert (await pb.registry.find("SURRHERE01")).state == "held"
    await pb.transfer("SURRHERE01", to=SHIPPER)
    assert await run_transfers(bank) == ["RECE"]

    status, body = await carrier.call("POST", "/v1/ebls/SURRHERE01/transfers", {"action": "SACC"})
    assert status == 409 and "none is pending" in body["detail"]
    status, body = await carrier.call(
        "POST", "/v1/ebls/SURRHERE01/transfers",
        {"action": "SURRENDER_FOR_DELIVERY", "to": "AEOT:COSCO"},
    )  # fmt: skip
    assert (status, body["state"]) == (200, "held")
    status, body = await carrier.call(
        "POST", "/v1/ebls/SURRHERE01/transfers", {"action": "SACC", "to": "AEOT:NOBODY"}
    )
    assert status == 422 and body["errors"][0]["field"] == "to"
    status, body = await carrier.call(
        "POST", "/v1/ebls/SURRHERE01/transfers", {"action": "SACC", "to": "AEOT:SHIPPER"}
    )
    assert (status, body["state"], body["possessor"]) == (200, "surrendered", "AEOT:AEOT/COSCO")
    status, body = await carrier.call("POST", "/v1/ebls/SURRHERE01/transfers", {"to": "IQAX:BANK"})
    assert status == 409 and "surrendered" in body["detail"]

    _, history = await carrier.call("GET", "/v1/ebls/SURRHERE01")
    assert history["state"] == "surrendered" and history["title"]["surrendered"]
    assert _actions(history) == [
        ("AEOT", "ISSUE"), ("IQAX", "TRANSFER"),
        ("AEOT", "SURRENDER_FOR_AMENDMENT"), ("AEOT", "SREJ"), ("AEOT", "TRANSFER"),
        ("IQAX", "TRANSFER"),
        ("AEOT", "SURRENDER_FOR_DELIVERY"), ("AEOT", "SACC"),
    ]  # fmt: skip
    answers = [t for e in history["chain"] for t in e["transactions"]][-2:]
    assert [(t["actor"], t["recipient"]) for t in answers] == [
        ("AEOT:AEOT/SHIPPER", "AEOT:AEOT/COSCO"),
        ("AEOT:AEOT/COSCO", "AEOT:AEOT/SHIPPER"),
    ]


async def test_a_surrender_from_another_platform_is_answered_through_the_same_route(
    carrier_and_bank: tuple[Carrier, InProcessPlatform], reference: Path
) -> None:
    """The carrier's route needs no recipient for SACC: the requester on another platform is
    notified over PINT, and the eBL is surrendered on both platforms."""
    carrier, bank = carrier_and_bank
    pb = bank.adapter.platform
    document = transport_document(reference, "SURRAWAY01")
    status, _ = await carrier.call("POST", "/v1/ebls", {"transportDocument": document,
                                                        "to": "IQAX:BANK"})  # fmt: skip
    assert status == 202 and await carrier.run_transfers() == ["RECE"]
    await pb.transfer("SURRAWAY01", to=None, action=ActionCode.SURRENDER_FOR_DELIVERY)
    assert await run_transfers(bank) == ["RECE"]
    status, body = await carrier.call("POST", "/v1/ebls/SURRAWAY01/transfers", {"action": "SACC"})
    assert (status, body["to"]) == (202, "IQAX")
    assert await carrier.run_transfers() == ["RECE"]
    _, history = await carrier.call("GET", "/v1/ebls/SURRAWAY01")
    assert history["state"] == "surrendered"
    assert (await pb.registry.find("SURRAWAY01")).state == "surrendered"
    assert _actions(history)[-2:] == [("IQAX", "SURRENDER_FOR_DELIVERY"), ("AEOT", "SACC")]


async def test_sign_and_blank_endorse_have_no_recipient_and_are_recorded_here(
    carrier_and_bank: tuple[Carrier, InProcessPlatform], reference: Path
) -> None:
    """PINT 3.0: ``SIGN`` "has no designated recipient" and a blank endorsement "does not
    specify a recipient" and "must always take place on the eBL platform of the current
    possessor": the route takes both without ``to``, records them here without a
    ``recipient``, refuses a ``to`` on another platform, and the next platform verifies the
    entries when the eBL travels on."""
    carrier, bank = carrier_and_bank
    document = transport_document(reference, "SIGNHERE01", isToOrder=True)
    status, body = await carrier.call(
        "POST", "/v1/ebls", {"transportDocument": document, "to": "AEOT:SHIPPER"}
    )
    assert (status, body["state"]) == (201, "held")
    for action in ("SIGN", "BLANK_ENDORSE"):
        status, body = await carrier.call(
            "POST", "/v1/ebls/SIGNHERE01/transfers", {"action": action, "to": "IQAX:BANK"}
        )
        assert status == 422 and body["errors"][0]["field"] == "to", body
        assert "no recipient" in body["detail"]
        status, body = await carrier.call(
            "POST", "/v1/ebls/SIGNHERE01/transfers", {"action": action}
        )
        assert (status, body["state"], body["possessor"]) == (200, "held", "AEOT:AEOT/SHIPPER")
    _, history = await carrier.call("GET", "/v1/ebls/SIGNHERE01")
    recorded = [t for e in history["chain"] for t in e["transactions"]][-2:]
    assert [(t["actionCode"], t["recipient"]) for t in recorded] == [
        ("SIGN", None), ("BLANK_ENDORSE", None),
    ]  # fmt: skip
    status, _ = await carrier.call("POST", "/v1/ebls/SIGNHERE01/transfers", {"to": "IQAX:BANK"})
    assert status == 202 and await carrier.run_transfers() == ["RECE"]
    assert (await bank.adapter.platform.registry.find("SIGNHERE01")).state == "held"
