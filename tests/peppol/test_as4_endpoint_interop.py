"""Interoperability of the AS4 endpoint with code we did not write: messages built by the PyPI
``as4`` package (Peppol profile) are received by a gateway over TLS, and the package accepts
our receipt (signature and non-repudiation of what it signed); its duplicate gets the same
receipt again, its tampered and undecryptable messages the right ebMS errors, which the
package reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from as4 import AS4LocalPrivateKey
from as4.peppol import (
    PeppolAS4Profile,
    build_peppol_message,
    create_peppol_external_party,
    create_peppol_internal_party,
    parse_peppol_receipt,
)
from cryptography import x509

from adapters.peppol.identifiers import BIS3_INVOICE, BIS3_PROCESS
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.testing.tls import TlsFiles
from tests.peppol.as4_gateway import LOCAL, GatewayAp, post
from tests.peppol.conftest import with_endpoint

BIS3 = "openpeppol-peppol-bis-invoice-3/rules/examples/base-example.xml"


def package_message(pki: PeppolTestPki, body: bytes, receiver_cert: x509.Certificate) -> Any:
    local = create_peppol_internal_party(
        party_id="PSG000001",
        certificate=pki.sender.cert,
        private_key=AS4LocalPrivateKey(pki.sender.key),
    )
    remote = create_peppol_external_party(party_id="PSG000002", certificate=receiver_cert)
    return build_peppol_message(
        with_endpoint(body, "AccountingCustomerParty", LOCAL),
        local_party=local,
        remote_party=remote,
        sender="0088:9482348239847239874",
        recipient=LOCAL.value,
        document_type_identifier_scheme="busdox-docid-qns",
        document_type_identifier_value=BIS3_INVOICE.value,
        process_identifier=BIS3_PROCESS.value,
        sender_country_id="CN",
    )


def wire(message: Any) -> tuple[bytes, str]:
    body, boundary = message.get_request_data()
    headers: dict[str, str] = message.get_http_headers(boundary)
    content_type = next(v for k, v in headers.items() if k.lower() == "content-type")
    return body, content_type


async def test_the_package_message_is_received_and_our_receipt_accepted_also_for_a_duplicate(
    ap: GatewayAp, pki: PeppolTestPki, tls: TlsFiles, reference: Path
) -> None:
    message = package_message(pki, (reference / BIS3).read_bytes(), pki.receiver.cert)
    body, content_type = wire(message)
    first = await post(ap.url, body, content_type, tls.client_context())
    assert first.status == 200, first.body[:400]
    receipt = parse_peppol_receipt(first.body, pki.receiver.cert)
    receipt.verify_non_repudiation(message.signed_references)
    assert receipt.success
    again = await post(ap.url, body, content_type, tls.client_context())
    assert again.body == first.body
    parse_peppol_receipt(again.body, pki.receiver.cert).verify_non_repudiation(
        message.signed_references
    )
    (stored,) = await ap.services.store.list_inbound()
    assert stored.metadata["peppol"]["c1_country"] == "CN"
    await ap.drain()
    assert len([p for p in ap.received.iterdir() if p.suffix == ".xml"]) == 1


def error_codes(answer: bytes, signer: x509.Certificate) -> list[str]:
    """The error codes as the package reads our (signed) error signal."""
    parsed = PeppolAS4Profile.parse_receipt(answer, signer)
    assert not parsed.success
    return [error.error_code for error in parsed.errors]


async def test_the_package_tampered_and_undecryptable_messages_get_ebms_errors(
    ap: GatewayAp, pki: PeppolTestPki, tls: TlsFiles, reference: Path
) -> None:
    document = (reference / BIS3).read_bytes()
    body, content_type = wire(package_message(pki, document, pki.sender.cert))
    undecryptable = await post(ap.url, body, content_type, tls.client_context())
    assert undecryptable.status == 200  # an ebMS error signal, a SOAP response (not a fault)
    assert error_codes(undecryptable.body, pki.receiver.cert) == ["EBMS:0102"]
    body, content_type = wire(package_message(pki, document, pki.receiver.cert))
    assert body.count(b"9482348239847239874<") == 1  # originalSender in the signed header
    tampered = body.replace(b"9482348239847239874<", b"9482348239847239875<")
    answer = await post(ap.url, tampered, content_type, tls.client_context())
    assert answer.status == 200
    assert error_codes(answer.body, pki.receiver.cert) == ["EBMS:0101"]
    assert await ap.services.store.list_inbound() == []
