"""The ``peppol`` adapter on a loopback Peppol network over TLS: the contract suite, PINT SG
invoices and credit notes found through SML and SMP, receipts verified, and every failure a
typed result that retries only where it can help."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.base import AdapterContext, Envelope
from adapters.peppol import PeppolAdapter
from adapters.peppol.errors import As4Rejected, As4RetryLater
from adapters.peppol.sbdh import parse_sbdh
from adapters.peppol.testing import As4TestReceiver, DnsTestServer, SmpTestServer
from adapters.testing import AdapterContract, make_envelope
from gateway.errors import ConfigError, PermanentDeliveryError, TransientDeliveryError
from gateway.signing.peppol_pki import PeppolTestPki, issue_access_point
from gateway.testing.tls import TlsFiles
from gateway.validation import Validator
from tests.peppol.conftest import RECEIVER, UNKNOWN, adapter_options, credentials, with_endpoint

EXAMPLES = "openpeppol-pint-sg-1.4.1/trn-invoice/example"
INVOICE = "PINT-SG INV example 02 - full valid invoice 1.xml"
UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE = "PINT-SG CN example 01 - Credit Note.xml"


class TestPeppolContract(AdapterContract):
    @pytest.fixture
    async def adapter(
        self,
        pki: PeppolTestPki,
        tls: TlsFiles,
        dns_server: DnsTestServer,
        receiver: As4TestReceiver,
        tmp_path: Path,
    ) -> AsyncIterator[PeppolAdapter]:
        self.receiver = receiver
        options = adapter_options(
            pki,
            tls,
            dns_server,
            routes=[
                {
                    "participant": "*",
                    "url": receiver.url,
                    "certificate": str(pki.path("ap-receiver.pem")),
                }
            ],
        )
        made = PeppolAdapter.from_config("peppol", options, AdapterContext(data_dir=tmp_path))
        yield made
        await made.aclose()

    async def delivered_count(self, adapter: Any, message_id: str) -> int:
        return 1 if message_id in self.receiver.received else 0

    def make_envelope(self, variant: int = 0) -> Envelope:
        """The contract's body with a UBL Invoice root: the SBDH's Standard and Type are the
        payload root's and must agree with the PINT SG DOCUMENTID (the contract's
        ``urn:example`` root gave an envelope a Peppol receiver refuses)."""
        envelope = super().make_envelope(variant)
        body = envelope.body.replace(b'xmlns="urn:example"', f'xmlns="{UBL_INVOICE}"'.encode())
        return Envelope(**{**_fields(envelope), "body": body})


def envelope_for(reference: Path, name: str, message_id: str) -> Envelope:
    return Envelope(
        message_id=message_id,
        body=(reference / EXAMPLES / name).read_bytes(),
        profile="pint-sg",
        receiver=RECEIVER.value,
        document_kind="credit-note" if "CN" in name else "invoice",
    )


@pytest.mark.parametrize("name", [INVOICE, CREDIT_NOTE])
async def test_pint_sg_arrives_through_sml_and_smp(
    reference: Path,
    artefacts_home: Path,
    adapter: PeppolAdapter,
    receiver: As4TestReceiver,
    smp: SmpTestServer,
    name: str,
) -> None:
    envelope = envelope_for(reference, name, f"sub-{name[:12].replace(' ', '')}.peppol@lingang")
    receipt = await adapter.deliver(envelope)
    assert receipt.message_id == envelope.message_id and not receipt.duplicate
    report = receipt.details["report"]
    assert report["outcome"] == "delivered"
    assert report["lookup"]["smp_url"] == smp.url and report["lookup"]["source"] == "smp"
    assert report["receipt"]["verified"] and len(report["receipt"]["references"]) == 3
    assert receipt.body.startswith(b"<?xml") and b"NonRepudiationInformation" in receipt.body
    received = parse_sbdh(receiver.received[envelope.message_id])
    assert received.header.receiver == RECEIVER and received.header.country_c1 == "SG"
    assert received.header.sender.value == "0195:SGUEN200212345Z"
    validation = Validator.default(artefacts_home).validate(received.payload, "pint-sg")
    assert not [f for f in validation.findings if f.flag == "fatal"], validation.findings


async def test_retry_after_a_lost_answer_sends_the_same_message_id(
    reference: Path, adapter: PeppolAdapter, receiver: As4TestReceiver
) -> None:
    envelope = envelope_for(reference, INVOICE, "sub-retry.peppol@lingang")
    receiver.fault = "reset"
    with pytest.raises(TransientDeliveryError):
        await adapter.deliver(envelope)
    receiver.fault = ""
    first = await adapter.deliver(envelope)
    again = await adapter.deliver(envelope)
    assert again.duplicate and again.remote_id == first.remote_id
    assert list(receiver.received) == [envelope.message_id]
    assert receiver.deliveries == 2  # the reset attempt and the one that got its receipt


@pytest.mark.parametrize(
    ("fault", "error", "retryable", "rule"),
    [
        ("not-serviced", As4Rejected, False, "EBMS:0004"),
        ("retry-later", As4RetryLater, True, "EBMS:0005"),
        ("http-500", TransientDeliveryError, True, "http.500"),
        ("busy-503", TransientDeliveryError, True, "http.503"),
        ("tampered-receipt", PermanentDeliveryError, False, "xmldsig.digest"),
        ("other-digests", PermanentDeliveryError, False, "as4.receipt-digests"),
        ("foreign-signer", PermanentDeliveryError, False, "chain"),
        ("unsigned-receipt", PermanentDeliveryError, False, "as4.receipt-unsigned"),
        ("other-message-receipt", PermanentDeliveryError, False, "as4.receipt-ref"),
        ("redirect", PermanentDeliveryError, False, "as4.redirect"),
        ("oversize-answer", PermanentDeliveryError, False, "as4.answer-size"),
        ("oversize-503", TransientDeliveryError, True, "as4.answer-size"),
    ],
)
async def test_receiver_answers_are_typed(
    reference: Path,
    adapter: PeppolAdapter,
    receiver: As4TestReceiver,
    fault: str,
    error: type[Exception],
    retryable: bool,
    rule: str,
) -> None:
    receiver.fault = fault
    with pytest.raises(error) as caught:
        await adapter.deliver(envelope_for(reference, INVOICE, f"sub-{fault}.peppol@lingang"))
    assert caught.value.retryable is retryable  # type: ignore[attr-defined]
    assert caught.value.rule == rule  # type: ignore[attr-defined]
    asked = 45.0 if fault == "busy-503" else None  # the AP's Retry-After, for the retry policy
    assert caught.value.retry_after == asked  # type: ignore[attr-defined]
    assert not list(adapter.receipts_dir.glob("*.json")) if adapter.receipts_dir.exists() else True
    assert receiver.deliveries == 1  # a redirect is not followed


@pytest.mark.parametrize(
    ("setup", "retryable", "rule"),
    [
        ("unknown-participant", False, "peppol-not-registered"),
        ("dns-down", True, "peppol-dns"),
        ("smp-down", True, "peppol-smp-unavailable"),
        ("smp-broken-signature", False, "peppol-smp-invalid"),
        ("smp-wrong-participant", False, "peppol-smp-invalid"),
    ],
)
async def test_discovery_failures_are_typed(
    reference: Path,
    adapter: PeppolAdapter,
    receiver: As4TestReceiver,
    dns_server: DnsTestServer,
    smp: SmpTestServer,
    setup: str,
    retryable: bool,
    rule: str,
) -> None:
    envelope = envelope_for(reference, INVOICE, f"sub-{setup}.peppol@lingang")
    if setup == "unknown-participant":
        body = with_endpoint(envelope.body, "AccountingCustomerParty", UNKNOWN)
        envelope = Envelope(**{**_fields(envelope), "body": body, "receiver": UNKNOWN.value})
    elif setup == "dns-down":
        dns_server.down = True
    else:
        smp.fault = setup.removeprefix("smp-")
    with pytest.raises(
        PermanentDeliveryError if not retryable else TransientDeliveryError
    ) as caught:
        await adapter.deliver(envelope)
    assert caught.value.retryable is retryable and caught.value.rule == rule
    assert receiver.deliveries == 0  # nothing was sent anywhere


async def test_unsupported_document_type_is_final(
    reference: Path, adapter: PeppolAdapter, receiver: As4TestReceiver
) -> None:
    bis3 = (reference / "openpeppol-peppol-bis-invoice-3").rglob("base-example.xml")
    body = with_endpoint(next(iter(bis3)).read_bytes(), "AccountingCustomerParty", RECEIVER)
    envelope = Envelope(
        message_id="sub-bis3.peppol@lingang", body=body, receiver=RECEIVER.value, profile="bis3"
    )
    with pytest.raises(PermanentDeliveryError) as caught:
        await adapter.deliver(envelope)
    assert caught.value.rule == "peppol-doctype-unsupported" and not caught.value.retryable
    assert receiver.deliveries == 0


def _fields(envelope: Envelope) -> dict[str, Any]:
    return {name: getattr(envelope, name) for name in Envelope.__dataclass_fields__}


def test_configuration_errors_name_the_option(
    pki: PeppolTestPki, tls: TlsFiles, tmp_path: Path
) -> None:
    dns = DnsTestServer()
    base = adapter_options(pki, tls, dns)
    for broken, field in (
        ({**base, "colour": "red"}, "adapters.p"),
        ({**base, "key": []}, "adapters.p.key"),
        ({**base, "revocation": "maybe"}, "adapters.p.revocation"),
        ({**base, "timeout": "soon"}, "adapters.p.timeout"),
        ({**base, "smp_cache_seconds": -1}, "adapters.p.smp_cache_seconds"),
        ({**base, "replay_hold_seconds": 0}, "adapters.p.replay_hold_seconds"),
        ({**base, "replay_hold_seconds": True}, "adapters.p.replay_hold_seconds"),
        (
            {
                **base,
                "routes": [{"participant": "*", "url": "http://x", "certificate": base["cert"]}],
            },
            "adapters.p.routes",
        ),
    ):
        with pytest.raises(ConfigError) as caught:
            PeppolAdapter.from_config("p", broken, AdapterContext(data_dir=tmp_path))
        assert caught.value.field == field


def test_a_key_that_is_not_the_certificates_is_refused_at_start(
    pki: PeppolTestPki, tls: TlsFiles, tmp_path: Path
) -> None:
    """Our AP key with another AP's certificate: every message would carry a signature its
    BinarySecurityToken cannot verify, and nothing encrypted to that certificate could be
    read. The adapter loaded the pair without comparing them; now it refuses to start,
    naming both files."""
    options = {
        **adapter_options(pki, tls, DnsTestServer()),
        "cert": str(pki.path("ap-receiver.pem")),
    }
    with pytest.raises(ConfigError) as caught:
        PeppolAdapter.from_config("p", options, AdapterContext(data_dir=tmp_path))
    assert caught.value.field == "adapters.p.key"
    assert "does not belong to the certificate" in caught.value.message
    assert "ap-sender.key.pem" in caught.value.message and "ap-receiver.pem" in caught.value.message


async def test_make_envelope_contract_body_uses_the_profile(adapter: PeppolAdapter) -> None:
    assert make_envelope().profile == "pint-sg"


@pytest.mark.parametrize(
    ("given", "rule"),
    [
        ({"receiver": UNKNOWN.value}, "peppol.sbdh.receiver-endpoint"),
        ({"sender": "0195:SGUEN209999998Z"}, "peppol.sbdh.sender-endpoint"),
    ],
)
async def test_other_parties_than_the_documents_are_refused_before_sending(
    reference: Path,
    adapter: PeppolAdapter,
    receiver: As4TestReceiver,
    given: dict[str, str],
    rule: str,
) -> None:
    """A PINT SG invoice's SBDH Sender and Receiver must be its seller's and buyer's addresses
    (PINT's enveloping rule): an envelope naming others is a final error before any lookup
    or send, with the rule and the document's element; the buyer's own address spelt in
    lower case is the same participant and the invoice travels."""
    envelope = envelope_for(reference, INVOICE, f"sub-{rule}.peppol@lingang")
    with pytest.raises(PermanentDeliveryError) as caught:
        await adapter.deliver(Envelope(**{**_fields(envelope), **given}))
    assert caught.value.rule == rule and not caught.value.retryable
    assert caught.value.field.startswith(
        "cac:AccountingCustomerParty" if "receiver" in given else "cac:AccountingSupplierParty"
    )
    report = caught.value.details["report"]
    assert report["outcome"] == "failed" and not report["lookup"]
    assert receiver.deliveries == 0
    lower = Envelope(**{**_fields(envelope), "receiver": RECEIVER.value.lower()})
    await adapter.deliver(lower)
    received = parse_sbdh(receiver.received[envelope.message_id])
    assert received.header.receiver.value == RECEIVER.value


@pytest.mark.parametrize(("seat", "delivered"), [("PSG000002", True), ("PSG000003", False)])
async def test_a_receipt_signed_by_another_certificate_of_the_receiving_seat_is_accepted(
    reference: Path,
    pki: PeppolTestPki,
    adapter: PeppolAdapter,
    receiver: As4TestReceiver,
    seat: str,
    delivered: bool,
) -> None:
    """A receiving AP that renewed its certificate signs receipts with the new one while the
    SMP (or our cache of it) still names the old: the same seat (CN, the AS4 PartyId) from
    the AP CA is the receiving AP; another seat's certificate is not (as4.receipt-signer)."""
    now = datetime.now(UTC)
    renewed = issue_access_point(
        pki.ap_ca, seat, not_before=now - timedelta(hours=1), not_after=now + timedelta(days=30)
    )
    receiver.foreign = credentials(renewed)
    receiver.fault = "foreign-signer"
    envelope = envelope_for(reference, INVOICE, f"sub-renewed-{seat}.peppol@lingang")
    if delivered:
        await adapter.deliver(envelope)
        return
    with pytest.raises(PermanentDeliveryError) as caught:
        await adapter.deliver(envelope)
    assert caught.value.rule == "as4.receipt-signer" and not caught.value.retryable
