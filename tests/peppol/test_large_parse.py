"""A large received message is parsed in bounded memory: a ~50 MB AS4 message (an invoice
with embedded attachments, which hardly compress) parses with a traced peak under 5× its
size from bytes, and far less from a spool file (memory-mapped: the MIME parts are views, only
the decrypted attachment and the SBDH are allocated). Refusals from a spool file release it."""

from __future__ import annotations

import base64
import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.peppol import as4, sbdh
from adapters.peppol.document_facts import document_facts
from adapters.peppol.spool import parse_user_message_file
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.signing.truststore import TrustStore
from gateway.xmlsafe import XmlLimits
from tests.peppol.conftest import credentials

INVOICE = (
    "openpeppol-pint-sg-1.4.1/trn-invoice/example/PINT-SG INV example 02 - full valid invoice 1.xml"
)
SIZE = 50 * 1024 * 1024
CHUNK = 8 * 1024 * 1024
"""Each embedded attachment stays under libxml2's 10 MB text-node limit."""


def _invoice_with_attachments(base: bytes, size: int) -> bytes:
    references = b"".join(
        b"<cac:AdditionalDocumentReference><cbc:ID>scan-%d</cbc:ID><cac:Attachment>"
        b'<cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" filename="scan.pdf">'
        % n
        + base64.b64encode(os.urandom(min(CHUNK, size - n * CHUNK) * 3 // 4))
        + b"</cbc:EmbeddedDocumentBinaryObject></cac:Attachment></cac:AdditionalDocumentReference>"
        for n in range((size + CHUNK - 1) // CHUNK)
    )
    at = base.index(b"<cac:AccountingSupplierParty>")
    return base[:at] + references + base[at:]


@pytest.fixture(scope="module")
def large_message(reference: Path, pki: PeppolTestPki) -> as4.OutgoingMessage:
    document = _invoice_with_attachments((reference / INVOICE).read_bytes(), SIZE)
    facts = document_facts(document, limits=XmlLimits(max_bytes=2 * SIZE))
    header = sbdh.header_for_document(facts, country_c1="CN")
    message_header = as4.UserMessageHeader(
        from_party="PSG000001",
        to_party="PSG000002",
        service=header.process,
        action=header.document_type,
        original_sender=header.sender,
        final_recipient=header.receiver,
    )
    return as4.build_user_message(
        sbdh.sbdh_parts(document, header),
        message_header,
        credentials(pki.sender),
        pki.receiver.cert,
    )


def _peak(parse: Callable[[], as4.IncomingMessage]) -> tuple[as4.IncomingMessage, int]:
    tracemalloc.start()
    try:
        incoming = parse()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return incoming, peak


def test_large_message_parses_in_bounded_memory(
    tmp_path: Path, pki: PeppolTestPki, ap_trust: TrustStore, large_message: as4.OutgoingMessage
) -> None:
    wire = large_message.body
    assert len(wire) > 0.6 * SIZE
    options = {
        "credentials": credentials(pki.receiver),
        "check_signer": ap_trust.check,
        "max_payload": 2 * SIZE,
    }
    from_bytes, peak = _peak(
        lambda: as4.parse_user_message(large_message.content_type, wire, **options)  # type: ignore[arg-type]
    )
    assert peak < 5 * len(wire), f"peak {peak} parsing a {len(wire)}-byte message"
    assert from_bytes.sbdh.endswith(b"</Invoice></StandardBusinessDocument>")
    spooled = tmp_path / "message.mime"
    spooled.write_bytes(wire)
    from_file, file_peak = _peak(
        lambda: parse_user_message_file(large_message.content_type, spooled, **options)  # type: ignore[arg-type]
    )
    assert file_peak < 5 * len(wire), f"peak {file_peak} parsing a spooled {len(wire)}-byte message"
    assert from_file.sbdh == from_bytes.sbdh and from_file.header == from_bytes.header
    assert [r.digest for r in from_file.signed_references] == [
        r.digest for r in from_bytes.signed_references
    ]


def test_refusal_from_a_spool_file_releases_it(
    tmp_path: Path, pki: PeppolTestPki, ap_trust: TrustStore, reference: Path
) -> None:
    document = (reference / INVOICE).read_bytes()
    facts = document_facts(document)
    header = sbdh.header_for_document(facts, country_c1="CN")
    sent = as4.build_user_message(
        sbdh.sbdh_parts(document, header),
        as4.UserMessageHeader(
            from_party="PSG000001",
            to_party="PSG000002",
            service=header.process,
            action=header.document_type,
            original_sender=header.sender,
            final_recipient=header.receiver,
        ),
        credentials(pki.sender),
        pki.receiver.cert,
    )
    spooled = tmp_path / "tampered.mime"
    body = bytearray(sent.body)
    body[-200] ^= 1  # inside the encrypted attachment
    spooled.write_bytes(bytes(body))
    with pytest.raises(as4.As4Invalid) as caught:
        parse_user_message_file(
            sent.content_type,
            spooled,
            credentials=credentials(pki.receiver),
            check_signer=ap_trust.check,
        )
    assert caught.value.ebms_code in {"EBMS:0102", "EBMS:0101"}
    spooled.write_bytes(sent.body)
    good = parse_user_message_file(
        sent.content_type,
        spooled,
        credentials=credentials(pki.receiver),
        check_signer=ap_trust.check,
    )
    assert good.sbdh.endswith(b"</StandardBusinessDocument>")
