"""Read chains this platform keeps (verified when they arrived, or signed here): each entry's
payload, the title after the whole chain, and what the carrier signed in its issuance
manifest. Nothing here verifies a signature again (:mod:`gateway.pint.chain` does that)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from gateway.errors import VerificationError
from gateway.pint.title import Title, replay
from gateway.signing.jose import split_compact


def entry_payload(token: str) -> dict[str, Any]:
    """The payload of a compact JWS this platform keeps, unverified."""
    _, payload, _, _ = split_compact(token)
    try:
        data = json.loads(payload)
    except ValueError as exc:
        raise VerificationError("a chain entry's payload is not JSON", check="pint.chain") from exc
    if not isinstance(data, dict):
        raise VerificationError("a chain entry is not an object", check="pint.chain")
    return data


def chain_transactions(chain: Sequence[str]) -> list[tuple[Mapping[str, Any], str]]:
    """Every ``(transaction, where)`` of ``chain`` in order, ``where`` naming it as
    ``envelopeTransferChain[i].transactions[j]``."""
    out: list[tuple[Mapping[str, Any], str]] = []
    for index, token in enumerate(chain):
        for number, transaction in enumerate(entry_payload(token).get("transactions") or ()):
            out.append((transaction, f"envelopeTransferChain[{index}].transactions[{number}]"))
    return out


def chain_title(chain: Sequence[str], *, to_order: bool) -> Title:
    """The title after every transaction of ``chain`` (raises
    :class:`~gateway.pint.codes.PintRejection` when the title rules refuse one)."""
    return replay(chain_transactions(chain), to_order=to_order)


def issued_visualisation(chain: Sequence[str]) -> str | None:
    """The ``eBLVisualisationByCarrierChecksum`` the carrier signed in the issuance manifest
    of the chain's first entry, or ``None``. PINT 3.0: a visualisation sent with the first
    transfer travels, unchanged, with every later transfer of the eBL."""
    if not chain:
        return None
    issuance = entry_payload(chain[0]).get("issuanceManifestSignedContent")
    if not isinstance(issuance, str):
        return None
    checksum = entry_payload(issuance).get("eBLVisualisationByCarrierChecksum")
    return checksum if isinstance(checksum, str) else None
