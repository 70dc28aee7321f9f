"""Against the official DCSA material: the PINT example envelope passes the official schema
and is refused for its (placeholder) signatures with BSIG, not a crash; everything we sign
validates against the official definitions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.pint.chain import verify_envelope
from gateway.pint.codes import PintRejection, ResponseCode
from gateway.pint.responses import sign_response
from gateway.pint.schema import EnvelopeSchema
from gateway.signing.jose import KeySet, split_compact
from gateway.testing.pint import DemoPlatform, key_sets

from .chains import envelope, issue_entry, transfer

EXAMPLE = Path("ebl/dcsa/examples/EBL_PINT_v3.0.0.pint-envelope.POST.request.regular.json")


def test_official_example_envelope(reference: Path, schema: EnvelopeSchema) -> None:
    example = json.loads((reference / EXAMPLE).read_text("utf-8"))
    schema.check_envelope(example)
    with pytest.raises(PintRejection) as caught:
        verify_envelope(example, keys=KeySet(), carriers=KeySet(), platform="IQAX", schema=schema)
    assert caught.value.response is ResponseCode.BSIG
    assert caught.value.field == "envelopeManifestSignedContent"
    _, payload, _, _ = split_compact(example["envelopeManifestSignedContent"])
    schema.check_payload("EnvelopeManifest", json.loads(payload))


def test_what_we_sign_is_what_the_official_definitions_allow(
    platforms: dict[str, DemoPlatform], schema: EnvelopeSchema, document: dict[str, Any]
) -> None:
    a, b = platforms["A"], platforms["B"]
    made = envelope(a, document, [issue_entry(a, document, a.party, transfer(a.party, b.party))])
    schema.check_envelope(made)
    for token, name in [
        (made["envelopeManifestSignedContent"], "EnvelopeManifest"),
        (made["envelopeTransferChain"][0], "EnvelopeTransferChainEntry"),
    ]:
        schema.check_payload(name, json.loads(split_compact(token)[1]))
    entry = json.loads(split_compact(made["envelopeTransferChain"][0])[1])
    schema.check_payload(
        "IssuanceManifest", json.loads(split_compact(entry["issuanceManifestSignedContent"])[1])
    )
    for code in ResponseCode:
        token = sign_response(b.signer, code, "a" * 64, reason="because", duplicate_of=made["envelopeTransferChain"][0]
                              if code is ResponseCode.DUPE else None, missing=["b" * 64] if code is ResponseCode.MDOC else ())  # fmt: skip
        schema.check_payload(
            "EnvelopeTransferFinishedResponse", json.loads(split_compact(token)[1])
        )
    keys, carriers = key_sets(list(platforms.values()))
    assert (
        verify_envelope(made, keys=keys, carriers=carriers, platform="IQAX", schema=schema).sender
        == "AEOT"
    )


def test_a_surrender_for_amendment_with_its_reason_is_what_the_definitions_allow(
    platforms: dict[str, DemoPlatform], schema: EnvelopeSchema
) -> None:
    """The reasonCode and comments a transfer request may now give travel as PINT 3.0's
    Transaction has them."""
    from gateway.pint import build
    from gateway.pint.codes import ActionCode

    a = platforms["A"]
    transaction = build.transaction(
        ActionCode.SURRENDER_FOR_AMENDMENT, a.party, a.carrier, reason_code="SWTP",
        comments="Switch to paper at the consignee's request.",
    )  # fmt: skip
    entry = build.chain_entry(a.signer, a.code, "c" * 64, [transaction], previous="e.e.e")
    payload = json.loads(split_compact(entry)[1])
    schema.check_payload("EnvelopeTransferChainEntry", payload)
    assert payload["transactions"][0]["reasonCode"] == "SWTP"
