"""Bad input at the AS4 endpoint: each case answered with the signed ebMS error the Peppol AS4
profile names (HTTP 4xx, never a 500), logged by MessageId and reason without document content,
and nothing stored."""

from __future__ import annotations

import logging
import re
import tracemalloc
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from adapters.peppol import as4
from adapters.peppol.identifiers import (
    BIS3_PROCESS,
    PINT_PROCESS,
    PINT_SG_INVOICE,
    DocumentTypeId,
    ParticipantId,
    ProcessId,
    profile_document_type,
)
from adapters.peppol.receiver import ANSWERED
from adapters.peppol.sbdh import build_sbdh
from adapters.peppol.testing import large_document
from gateway.signing.peppol_pki import PeppolIssued, PeppolTestPki, issue_access_point
from gateway.signing.truststore import TrustStore
from gateway.testing.tls import TlsFiles
from tests.peppol.as4_gateway import (
    INVOICE,
    LOCAL,
    GatewayAp,
    document_message,
    post,
    running_gateway,
    sbdh_header,
    user_message,
)
from tests.peppol.conftest import with_endpoint

ORDER = DocumentTypeId(
    "urn:oasis:names:specification:ubl:schema:xsd:Order-2::Order##"
    "urn:fdc:peppol.eu:poacc:trns:order:3::2.1",
    "busdox-docid-qns",
)
SECRET_MARK = b"Zero rated GST"
"""Text of the invoice that must never appear in a log line."""


@pytest.fixture(scope="module")
def expired(pki: PeppolTestPki) -> PeppolIssued:
    now = datetime.now(UTC)
    return issue_access_point(pki.ap_ca, "PSG000001", not_before=now - timedelta(days=30),
                              not_after=now - timedelta(days=1))  # fmt: skip


@pytest.fixture(scope="module")
def revoked(pki: PeppolTestPki) -> PeppolIssued:
    now = datetime.now(UTC)
    return issue_access_point(pki.ap_ca, "PSG000001", not_before=now - timedelta(days=1),
                              not_after=now + timedelta(days=30))  # fmt: skip


@pytest.fixture(scope="module")
def crl_file(
    pki: PeppolTestPki, revoked: PeppolIssued, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    now = datetime.now(UTC)
    entry = (
        x509.RevokedCertificateBuilder()
        .serial_number(revoked.cert.serial_number)
        .revocation_date(now - timedelta(hours=1))
        .build()
    )
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.ap_ca.cert.subject)
        .last_update(now - timedelta(hours=1))
        .next_update(now + timedelta(days=7))
        .add_revoked_certificate(entry)
        .sign(pki.ap_ca.key, hashes.SHA256())
    )
    path = tmp_path_factory.mktemp("crl") / "ap-ca.crl.pem"
    path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    return path


@pytest.fixture
async def ap(
    tmp_path: Path, pki: PeppolTestPki, tls: TlsFiles, artefacts_home: Path, crl_file: Path
) -> AsyncIterator[GatewayAp]:
    async with running_gateway(
        tmp_path / "c3",
        pki=pki,
        tls=tls,
        artefacts_home=artefacts_home,
        adapter=f'revocation = "soft-fail"\ncrls = ["{crl_file}"]',
        extra="[limits]\nmax_body_bytes = 300000",
    ) as gateway:
        yield gateway


Build = Callable[[PeppolTestPki, bytes, PeppolIssued, PeppolIssued], tuple[bytes, str]]


def _codec(**changes: object) -> Build:
    def build(
        pki: PeppolTestPki, body: bytes, expired: PeppolIssued, revoked: PeppolIssued
    ) -> tuple[bytes, str]:
        signer = {"expired": expired, "revoked": revoked, "rogue": pki.rogue}.get(
            str(changes.get("signer", "")), pki.sender
        )
        rest = {k: v for k, v in changes.items() if k != "signer"}
        if rest.get("receiver_cert") == "sender":
            rest["receiver_cert"] = pki.sender.cert
        message = document_message(pki, body, signer=signer, **rest)
        return message.body, message.content_type

    return build


def _sbdh(edit: Callable[[bytes], bytes], **header: object) -> Build:
    def build(pki: PeppolTestPki, body: bytes, *_: PeppolIssued) -> tuple[bytes, str]:
        chosen = sbdh_header(**header)  # type: ignore[arg-type]
        message = user_message(
            edit(build_sbdh(body, chosen)),
            chosen,
            signer=pki.sender,
            receiver_cert=pki.receiver.cert,
        )
        return message.body, message.content_type

    return build


def _order(pki: PeppolTestPki, body: bytes, *_: PeppolIssued) -> tuple[bytes, str]:
    """A well-formed Order (its SBDH agrees with it) to an AP that receives no Orders."""
    order = b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>'
    return _codec(header=sbdh_header(ORDER))(pki, order, pki.sender, pki.sender)


def _tampered(pki: PeppolTestPki, body: bytes, *_: PeppolIssued) -> tuple[bytes, str]:
    message = document_message(pki, body)
    return message.body.replace(
        b"PSG000001</eb:PartyId>", b"PSG000008</eb:PartyId>", 1
    ), message.content_type


def _bare_invoice(pki: PeppolTestPki, body: bytes, *_: PeppolIssued) -> tuple[bytes, str]:
    header = sbdh_header()
    message = user_message(body, header, signer=pki.sender, receiver_cert=pki.receiver.cert)
    return message.body, message.content_type


def _to(buyer: ParticipantId, receiver: ParticipantId) -> Build:
    """The invoice with ``buyer`` as its buyer's address, enveloped for ``receiver`` (the AS4
    finalRecipient says the same as the SBDH)."""

    def build(pki: PeppolTestPki, body: bytes, *_: PeppolIssued) -> tuple[bytes, str]:
        edited = with_endpoint(body, "AccountingCustomerParty", buyer)
        message = document_message(pki, edited, sbdh_header(receiver=receiver))
        return message.body, message.content_type

    return build


def _payload_profile(profile: bytes, *, enveloped: bool = False) -> Build:
    """The invoice with ``profile`` as its process (``cbc:ProfileID``), enveloped under its
    own document type and the PINT process (``enveloped``: under ``profile`` too)."""

    def build(pki: PeppolTestPki, body: bytes, *_: PeppolIssued) -> tuple[bytes, str]:
        edited = body.replace(
            b"<cbc:ProfileID>urn:peppol:bis:billing<", b"<cbc:ProfileID>" + profile + b"<"
        )
        assert edited != body
        process = ProcessId(profile.decode()) if enveloped else PINT_PROCESS
        message = document_message(pki, edited, sbdh_header(process=process))
        return message.body, message.content_type

    return build


PINT_INVOICE = profile_document_type("pint", credit_note=False)
"""A document type this AP receives, of another customization than the PINT SG payload's."""


def _inflated(pki: PeppolTestPki, body: bytes, *_: PeppolIssued) -> tuple[bytes, str]:
    """A message well under the 300000-byte limit on the wire whose invoice is twice that once
    decompressed: the inbound flow would reject it (``ingest.max-bytes``) after its receipt."""
    message = document_message(pki, large_document(body, 600_000))
    assert len(message.body) < 100_000
    return message.body, message.content_type


def _oversize(pki: PeppolTestPki, body: bytes, *_: PeppolIssued) -> tuple[bytes, str]:
    message = document_message(pki, body)
    return message.body + b"\r\n" + b" " * 400_000, message.content_type


UBL_INVOICE = b"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE = b"urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
COUNTRY_C1 = b"<Scope><Type>COUNTRY_C1</Type><InstanceIdentifier>SG</InstanceIdentifier></Scope>"
OTHER = ParticipantId("0195:SGUEN209999999Z")
CASES: dict[str, tuple[Build, int, tuple[str, str]]] = {
    "not multipart": (lambda *_: (b"hello", "text/plain"), 400, ("EBMS:0007", "")),
    # a MessageId holding a control character, echoed into the error answering it: once a 500
    "MessageId with a control character": (
        lambda *_: (b'<S12:Envelope xmlns:S12="http://www.w3.org/2003/05/soap-envelope">'
                    b"<eb:MessageId>\x01m@x</eb:MessageId></S12:Envelope>", "application/soap+xml"),
        400, ("EBMS:0004", "")),
    # a boundary no Latin-1 byte spells (UnicodeEncodeError, once a 500 and no ebMS error)
    "boundary outside bchars": (
        lambda *_: (b"--\xe4\xb8\xad\r\n", 'multipart/related; boundary="\u4e2d"'),
        400, ("EBMS:0007", "")),
    "SOAP without a message": (
        lambda *_: (b"<x/>", "application/soap+xml"), 400, ("EBMS:0004", "")),
    "missing SBDH": (_bare_invoice, ANSWERED, ("EBMS:0004", "")),
    "SBDH without COUNTRY_C1": (_sbdh(lambda b: b.replace(COUNTRY_C1, b"")), ANSWERED, ("EBMS:0004", "")),
    "SBDH against its XSD": (
        _sbdh(lambda b: b.replace(b"<HeaderVersion>1.0</HeaderVersion>", b"")), ANSWERED, ("EBMS:0004", "")),
    "SBDH Standard not the payload's": (
        _sbdh(lambda b: b.replace(b"<Standard>" + UBL_INVOICE, b"<Standard>" + UBL_CREDIT_NOTE)),
        ANSWERED, ("EBMS:0004", "")),
    "SBDH TypeVersion not the document type's": (
        _sbdh(lambda b: b.replace(b"<TypeVersion>2.1<", b"<TypeVersion>1.0<")),
        ANSWERED, ("EBMS:0004", "")),
    "SBDH with two DOCUMENTID scopes": (
        _sbdh(lambda b: b.replace(b"<BusinessScope>", b"<BusinessScope>" + b"".join(
            re.findall(rb"<Scope><Type>DOCUMENTID</Type>.*?</Scope>", b)))),
        ANSWERED, ("EBMS:0004", "")),
    "SBDH DOCUMENTID not the payload's CustomizationID": (
        _codec(header=sbdh_header(PINT_INVOICE)), ANSWERED, ("EBMS:0004", "")),
    "SBDH PROCESSID not the payload's ProfileID": (
        _payload_profile(b"urn:peppol:bis:selfbilling"), ANSWERED, ("EBMS:0004", "")),
    "SBDH COUNTRY_C1 not assigned": (
        _sbdh(lambda b: b.replace(COUNTRY_C1, COUNTRY_C1.replace(b">SG<", b">QQ<"))),
        ANSWERED, ("EBMS:0004", "")),
    "wrong receiver": (_to(OTHER, OTHER), ANSWERED, ("EBMS:0004", "PEPPOL:NOT_SERVICED")),
    "SBDH Receiver not the payload's buyer": (_to(OTHER, LOCAL), ANSWERED, ("EBMS:0004", "")),
    "SBDH Sender not the payload's seller": (
        _codec(header=sbdh_header(sender=OTHER)), ANSWERED, ("EBMS:0004", "")),
    "document type not served": (_order, ANSWERED, ("EBMS:0004", "PEPPOL:NOT_SERVICED")),
    "PINT SG document type under busdox-docid-qns": (
        _codec(header=sbdh_header(DocumentTypeId(PINT_SG_INVOICE.value, "busdox-docid-qns"))),
        ANSWERED, ("EBMS:0004", "PEPPOL:NOT_SERVICED")),
    "process not served for the document type": (
        _payload_profile(BIS3_PROCESS.value.encode(), enveloped=True), ANSWERED,
        ("EBMS:0004", "PEPPOL:NOT_SERVICED")),
    "finalRecipient differs from the SBDH": (_codec(final_recipient=OTHER), ANSWERED, ("EBMS:0003", "")),
    "addressed to another access point": (_codec(to_party="PSG000099"), ANSWERED, ("EBMS:0003", "")),
    "from another access point than signed it": (
        _codec(from_party="PSG000099"), ANSWERED, ("EBMS:0003", "")),
    "expired sender certificate": (_codec(signer="expired"), ANSWERED, ("EBMS:0101", "")),
    "revoked sender certificate": (_codec(signer="revoked"), ANSWERED, ("EBMS:0101", "")),
    "sender from an untrusted CA": (_codec(signer="rogue"), ANSWERED, ("EBMS:0101", "")),
    "tampered header": (_tampered, ANSWERED, ("EBMS:0101", "")),
    "encrypted for another AP": (_codec(receiver_cert="sender"), ANSWERED, ("EBMS:0102", "")),
    "unencrypted payload": (_codec(receiver_cert=None), ANSWERED, ("EBMS:0103", "")),
    "oversize": (_oversize, 413, ("EBMS:0004", "")),
    "document over the limit once decompressed": (_inflated, ANSWERED, ("EBMS:0004", "")),
}  # fmt: skip
RULES = {
    "boundary outside bchars": "as4.mime.boundary",
    "SBDH Standard not the payload's": "peppol.sbdh.standard",
    "SBDH TypeVersion not the document type's": "peppol.sbdh.type-version",
    "SBDH with two DOCUMENTID scopes": "peppol.sbdh.scope-repeated",
    "SBDH COUNTRY_C1 not assigned": "peppol.sbdh.country-c1",
    "SBDH DOCUMENTID not the payload's CustomizationID": "peppol.sbdh.customization",
    "SBDH PROCESSID not the payload's ProfileID": "peppol.sbdh.process",
    "document over the limit once decompressed": "as4.payload-max-bytes",
    "unencrypted payload": "as4.encryption-required",
    "process not served for the document type": "peppol.process-not-serviced",
    "PINT SG document type under busdox-docid-qns": "peppol.doctype-scheme-not-serviced",
    "SBDH Receiver not the payload's buyer": "peppol.sbdh.receiver-endpoint",
    "SBDH Sender not the payload's seller": "peppol.sbdh.sender-endpoint",
}
"""The rule a refusal is logged with, where a case's ebMS code is shared with others."""


@pytest.mark.parametrize("case", sorted(CASES))
async def test_bad_input_gets_the_profiles_error_and_nothing_is_stored(
    ap: GatewayAp,
    pki: PeppolTestPki,
    tls: TlsFiles,
    ap_trust: TrustStore,
    reference: Path,
    expired: PeppolIssued,
    revoked: PeppolIssued,
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    caplog.set_level(logging.INFO)
    build, status, expected = CASES[case]
    body, content_type = build(pki, (reference / INVOICE).read_bytes(), expired, revoked)
    answer = await post(ap.url, body, content_type, tls.client_context())
    assert answer.status == status, answer.body[:400]
    assert answer.error_codes(ap_trust) == [expected]
    assert answer.signal(ap_trust).receipt is None
    assert await ap.services.store.list_inbound() == []
    lines = [r.getMessage() + repr(r.__dict__) for r in caplog.records]
    assert any("AS4 message refused" in line for line in lines)
    assert not any(SECRET_MARK.decode() in line for line in lines)
    if case in RULES:
        assert any(f"'rule': '{RULES[case]}'" in line for line in lines), lines
    why = {"expired sender certificate": "expired", "revoked sender certificate": "revoked"}
    assert why.get(case, "") in answer.signal(ap_trust).errors[0].description


async def test_a_payload_that_does_not_decompress_is_ebms_0303(
    ap: GatewayAp,
    pki: PeppolTestPki,
    tls: TlsFiles,
    ap_trust: TrustStore,
    reference: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(as4, "compress", lambda data: b"this is not gzip")
    message = document_message(pki, (reference / INVOICE).read_bytes())
    monkeypatch.undo()
    answer = await post(ap.url, message.body, message.content_type, tls.client_context())
    assert (answer.status, answer.error_codes(ap_trust)) == (ANSWERED, [("EBMS:0303", "")])
    (error,) = answer.signal(ap_trust).errors
    assert (error.short_description, error.category) == ("DecompressionFailure", "Communication")
    assert await ap.services.store.list_inbound() == []


async def test_a_payload_inflating_past_the_limit_is_refused_without_inflating_it_whole(
    ap: GatewayAp, pki: PeppolTestPki, tls: TlsFiles, ap_trust: TrustStore, reference: Path
) -> None:
    """A 2 MB document in a 300000-byte-limit access point (under 8 times the limit, which
    the receiver used to inflate before it looked at the size) is refused as over the limit
    while its SBDH is being decompressed: the refusal never holds more than the limit, so
    the peak of memory allocated while it is answered stays under the document's size."""
    document = large_document((reference / INVOICE).read_bytes(), 2_000_000)
    message = document_message(pki, document)
    tracemalloc.start()
    try:
        answer = await post(ap.url, message.body, message.content_type, tls.client_context())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < len(document), peak
    assert answer.error_codes(ap_trust) == [("EBMS:0004", "")]
    (error,) = answer.signal(ap_trust).errors
    assert "more than 365536 bytes with its SBDH" in error.description
    assert "up to 300000 bytes" in error.description
    assert await ap.services.store.list_inbound() == []


async def test_a_valid_message_still_passes_the_revocation_checked_endpoint(
    ap: GatewayAp, pki: PeppolTestPki, tls: TlsFiles, ap_trust: TrustStore, reference: Path
) -> None:
    """The CRL lists only the revoked certificate: the ordinary sender is received."""
    message = document_message(pki, (reference / INVOICE).read_bytes())
    answer = await post(ap.url, message.body, message.content_type, tls.client_context())
    assert answer.status == 200 and answer.signal(ap_trust).receipt is not None


async def test_a_sender_of_the_other_peppol_network_is_refused_though_its_ca_is_trusted(
    ap: GatewayAp,
    pki: PeppolTestPki,
    tls: TlsFiles,
    ap_trust: TrustStore,
    reference: Path,
) -> None:
    """Peppol production and test are separate networks, each AP certificate naming its own
    in its subject OU. An ``ap_trust`` holding the CAs of both (a combined bundle; here one CA
    issues both kinds) must not let a production AP's message into a test AP, nor the
    reverse: ``EBMS:0101``, nothing stored, the same message from a certificate of our
    network received."""
    now = datetime.now(UTC)
    production = issue_access_point(
        pki.ap_ca,
        "PSG000001",
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=30),
        unit="PEPPOL PRODUCTION AP",
    )
    body = (reference / INVOICE).read_bytes()
    message = document_message(pki, body, signer=production)
    answer = await post(ap.url, message.body, message.content_type, tls.client_context())
    assert (answer.status, answer.error_codes(ap_trust)) == (ANSWERED, [("EBMS:0101", "")])
    (error,) = answer.signal(ap_trust).errors
    assert "OU=PEPPOL PRODUCTION AP" in error.description
    assert "Peppol production network" in error.description
    assert "on the test network" in error.description
    assert await ap.services.store.list_inbound() == []
    ours = document_message(pki, body)
    answer = await post(ap.url, ours.body, ours.content_type, tls.client_context())
    assert answer.status == 200 and answer.signal(ap_trust).receipt is not None


def _with_critical(
    ca: PeppolIssued, template: PeppolIssued, value: x509.ExtensionType
) -> PeppolIssued:
    """``template``'s certificate and key, re-issued by ``ca`` with ``value`` critical (in
    place of ``template``'s extension of the same kind, if any)."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(template.cert.subject)
        .issuer_name(ca.cert.subject)
        .public_key(template.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(template.cert.not_valid_before_utc)
        .not_valid_after(template.cert.not_valid_after_utc)
    )
    for extension in template.cert.extensions:
        if extension.oid != value.oid:
            builder = builder.add_extension(extension.value, critical=extension.critical)
    builder = builder.add_extension(value, critical=True)
    return PeppolIssued(builder.sign(ca.key, hashes.SHA256()), template.key)


async def test_a_sender_certificate_with_an_unknown_critical_extension_is_ebms_0101(
    ap: GatewayAp, pki: PeppolTestPki, tls: TlsFiles, ap_trust: TrustStore, reference: Path
) -> None:
    """RFC 5280 4.2: the AP CA's certificate for the sender, with a critical extension the
    gateway does not process, is refused as a failed authentication (EBMS:0101) naming the
    extension, and nothing is stored; the same sender without it is received."""
    private = x509.ObjectIdentifier("1.3.6.1.4.1.55555.7.1")
    signer = _with_critical(pki.ap_ca, pki.sender, x509.UnrecognizedExtension(private, b"\x05\x00"))
    message = document_message(pki, (reference / INVOICE).read_bytes(), signer=signer)
    answer = await post(ap.url, message.body, message.content_type, tls.client_context())
    assert (answer.status, answer.error_codes(ap_trust)) == (ANSWERED, [("EBMS:0101", "")])
    assert private.dotted_string in answer.signal(ap_trust).errors[0].description
    assert await ap.services.store.list_inbound() == []


async def test_a_sender_certificate_for_encipherment_only_is_ebms_0101(
    ap: GatewayAp, pki: PeppolTestPki, tls: TlsFiles, ap_trust: TrustStore, reference: Path
) -> None:
    """RFC 5280 4.2.1.3: a certificate whose keyUsage allows neither digitalSignature nor
    nonRepudiation may not be used to verify signatures; an AS4 message signed with one is
    refused (EBMS:0101) naming the rule, and nothing is stored."""
    usage = x509.KeyUsage(False, False, True, False, False, False, False, False, False)
    signer = _with_critical(pki.ap_ca, pki.sender, usage)
    message = document_message(pki, (reference / INVOICE).read_bytes(), signer=signer)
    answer = await post(ap.url, message.body, message.content_type, tls.client_context())
    assert (answer.status, answer.error_codes(ap_trust)) == (ANSWERED, [("EBMS:0101", "")])
    assert "RFC 5280 4.2.1.3" in answer.signal(ap_trust).errors[0].description
    assert await ap.services.store.list_inbound() == []
