"""A large document is enveloped, compressed, signed and encrypted without being copied: the
sender's own allocations stay far below the document's size (the bench measures 100 MB)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from adapters.peppol import as4, sbdh
from adapters.peppol.document_facts import document_facts
from adapters.peppol.testing import large_document
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.signing.truststore import TrustStore
from gateway.xmlsafe import XmlLimits
from tests.peppol.conftest import credentials

INVOICE = (
    "openpeppol-pint-sg-1.4.1/trn-invoice/example/PINT-SG INV example 02 - full valid invoice 1.xml"
)
SIZE = 24 * 1024 * 1024


def test_large_document_is_sent_without_copies(
    reference: Path, pki: PeppolTestPki, ap_trust: TrustStore
) -> None:
    document = large_document((reference / INVOICE).read_bytes(), SIZE)
    assert len(document) > SIZE * 0.95
    tracemalloc.start()
    try:
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
        sent = as4.build_user_message(
            sbdh.sbdh_parts(document, header),
            message_header,
            credentials(pki.sender),
            pki.receiver.cert,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < len(document) // 2, f"peak {peak} for a {len(document)}-byte document"
    incoming = as4.parse_user_message(
        sent.content_type,
        sent.body,
        credentials=credentials(pki.receiver),
        check_signer=ap_trust.check,
    )
    assert len(incoming.sbdh) > len(document)
    assert incoming.sbdh.endswith(b"</Invoice></StandardBusinessDocument>")
