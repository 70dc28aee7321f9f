"""Build signed PINT chains for the tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.pint import build
from gateway.pint.checksums import document_checksum
from gateway.pint.codes import ActionCode
from gateway.pint.title import Party
from gateway.signing.jose import CompactSigner
from gateway.testing.pint import DemoPlatform

SUPPORTING = b"%PDF-1.7 commercial invoice"


def issue_entry(
    carrier_platform: DemoPlatform, document: dict[str, Any], to: Party, *extra: dict[str, Any]
) -> str:
    """The first entry: ISSUE from the carrier to ``to`` (plus ``extra`` transactions)."""
    assert carrier_platform.carrier is not None and carrier_platform.carrier_key is not None
    issuance = build.issuance_manifest(document, to, CompactSigner(carrier_platform.carrier_key))
    transactions = [build.transaction(ActionCode.ISSUE, carrier_platform.carrier, to), *extra]
    return build.chain_entry(
        carrier_platform.signer,
        carrier_platform.code,
        document_checksum(document),
        transactions,
        issuance=issuance,
    )


def next_entry(
    sender: DemoPlatform,
    document: dict[str, Any],
    previous: str,
    transactions: Sequence[dict[str, Any]],
) -> str:
    return build.chain_entry(
        sender.signer, sender.code, document_checksum(document), transactions, previous=previous
    )


def transfer(actor: Party, to: Party, action: ActionCode = ActionCode.TRANSFER) -> dict[str, Any]:
    return build.transaction(action, actor, to)


def envelope(
    sender: DemoPlatform,
    document: dict[str, Any],
    chain: Sequence[str],
    *,
    with_document: bool = True,
) -> dict[str, Any]:
    documents = (
        [build.document_metadata("invoice.pdf", SUPPORTING, "application/pdf")]
        if with_document
        else []
    )
    return build.envelope(sender.signer, document, chain, documents)
