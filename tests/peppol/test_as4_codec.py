"""The AS4 codec both ways, and against real wire messages and receipts from phase4."""

from __future__ import annotations

import gzip
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from lxml import etree

from adapters.peppol import as4, mime, ns, signals, wssec, xmldsig
from adapters.peppol.document_facts import document_facts
from adapters.peppol.identifiers import (
    BIS3_INVOICE,
    BIS3_PROCESS,
    PINT_PROCESS,
    PINT_SG_INVOICE,
    ParticipantId,
)
from gateway.errors import InputError, VerificationError
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.signing.truststore import TrustStore
from gateway.xmlsafe import parse_xml
from tests.peppol.conftest import credentials

PHASE4 = "phax-phase4-examples"
GOOD_RECEIPTS = ["helger", "governikus", "dataport1-mustunderstand"]


def header(message_id: str = "m-1@lingang") -> as4.UserMessageHeader:
    return as4.UserMessageHeader(
        from_party="PSG000001",
        to_party="PSG000002",
        service=PINT_PROCESS,
        action=PINT_SG_INVOICE,
        original_sender=ParticipantId("0088:6970000000001"),
        final_recipient=ParticipantId("0195:SGUEN201234567A"),
        message_id=message_id,
    )


def build(
    pki: PeppolTestPki,
    payload: bytes = b"<Invoice>hello</Invoice>",
    head: as4.UserMessageHeader | None = None,
) -> as4.OutgoingMessage:
    return as4.build_user_message(
        payload, head or header(), credentials(pki.sender), pki.receiver.cert
    )


def receive(
    pki: PeppolTestPki, ap_trust: TrustStore, message: as4.OutgoingMessage
) -> as4.IncomingMessage:
    return as4.parse_user_message(
        message.content_type,
        message.body,
        credentials=credentials(pki.receiver),
        check_signer=ap_trust.check,
    )


def test_round_trip_signed_encrypted_receipted(pki: PeppolTestPki, ap_trust: TrustStore) -> None:
    sent = build(pki)
    assert b"<Invoice>hello</Invoice>" not in sent.body  # encrypted on the wire
    incoming = receive(pki, ap_trust, sent)
    assert incoming.sbdh == b"<Invoice>hello</Invoice>"
    assert incoming.header.message_id == "m-1@lingang"
    assert incoming.header.action == PINT_SG_INVOICE
    assert incoming.header.final_recipient.value == "0195:SGUEN201234567A"
    assert {r.uri[:4] for r in sent.signed_references} == {"#msg", "#bod", "cid:"}
    answer = signals.parse_signal(
        signals.SOAP_CONTENT_TYPE,
        signals.build_receipt(incoming, credentials(pki.receiver)),
        check_signer=ap_trust.check,
    )
    assert answer.receipt is not None and not answer.errors
    signals.check_receipt_covers(answer.receipt, sent)


def test_wire_form_follows_the_profile(pki: PeppolTestPki) -> None:
    sent = build(pki)
    parts = mime.parse_message(sent.content_type, sent.body)
    root = parse_xml(parts.soap)
    user = root.find("S12:Header/eb:Messaging/eb:UserMessage", ns.NSMAP)
    assert user is not None
    assert (
        user.findtext("eb:CollaborationInfo/eb:AgreementRef", namespaces=ns.NSMAP)
        == ns.PEPPOL_AGREEMENT
    )
    assert user.find("eb:CollaborationInfo/eb:Service", ns.NSMAP).get("type") == "cenbii-procid-ubl"  # type: ignore[union-attr]
    assert (
        user.findtext("eb:CollaborationInfo/eb:Action", namespaces=ns.NSMAP)
        == PINT_SG_INVOICE.uri()
    )
    algorithms = {el.get("Algorithm") for el in root.iter() if el.get("Algorithm")}
    assert {
        ns.RSA_SHA256,
        ns.SHA256,
        ns.EXC_C14N,
        ns.RSA_OAEP,
        ns.MGF1_SHA256,
        ns.AES128_GCM,
    } <= algorithms
    assert root.find(".//wsse:BinarySecurityToken", ns.NSMAP).get("ValueType") == ns.X509V3  # type: ignore[union-attr]
    assert len(parts.attachments) == 1
    assert next(iter(parts.attachments.values())).content_type == "application/octet-stream"
    body = root.find("S12:Body", ns.NSMAP)
    assert body is not None and len(body) == 0 and not (body.text or "").strip()


def test_untrusted_signer_is_failed_authentication(
    pki: PeppolTestPki, ap_trust: TrustStore
) -> None:
    sent = as4.build_user_message(b"<x/>", header(), credentials(pki.rogue), pki.receiver.cert)
    with pytest.raises(as4.As4Invalid) as caught:
        receive(pki, ap_trust, sent)
    assert caught.value.ebms_code == "EBMS:0101"


def test_changed_header_or_attachment_is_refused(pki: PeppolTestPki, ap_trust: TrustStore) -> None:
    sent = build(pki)
    changed = sent.body.replace(b"0195:SGUEN201234567A", b"0195:SGUEN201234567B")
    with pytest.raises(as4.As4Invalid) as caught:
        receive(pki, ap_trust, as4.OutgoingMessage(sent.message_id, changed, sent.content_type, ()))
    assert caught.value.ebms_code == "EBMS:0101"
    parts = mime.parse_message(sent.content_type, sent.body)
    sealed = next(iter(parts.attachments.values())).body
    flipped = sent.body.replace(sealed, sealed[:-1] + bytes([sealed[-1] ^ 1]))
    with pytest.raises(as4.As4Invalid) as decrypt:
        receive(pki, ap_trust, as4.OutgoingMessage(sent.message_id, flipped, sent.content_type, ()))
    assert decrypt.value.ebms_code == "EBMS:0102"


def test_message_for_another_receiver_does_not_decrypt(
    pki: PeppolTestPki, ap_trust: TrustStore
) -> None:
    sent = as4.build_user_message(b"<x/>", header(), credentials(pki.sender), pki.smp.cert)
    with pytest.raises(as4.As4Invalid) as caught:
        receive(pki, ap_trust, sent)
    assert caught.value.ebms_code == "EBMS:0102"


def test_unsigned_message_is_refused(pki: PeppolTestPki, ap_trust: TrustStore) -> None:
    sent = build(pki)
    parts = mime.parse_message(sent.content_type, sent.body)
    root = parse_xml(parts.soap)
    signature = root.find(".//ds:Signature", ns.NSMAP)
    assert signature is not None
    signature.getparent().remove(signature)  # type: ignore[union-attr]
    body, content_type = mime.build_multipart(
        etree.tostring(root),
        [(cid, "application/octet-stream", p.body) for cid, p in parts.attachments.items()],
    )
    with pytest.raises(as4.As4Invalid) as caught:
        receive(pki, ap_trust, as4.OutgoingMessage(sent.message_id, body, content_type, ()))
    assert caught.value.ebms_code == "EBMS:0103"


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"\0" * (4 * 1024 * 1024))
    with pytest.raises(as4.As4Invalid) as caught:
        as4.decompress(bomb, limit=1024 * 1024)
    assert caught.value.ebms_code == "EBMS:0303"


def test_a_payload_gzipped_in_two_members_arrives_whole(
    pki: PeppolTestPki, ap_trust: TrustStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 1952 2.2: a gzip file is a series of members (what a streaming compressor, or
    ``cat a.gz b.gz``, writes; ``gzip -d`` and Java's GZIPInputStream read them all). Only
    the first was read: the sender's SBDH arrived cut in half."""
    payload = b"<Invoice>" + b"line " * 2000 + b"</Invoice>"

    def in_two_members(data: bytes) -> bytes:
        half = len(data) // 2
        return gzip.compress(data[:half], mtime=0) + gzip.compress(data[half:], mtime=0)

    monkeypatch.setattr(as4, "compress", in_two_members)
    incoming = receive(pki, ap_trust, build(pki, payload))
    assert incoming.sbdh == payload


@pytest.mark.parametrize(
    ("compressed", "says"),
    [
        (gzip.compress(b"<Invoice/>") + b"trailing bytes", "after 1 gzip members"),
        (gzip.compress(b"<Invoice/>") + gzip.compress(b"<a/>")[:12], "truncated"),
        (gzip.compress(b"") * (as4.MAX_GZIP_MEMBERS + 1), "gzip members"),
        (gzip.compress(b"\0" * (700 * 1024)) * 2, "more than 1048576 bytes"),
    ],
    ids=["trailing-bytes", "cut-second-member", "too-many-members", "bomb-over-members"],
)
def test_what_follows_a_gzip_member_is_gzip_or_refused(compressed: bytes, says: str) -> None:
    """Bytes after the first member were dropped without a word; what is not gzip is
    EBMS:0303 (DecompressionFailure), and the size cap counts every member."""
    with pytest.raises(as4.As4Invalid) as caught:
        as4.decompress(compressed, limit=1024 * 1024)
    assert caught.value.ebms_code == "EBMS:0303"
    assert says in caught.value.message


def test_receipt_echoing_other_digests_is_refused(pki: PeppolTestPki, ap_trust: TrustStore) -> None:
    # another build of the MessageId a second earlier: the same part ids (derived from the
    # MessageId), another timestamp, so another messaging-header digest however close in
    # time the two builds run
    sent = build(pki)
    earlier = replace(header(), timestamp=header().timestamp - timedelta(seconds=1))
    other = build(pki, b"<Invoice>other</Invoice>", earlier)
    incoming = receive(pki, ap_trust, other)
    receipt_for_other = signals.build_receipt(incoming, credentials(pki.receiver))
    answer = signals.parse_signal(
        signals.SOAP_CONTENT_TYPE, receipt_for_other, check_signer=ap_trust.check
    )
    assert answer.receipt is not None
    with pytest.raises(VerificationError) as caught:
        signals.check_receipt_covers(answer.receipt, sent)
    assert caught.value.check == "as4.receipt-digests"
    # each part named once, by what is wrong with it (the same URIs, other digests here)
    assert "another digest for ['#msg-" in caught.value.message
    assert "not echoed" not in caught.value.message
    with pytest.raises(VerificationError):
        signals.parse_signal(
            signals.SOAP_CONTENT_TYPE,
            receipt_for_other.replace(b"Timestamp>2", b"Timestamp>1", 1),
            check_signer=ap_trust.check,
        )


def test_error_signal_round_trip() -> None:
    error = signals.not_serviced("m-9@x", "no such receiver here")
    answer = signals.parse_signal(
        signals.SOAP_CONTENT_TYPE, signals.build_error("m-9@x", [error]), check_signer=print
    )
    assert answer.receipt is None
    assert answer.errors[0].not_serviced and not answer.errors[0].retryable
    assert answer.errors[0].code == "EBMS:0004"


def test_not_a_signal_is_input_error() -> None:
    with pytest.raises(InputError):
        signals.parse_signal("text/html", b"<html/>", check_signer=print)


# --- real wire messages (phase4, test network) -----------------------------------------------


def _signed(root: etree._Element) -> tuple[etree._Element, x509.Certificate]:
    signature = root.find("S12:Header/wsse:Security/ds:Signature", ns.NSMAP)
    assert signature is not None
    return signature, wssec.signing_certificate(root, signature)


@pytest.mark.parametrize("name", GOOD_RECEIPTS)
def test_real_receipts_verify(reference: Path, name: str) -> None:
    headers, body = mime.split_http_dump(
        (reference / PHASE4 / "receipts" / f"{name}.as4in").read_bytes()
    )
    answer = signals.parse_signal(headers["content-type"], body, check_signer=lambda cert: None)
    assert answer.receipt is not None
    assert len(answer.receipt.references) == 3
    assert any(r.uri.startswith("cid:") for r in answer.receipt.references)
    assert answer.receipt.ref_to_message_id.endswith("@phase4")
    assert "PEPPOL ACCESS POINT TEST CA - G2" in answer.receipt.signer.issuer.rfc4514_string()


def test_real_tampered_receipt_is_refused(reference: Path) -> None:
    headers, body = mime.split_http_dump(
        (reference / PHASE4 / "receipts" / "dataport1.as4in").read_bytes()
    )
    with pytest.raises(VerificationError) as caught:
        signals.parse_signal(headers["content-type"], body, check_signer=lambda cert: None)
    assert caught.value.check == "xmldsig.digest"


def test_real_receipt_from_untrusted_ca_is_refused(reference: Path, ap_trust: TrustStore) -> None:
    headers, body = mime.split_http_dump(
        (reference / PHASE4 / "receipts" / "helger.as4in").read_bytes()
    )
    with pytest.raises(VerificationError) as caught:
        signals.parse_signal(headers["content-type"], body, check_signer=ap_trust.check)
    assert caught.value.check == "chain"


def test_real_user_message_reads_and_its_signature_verifies(reference: Path) -> None:
    headers, body = mime.split_http_dump(
        (reference / PHASE4 / "usermessage" / "dump-raw.as4out").read_bytes()
    )
    parts = mime.parse_message(headers["content-type"], body)
    root = as4.parse_soap(parts.soap)
    messaging = root.find("S12:Header/eb:Messaging", ns.NSMAP)
    assert messaging is not None
    read = as4.read_user_message_header(messaging)
    assert read.from_party == read.to_party == "POP000306"
    assert read.original_sender.value == "9915:phase4-test-sender"
    assert read.final_recipient.value == "9915:helger"
    assert read.action == BIS3_INVOICE and read.service == BIS3_PROCESS
    signature, cert = _signed(root)
    assert "TEST CA - G3" in cert.issuer.rfc4514_string()
    verified = xmldsig.verify_signature(root, signature, cert.public_key())  # type: ignore[arg-type]
    assert len(verified.references) == 3
    assert verified.unchecked == [r.uri for r in verified.references if r.uri.startswith("cid:")]
    # without the receiver's key it cannot be decrypted: an honest refusal, not a crash
    with pytest.raises(as4.As4Invalid) as caught:
        as4.parse_user_message(
            headers["content-type"], body, credentials=None, check_signer=lambda c: None
        )
    assert caught.value.ebms_code == "EBMS:0102"


def test_real_user_message_with_changed_header_fails(reference: Path) -> None:
    raw = (reference / PHASE4 / "usermessage" / "dump-raw.as4out").read_bytes()
    headers, body = mime.split_http_dump(raw.replace(b"9915:helger<", b"9915:helgeR<"))
    root = as4.parse_soap(mime.parse_message(headers["content-type"], body).soap)
    signature, cert = _signed(root)
    with pytest.raises(VerificationError):
        xmldsig.verify_signature(root, signature, cert.public_key())  # type: ignore[arg-type]


def test_real_soap12_header_example_reads(reference: Path) -> None:
    root = as4.parse_soap((reference / PHASE4 / "usermessage" / "test-2023-03-15.xml").read_bytes())
    messaging = root.find("S12:Header/eb:Messaging", ns.NSMAP)
    assert messaging is not None
    read = as4.read_user_message_header(messaging)
    assert read.from_party.startswith("P") and read.action == BIS3_INVOICE
    part = messaging.find("eb:UserMessage/eb:PayloadInfo/eb:PartInfo", ns.NSMAP)
    assert part is not None and part.get("href") == "cid:sbdhID"


def test_hostile_soap_is_refused() -> None:
    with pytest.raises(as4.As4Invalid):
        as4.parse_soap(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    with pytest.raises(as4.As4Invalid) as caught:
        as4.parse_user_message("multipart/related", b"--x", credentials=None, check_signer=print)
    assert caught.value.ebms_code == "EBMS:0007"


def test_as4_header_must_match_the_sbdh(
    pki: PeppolTestPki, ap_trust: TrustStore, reference: Path
) -> None:
    from adapters.peppol import sbdh

    payload = (
        reference
        / "openpeppol-pint-sg-1.4.1/trn-invoice/example/PINT-SG CN example 01 - Credit Note.xml"
    ).read_bytes()
    envelope = sbdh.header_for_document(document_facts(payload), country_c1="CN")
    agreeing = replace(
        header(),
        action=envelope.document_type,
        original_sender=envelope.sender,
        final_recipient=envelope.receiver,
    )
    as4.check_header_matches_sbdh(agreeing, envelope)
    for changed, rule in (
        (
            replace(agreeing, final_recipient=ParticipantId("0195:SGUEN000000000X")),
            "as4.sbdh-finalRecipient",
        ),
        (replace(agreeing, action=PINT_SG_INVOICE), "as4.sbdh-Action"),
        (replace(agreeing, service=BIS3_PROCESS), "as4.sbdh-Service"),
    ):
        with pytest.raises(as4.As4Invalid) as caught:
            as4.check_header_matches_sbdh(changed, envelope)
        assert caught.value.ebms_code == "EBMS:0003" and caught.value.rule == rule


def test_mangled_messages_are_refused_never_crash(pki: PeppolTestPki, ap_trust: TrustStore) -> None:
    """Hostile input: random byte changes, cuts and splices of a valid message end in a typed
    refusal (or, for changes outside what is signed, a verified message) — never another error."""
    import random

    sent = build(pki)
    rng = random.Random(13)
    outcomes: dict[str, int] = {}
    for _ in range(300):
        body = bytearray(sent.body)
        action = rng.choice(["flip", "cut", "splice", "drop"])
        at = rng.randrange(len(body))
        if action == "flip":
            body[at] ^= 1 << rng.randrange(8)
        elif action == "cut":
            del body[at:]
        elif action == "splice":
            body[at:at] = rng.choice(
                [b"<", b"&amp;", b"--", b"\r\n\r\n", b"<!DOCTYPE x>", b"\xff\xfe"]
            )
        else:
            del body[at : at + rng.randrange(1, 64)]
        try:
            receive(
                pki,
                ap_trust,
                as4.OutgoingMessage(sent.message_id, bytes(body), sent.content_type, ()),
            )
            outcomes["accepted"] = outcomes.get("accepted", 0) + 1
        except as4.As4Invalid as exc:
            outcomes[exc.ebms_code] = outcomes.get(exc.ebms_code, 0) + 1
    assert sum(v for k, v in outcomes.items() if k != "accepted") > 250, outcomes


def _mangle(data: bytes, rng: object) -> bytes:
    import random

    assert isinstance(rng, random.Random)
    body = bytearray(data)
    at = rng.randrange(len(body))
    action = rng.choice(["flip", "cut", "splice", "drop"])
    if action == "flip":
        body[at] ^= 1 << rng.randrange(8)
    elif action == "cut":
        del body[at:]
    elif action == "splice":
        body[at:at] = rng.choice([b"<", b"&amp;", b"\xff\xfe", b"<!DOCTYPE x>", b"=="])
    else:
        del body[at : at + rng.randrange(1, 64)]
    return bytes(body)


def test_mangled_receipts_and_smp_answers_are_refused_never_crash(
    pki: PeppolTestPki, ap_trust: TrustStore, smp_trust: TrustStore
) -> None:
    import random

    from adapters.peppol.errors import SmpAnswerInvalid
    from adapters.peppol.identifiers import PINT_PROCESS as PROCESS
    from adapters.peppol.smp import read_signed_metadata
    from adapters.peppol.testing import SmpEntry, signed_metadata

    sent = build(pki)
    receipt = signals.build_receipt(receive(pki, ap_trust, sent), credentials(pki.receiver))
    metadata = signed_metadata(
        ParticipantId("0195:SGUEN200254321Z"),
        SmpEntry(PINT_SG_INVOICE, PROCESS, "https://127.0.0.1/as4", pki.receiver.cert),
        credentials(pki.smp),
    )
    rng = random.Random(14)
    refused = 0
    for _ in range(300):
        try:
            answer = signals.parse_signal(
                signals.SOAP_CONTENT_TYPE, _mangle(receipt, rng), check_signer=ap_trust.check
            )
            if answer.receipt is not None:
                signals.check_receipt_covers(answer.receipt, sent)
        except (VerificationError, InputError):
            refused += 1
        try:
            read_signed_metadata(_mangle(metadata, rng), smp_trust)
        except SmpAnswerInvalid:
            refused += 1
    assert refused > 500


def test_unencrypted_payload_is_policy_noncompliance(
    pki: PeppolTestPki, ap_trust: TrustStore
) -> None:
    """Signed but sent in clear: the profile has every payload encrypted to the receiving AP,
    so it is refused (EBMS:0103) however well it verifies."""
    sent = as4.build_user_message(
        b"<Invoice>hello</Invoice>", header(), credentials(pki.sender), None
    )
    with pytest.raises(as4.As4Invalid) as caught:
        receive(pki, ap_trust, sent)
    assert caught.value.ebms_code == "EBMS:0103"
    assert caught.value.rule == "as4.encryption-required"
    assert caught.value.field == "eb:PayloadInfo/eb:PartInfo/@href"


def test_attachment_left_out_of_the_reference_list_is_policy_noncompliance(
    pki: PeppolTestPki, ap_trust: TrustStore
) -> None:
    """An EncryptedKey for us whose ReferenceList leaves the (clear, signed) attachment out:
    that attachment was not encrypted, so it is refused (EBMS:0103), not used as it came."""
    encrypted = build(pki)
    key = parse_xml(mime.parse_message(encrypted.content_type, encrypted.body).soap).find(
        ".//xenc:EncryptedKey", ns.NSMAP
    )
    assert key is not None
    for listed in key.findall("xenc:ReferenceList", ns.NSMAP):
        key.remove(listed)
    clear = as4.build_user_message(
        b"<Invoice>hello</Invoice>", header(), credentials(pki.sender), None
    )
    parts = mime.parse_message(clear.content_type, clear.body)
    root = parse_xml(parts.soap)
    security = root.find("S12:Header/wsse:Security", ns.NSMAP)
    assert security is not None
    security.insert(0, key)
    body, content_type = mime.build_multipart(
        etree.tostring(root),
        [(cid, "application/gzip", p.body) for cid, p in parts.attachments.items()],
    )
    with pytest.raises(as4.As4Invalid) as caught:
        receive(pki, ap_trust, as4.OutgoingMessage(clear.message_id, body, content_type, ()))
    assert (caught.value.ebms_code, caught.value.rule) == ("EBMS:0103", "as4.encryption-required")


@pytest.mark.parametrize(
    ("code", "short", "category"),
    [
        ("EBMS:0004", "Other", "Content"),
        ("EBMS:0005", "ConnectionFailure", "Communication"),
        ("EBMS:0007", "MimeInconsistency", "Unpackaging"),
        ("EBMS:0101", "FailedAuthentication", "Processing"),
        ("EBMS:0103", "PolicyNoncompliance", "Processing"),
        ("EBMS:0303", "DecompressionFailure", "Communication"),  # AS4 profile, not Content
    ],
)
def test_error_signals_carry_the_tables_category(code: str, short: str, category: str) -> None:
    from adapters.peppol.errors import EbmsError

    signal = signals.build_error("m-1@x", [EbmsError(code=code, severity="failure")])
    (error,) = signals.parse_signal(signals.SOAP_CONTENT_TYPE, signal, check_signer=print).errors
    assert (error.short_description, error.category, error.severity) == (short, category, "failure")


@pytest.mark.parametrize("encoding", ["base64", "quoted-printable"])
def test_an_attachment_in_a_transfer_encoding_is_decoded(
    pki: PeppolTestPki, ap_trust: TrustStore, encoding: str
) -> None:
    """A sender may put the encrypted attachment in base64 or quoted-printable (RFC 2045
    §6); the SwA transforms cover the decoded octets, so it reads as the binary one does."""
    import base64
    import binascii

    sent = build(pki)
    parts = mime.parse_message(sent.content_type, sent.body)
    (content_id, part), *_ = parts.attachments.items()
    encoded = (
        base64.encodebytes(part.body)
        if encoding == "base64"
        else binascii.b2a_qp(part.body, istext=False)
    )
    body, content_type = mime.build_multipart(
        parts.soap, [(content_id, "application/octet-stream", encoded)]
    )
    body = body.replace(
        f"Content-Transfer-Encoding: binary\r\nContent-ID: <{content_id}>".encode(),
        f"Content-Transfer-Encoding: {encoding}\r\nContent-ID: <{content_id}>".encode(),
    )
    received = as4.parse_user_message(
        content_type, body, credentials=credentials(pki.receiver), check_signer=ap_trust.check
    )
    assert received.sbdh == b"<Invoice>hello</Invoice>"
    with pytest.raises(as4.As4Invalid) as caught:
        as4.parse_user_message(
            content_type,
            body.replace(f"Encoding: {encoding}".encode(), b"Encoding: x-uuencode"),
            credentials=credentials(pki.receiver),
            check_signer=ap_trust.check,
        )
    assert (caught.value.ebms_code, caught.value.rule) == (
        "EBMS:0007",
        "as4.mime.transfer-encoding",
    )


OPTIONAL_IN_PHASE4 = {"InclusiveNamespaces"}
"""What phase4 adds that changes nothing here: exclusive C14N's ``PrefixList="S12"`` (the
``S12:mustUnderstand`` attribute makes the prefix visibly used, so it is rendered anyway)."""


def _shape(element: etree._Element, depth: int = 0) -> list[str]:
    """Each element's name, depth and the attributes that carry meaning (algorithms, types,
    property names, mustUnderstand), not ids or values that differ per message."""
    meaningful = ("Algorithm", "ValueType", "EncodingType", "Type", "MimeType", "name", "type")
    attributes = sorted(
        f"{etree.QName(key).localname}={value}"
        for key, value in element.attrib.items()
        if etree.QName(key).localname in meaningful or key.endswith("mustUnderstand")
    )
    lines = ["  " * depth + " ".join([etree.QName(element).localname, *attributes])]
    for child in element:
        if isinstance(child.tag, str) and etree.QName(child).localname not in OPTIONAL_IN_PHASE4:
            lines.extend(_shape(child, depth + 1))
    return lines


def test_our_user_message_has_the_shape_of_phase4s(pki: PeppolTestPki, reference: Path) -> None:
    """Element by element, ours and phase4's real Peppol UserMessage (signed, encrypted, one
    gzip attachment) carry the same headers, algorithms, token types, MPC-less PartyInfo,
    CollaborationInfo, originalSender / finalRecipient and PartProperties, in the same order."""
    headers, body = mime.split_http_dump(
        (reference / PHASE4 / "usermessage" / "dump-raw.as4out").read_bytes()
    )
    theirs = as4.parse_soap(mime.parse_message(headers["content-type"], body).soap)
    sent = build(pki)
    ours = as4.parse_soap(mime.parse_message(sent.content_type, sent.body).soap)
    assert _shape(ours) == _shape(theirs)
    assert sent.content_type.split(";")[0] == headers["content-type"].split(";")[0]
    assert 'type="application/soap+xml"' in sent.content_type
