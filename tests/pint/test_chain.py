"""Envelope verification: a chain A → B → C verifies at C; each broken rule gets its code."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gateway.pint import build
from gateway.pint.chain import verify_envelope
from gateway.pint.checksums import bytes_checksum, document_checksum
from gateway.pint.codes import ActionCode, PintRejection, ResponseCode
from gateway.pint.schema import EnvelopeSchema
from gateway.signing.jose import CompactSigner
from gateway.testing.pint import DemoPlatform, key_sets, make_key

from .chains import SUPPORTING, envelope, issue_entry, next_entry, transfer


def _verify(env: Any, platforms: dict[str, DemoPlatform], schema: EnvelopeSchema, at: str) -> Any:
    keys, carriers = key_sets(list(platforms.values()))
    return verify_envelope(
        env, keys=keys, carriers=carriers, platform=platforms[at].code, schema=schema
    )


def _code(
    env: Any, platforms: dict[str, DemoPlatform], schema: EnvelopeSchema, at: str
) -> PintRejection:
    with pytest.raises(PintRejection) as caught:
        _verify(env, platforms, schema, at)
    return caught.value


@pytest.fixture
def a_to_b_to_c(platforms: dict[str, DemoPlatform], document: dict[str, Any]) -> list[str]:
    a, b, c = platforms["A"], platforms["B"], platforms["C"]
    first = issue_entry(a, document, a.party, transfer(a.party, b.party))
    second = next_entry(b, document, first, [transfer(b.party, c.party)])
    return [first, second]


def test_chain_verifies_at_each_hop(
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
    document: dict[str, Any],
    a_to_b_to_c: list[str],
) -> None:
    at_b = _verify(envelope(platforms["A"], document, a_to_b_to_c[:1]), platforms, schema, "B")
    assert at_b.title.possessor.same(platforms["B"].party)
    at_c = _verify(envelope(platforms["B"], document, a_to_b_to_c), platforms, schema, "C")
    assert at_c.title.possessor.same(platforms["C"].party)
    assert at_c.title.carrier.same(platforms["A"].carrier)
    assert at_c.sender == "IQAX"
    assert at_c.transport_document_checksum == document_checksum(document)
    assert list(at_c.documents) == [bytes_checksum(SUPPORTING)]


def test_signature_problems_are_bsig(
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
    document: dict[str, Any],
    a_to_b_to_c: list[str],
) -> None:
    good = envelope(platforms["B"], document, a_to_b_to_c)
    tampered = copy.deepcopy(good)
    head, payload, signature = tampered["envelopeTransferChain"][1].split(".")
    tampered["envelopeTransferChain"][1] = f"{head}.{payload}.{signature[::-1]}"
    assert _code(tampered, platforms, schema, "C").response is ResponseCode.BSIG
    altered = copy.deepcopy(good)
    altered["transportDocument"]["contractQuotationReference"] = "99999"
    failure = _code(altered, platforms, schema, "C")
    assert failure.response is ResponseCode.BSIG and "manifest" in failure.message
    stranger = CompactSigner(make_key("ed25519"))
    forged = build.envelope(stranger, document, a_to_b_to_c)
    assert _code(forged, platforms, schema, "C").response is ResponseCode.BSIG
    by_a = envelope(platforms["A"], document, a_to_b_to_c)  # manifest not by the sender B
    assert "not the sender" in _code(by_a, platforms, schema, "C").message


def test_issuance_must_be_signed_by_the_carrier(
    platforms: dict[str, DemoPlatform], schema: EnvelopeSchema, document: dict[str, Any]
) -> None:
    a, b = platforms["A"], platforms["B"]
    assert a.carrier is not None
    fake_issuance = build.issuance_manifest(
        document, a.party, a.signer
    )  # platform key, not carrier's
    first = build.chain_entry(
        a.signer,
        a.code,
        document_checksum(document),
        [build.transaction(ActionCode.ISSUE, a.carrier, a.party), transfer(a.party, b.party)],
        issuance=fake_issuance,
    )
    failure = _code(envelope(a, document, [first]), platforms, schema, "B")
    assert failure.response is ResponseCode.BSIG and "issuanceManifest" in (failure.field or "")
    no_issuance = build.chain_entry(
        a.signer,
        a.code,
        document_checksum(document),
        [build.transaction(ActionCode.ISSUE, a.carrier, a.party), transfer(a.party, b.party)],
    )
    failure = _code(envelope(a, document, [no_issuance]), platforms, schema, "B")
    assert failure.response is ResponseCode.BENV


def test_chain_order_and_document_are_checked(
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
    document: dict[str, Any],
    a_to_b_to_c: list[str],
) -> None:
    b = platforms["B"]
    unlinked = next_entry(
        b, document, a_to_b_to_c[0] + "x", [transfer(b.party, platforms["C"].party)]
    )
    failure = _code(envelope(b, document, [a_to_b_to_c[0], unlinked]), platforms, schema, "C")
    assert failure.response is ResponseCode.BENV and "previous" in (failure.field or "")
    not_for_us = envelope(platforms["A"], document, a_to_b_to_c[:1])
    assert "not a party of platform SGTD" in _code(not_for_us, platforms, schema, "C").message


def test_schema_violations_are_benv_naming_the_path(
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
    document: dict[str, Any],
    a_to_b_to_c: list[str],
) -> None:
    bad = envelope(platforms["B"], document, a_to_b_to_c)
    bad["transportDocument"]["transportDocumentTypeCode"] = "XYZ"
    failure = _code(bad, platforms, schema, "C")
    assert failure.response is ResponseCode.BENV
    assert failure.field == "$.transportDocument.transportDocumentTypeCode"
    assert _code({"transportDocument": 1}, platforms, schema, "C").response is ResponseCode.BENV
    assert _code([], platforms, schema, "C").response is ResponseCode.BENV


def test_title_rules(
    platforms: dict[str, DemoPlatform], schema: EnvelopeSchema, document: dict[str, Any]
) -> None:
    a, b, c = platforms["A"], platforms["B"], platforms["C"]
    assert a.carrier is not None

    def at_b(*transactions: dict[str, Any], doc: dict[str, Any] = document) -> PintRejection:
        return _code(
            envelope(a, doc, [issue_entry(a, doc, a.party, *transactions)]), platforms, schema, "B"
        )

    stranger = type(a.party)(a.code, "Stranger", frozenset({("ZZZ", "STRANGER")}))
    assert "does not possess" in at_b(transfer(stranger, b.party)).message
    assert "the actor is on 'SGTD'" in at_b(transfer(c.party, b.party)).message
    assert (
        "ISSUE may appear only once"
        in at_b(build.transaction(ActionCode.ISSUE, a.party, b.party)).message
    )
    assert (
        "straight eBL cannot be endorsed"
        in at_b(transfer(a.party, b.party, ActionCode.ENDORSE)).message
    )
    surrender_elsewhere = transfer(a.party, b.party, ActionCode.SURRENDER_FOR_DELIVERY)
    assert "only to the issuing carrier" in at_b(surrender_elsewhere).message
    after = [
        transfer(a.party, a.carrier, ActionCode.SURRENDER_FOR_DELIVERY),
        transfer(a.carrier, b.party),
    ]
    assert "only the carrier's SACC or SREJ may follow" in at_b(*after).message
    accepted = [
        transfer(a.party, a.carrier, ActionCode.SURRENDER_FOR_DELIVERY),
        transfer(a.carrier, a.party, ActionCode.SACC),
        transfer(a.carrier, b.party),
    ]
    assert "nothing may follow an accepted surrender" in at_b(*accepted).message
    unknown = transfer(a.party, b.party) | {"actionCode": "STEAL"}
    assert "not a PINT action code" in at_b(unknown).message


def test_endorsement_only_by_the_named_holder(
    platforms: dict[str, DemoPlatform], schema: EnvelopeSchema, document: dict[str, Any]
) -> None:
    a, b = platforms["A"], platforms["B"]
    to_order = document | {"isToOrder": True}
    other = type(a.party)(a.code, "Other", frozenset({("ZZZ", "OTHER")}))
    endorsed = [
        transfer(a.party, other, ActionCode.ENDORSE_TO_ORDER),  # holder is now OTHER
        transfer(a.party, b.party),  # possession moves; A is no longer the holder
    ]
    verified = _verify(
        envelope(a, to_order, [issue_entry(a, to_order, a.party, *endorsed)]),
        platforms,
        schema,
        "B",
    )
    assert verified.title.holder is not None and verified.title.holder.same(other)
    entry = issue_entry(
        a, to_order, a.party, transfer(a.party, b.party), transfer(b.party, b.party)
    )
    with pytest.raises(PintRejection):
        _verify(envelope(a, to_order, [entry]), platforms, schema, "B")
    first = issue_entry(a, to_order, a.party, *endorsed)
    second = next_entry(b, to_order, first, [transfer(b.party, b.party, ActionCode.ENDORSE)])
    failure = _code(envelope(b, to_order, [first, second]), platforms, schema, "B")
    assert "only the named holder" in failure.message


def test_the_carrier_must_issue_on_the_issuing_platform(
    platforms: dict[str, DemoPlatform], schema: EnvelopeSchema, document: dict[str, Any]
) -> None:
    a, b = platforms["A"], platforms["B"]
    keys, carriers = key_sets(list(platforms.values()))
    carriers.keys[next(iter(carriers.keys))] = type(next(iter(carriers.keys.values())))(
        next(iter(carriers.keys.values())).key, "IQAX", next(iter(carriers.keys))
    )  # the carrier's key now listed for another platform
    env = envelope(a, document, [issue_entry(a, document, a.party, transfer(a.party, b.party))])
    with pytest.raises(PintRejection) as caught:
        verify_envelope(env, keys=keys, carriers=carriers, platform="IQAX", schema=schema)
    assert caught.value.response is ResponseCode.BSIG and "issuing platform" in caught.value.message


def test_the_carriers_visualisation_is_bound_to_its_issuance_manifest(
    platforms: dict[str, DemoPlatform], schema: EnvelopeSchema, document: dict[str, Any]
) -> None:
    """The issuance manifest's eBLVisualisationByCarrierChecksum is what the carrier signed:
    the envelope manifest's eBLVisualisationByCarrier must be that document (BSIG if not),
    and a visualisation the carrier did not sign cannot be announced."""
    a, b = platforms["A"], platforms["B"]
    assert a.carrier is not None and a.carrier_key is not None
    carrier = CompactSigner(a.carrier_key)
    visual, other = b"%PDF-1.7 the carrier's eBL", b"%PDF-1.7 another rendering"

    def sent(signed: bytes | None, announced: bytes | None) -> dict[str, Any]:
        issuance = build.issuance_manifest(document, a.party, carrier, visualisation=signed)
        first = build.chain_entry(
            a.signer, a.code, document_checksum(document),
            [build.transaction(ActionCode.ISSUE, a.carrier, a.party), transfer(a.party, b.party)],
            issuance=issuance,
        )  # fmt: skip
        meta = (
            None
            if announced is None
            else build.document_metadata("ebl.pdf", announced, "application/pdf")
        )
        return build.envelope(a.signer, document, [first], visualisation=meta)

    verified = _verify(sent(visual, visual), platforms, schema, "B")
    assert list(verified.documents) == [bytes_checksum(visual)]
    assert _verify(sent(None, None), platforms, schema, "B").documents == {}
    field = "envelopeManifestSignedContent.eBLVisualisationByCarrier"
    for signed, announced, where in [
        (visual, other, f"{field}.documentChecksum"),
        (visual, None, f"{field}.documentChecksum"),
        (None, visual, field),
    ]:
        failure = _code(sent(signed, announced), platforms, schema, "B")
        assert failure.response is ResponseCode.BSIG and failure.field == where
        assert "eBLVisualisationByCarrierChecksum" in failure.message


@pytest.mark.parametrize(
    "moment", ["not a date", "2024-04-17T07:11:19", "2024-02-30T07:11:19Z", "2024-04-17 07:11Z"]
)
def test_action_date_time_must_be_an_rfc3339_date_time(
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
    document: dict[str, Any],
    moment: str,
) -> None:
    a, b = platforms["A"], platforms["B"]
    moved = transfer(a.party, b.party) | {"actionDateTime": moment}
    failure = _code(envelope(a, document, [issue_entry(a, document, a.party, moved)]), platforms,
                    schema, "B")  # fmt: skip
    assert failure.response is ResponseCode.BENV
    assert failure.field == "envelopeTransferChain[0].transactions[1].actionDateTime"
    assert "is not a 'date-time' (schema rule format)" in failure.message


def test_transport_document_dates_are_rfc3339(
    platforms: dict[str, DemoPlatform], schema: EnvelopeSchema, document: dict[str, Any]
) -> None:
    a, b = platforms["A"], platforms["B"]
    for changed, where in [
        ({"shippedOnBoardDate": "19/12/2023"}, "$.transportDocument.shippedOnBoardDate"),
        (
            {"transports": document["transports"] | {"plannedArrivalDate": "2023-12-32"}},
            "$.transportDocument.transports.plannedArrivalDate",
        ),
    ]:
        bad = document | changed
        env = envelope(a, bad, [issue_entry(a, bad, a.party, transfer(a.party, b.party))])
        failure = _code(env, platforms, schema, "B")
        assert failure.response is ResponseCode.BENV and failure.field == where
        assert "is not a 'date'" in failure.message
    leap = transfer(a.party, b.party) | {"actionDateTime": "2016-12-31T23:59:60.000+00:00"}
    _verify(
        envelope(a, document, [issue_entry(a, document, a.party, leap)]), platforms, schema, "B"
    )
