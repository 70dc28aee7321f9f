"""Title rules of PINT 3.0 (``Transaction.actionCode``) across platforms, verified envelope by
envelope: a surrender is a request the carrier answers with ``SACC`` or ``SREJ``; a
transaction needs a ``recipient`` only where the standard requires one; the endorsee of a
plain ``ENDORSE`` cannot endorse further."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.pint import build
from gateway.pint.chain import VerifiedEnvelope, verify_envelope
from gateway.pint.codes import ActionCode, PintRejection, ResponseCode
from gateway.pint.schema import EnvelopeSchema
from gateway.pint.title import Party
from gateway.testing.pint import DemoPlatform, key_sets

from .chains import envelope, issue_entry, next_entry, transfer


def _verify(
    sender: DemoPlatform,
    document: dict[str, Any],
    chain: list[str],
    at: DemoPlatform,
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
) -> VerifiedEnvelope:
    keys, carriers = key_sets(list(platforms.values()))
    return verify_envelope(
        envelope(sender, document, chain), keys=keys, carriers=carriers, platform=at.code,
        schema=schema,
    )  # fmt: skip


def _refused(
    sender: DemoPlatform,
    document: dict[str, Any],
    chain: list[str],
    at: DemoPlatform,
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
) -> PintRejection:
    with pytest.raises(PintRejection) as caught:
        _verify(sender, document, chain, at, platforms, schema)
    assert caught.value.response is ResponseCode.BENV
    return caught.value


def _without_recipient(action: ActionCode, actor: Party) -> dict[str, Any]:
    return build.transaction(action, actor, None)


@pytest.fixture
def at_b(platforms: dict[str, DemoPlatform], document: dict[str, Any]) -> list[str]:
    """A's carrier issued to A's party, which transferred the eBL to B's party."""
    a, b = platforms["A"], platforms["B"]
    return [issue_entry(a, document, a.party, transfer(a.party, b.party))]


@pytest.fixture
def surrendered_by_b(
    platforms: dict[str, DemoPlatform], document: dict[str, Any], at_b: list[str]
) -> list[str]:
    """… and B's party asked A's carrier to surrender it (a request, not yet answered)."""
    a, b = platforms["A"], platforms["B"]
    assert a.carrier is not None
    request = transfer(b.party, a.carrier, ActionCode.SURRENDER_FOR_DELIVERY)
    return [*at_b, next_entry(b, document, at_b[-1], [request])]


def test_a_surrender_request_leaves_the_carrier_to_answer(
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
    document: dict[str, Any],
    surrendered_by_b: list[str],
) -> None:
    a, b = platforms["A"], platforms["B"]
    assert a.carrier is not None
    pending = _verify(b, document, surrendered_by_b, a, platforms, schema).title
    assert pending.possessor.same(a.carrier) and not pending.surrendered
    assert pending.surrender_requested_by is not None
    assert pending.surrender_requested_by.same(b.party)
    assert pending.as_json()["surrenderRequestedBy"] == b.party.as_json()

    accept = next_entry(
        a, document, surrendered_by_b[-1], [transfer(a.carrier, b.party, ActionCode.SACC)]
    )
    accepted = _verify(a, document, [*surrendered_by_b, accept], b, platforms, schema)
    assert accepted.title.surrendered and accepted.title.surrender_requested_by is None
    assert accepted.title.possessor.same(a.carrier)  # SACC notifies, it moves no possession
    assert accepted.recipient.same(b.party)

    after = next_entry(a, document, accept, [transfer(a.carrier, b.party)])
    failure = _refused(a, document, [*surrendered_by_b, accept, after], b, platforms, schema)
    assert "nothing may follow an accepted surrender" in failure.message
    assert failure.field == "envelopeTransferChain[3].transactions[0]"


def test_a_rejected_surrender_returns_possession_and_holdership(
    platforms: dict[str, DemoPlatform], schema: EnvelopeSchema, document: dict[str, Any]
) -> None:
    a, b, c = platforms["A"], platforms["B"], platforms["C"]
    assert a.carrier is not None
    to_order = document | {"isToOrder": True}
    first = issue_entry(
        a, to_order, a.party,
        transfer(a.party, b.party, ActionCode.ENDORSE_TO_ORDER), transfer(a.party, b.party),
    )  # fmt: skip
    request = [transfer(b.party, a.carrier, ActionCode.SURRENDER_FOR_AMENDMENT)]
    second = next_entry(b, to_order, first, request)
    reject = next_entry(a, to_order, second, [transfer(a.carrier, b.party, ActionCode.SREJ)])
    back = _verify(a, to_order, [first, second, reject], b, platforms, schema).title
    assert back.possessor.same(b.party) and back.holder is not None and back.holder.same(b.party)
    assert back.surrender_requested_by is None and not back.surrendered
    onwards = next_entry(b, to_order, reject, [transfer(b.party, c.party, ActionCode.ENDORSE)])
    endorsed = _verify(b, to_order, [first, second, reject, onwards], c, platforms, schema)
    assert endorsed.title.holder is not None and endorsed.title.holder.same(c.party)


def test_only_the_carrier_answers_and_only_a_pending_surrender(
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
    document: dict[str, Any],
    at_b: list[str],
    surrendered_by_b: list[str],
) -> None:
    a, b, c = platforms["A"], platforms["B"], platforms["C"]
    assert a.carrier is not None
    unasked = next_entry(b, document, at_b[-1], [transfer(b.party, c.party, ActionCode.SACC)])
    failure = _refused(b, document, [*at_b, unasked], c, platforms, schema)
    assert "SACC answers a surrender request, and none is pending" in failure.message
    assert failure.field == "envelopeTransferChain[1].transactions[0].actionCode"

    last = surrendered_by_b[-1]
    by_requester = next_entry(b, document, last, [transfer(b.party, b.party, ActionCode.SREJ)])
    failure = _refused(b, document, [*surrendered_by_b, by_requester], b, platforms, schema)
    assert "does not possess" in failure.message
    assert failure.field == "envelopeTransferChain[2].transactions[0].actor"

    elsewhere = next_entry(a, document, last, [transfer(a.carrier, c.party, ActionCode.SREJ)])
    failure = _refused(a, document, [*surrendered_by_b, elsewhere], c, platforms, schema)
    assert "who requested the surrender" in failure.message
    assert failure.field == "envelopeTransferChain[2].transactions[0].recipient"

    moved = next_entry(a, document, last, [transfer(a.carrier, c.party)])
    failure = _refused(a, document, [*surrendered_by_b, moved], c, platforms, schema)
    assert "only the carrier's SACC or SREJ may follow it, not TRANSFER" in failure.message


def test_a_surrender_and_its_answer_need_no_recipient(
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
    document: dict[str, Any],
    at_b: list[str],
) -> None:
    """PINT 3.0 (Beta 20251114): ``recipient`` is not needed for SIGN, BLANK_ENDORSE and the
    surrenders (the carrier is implied), nor for SACC / SREJ (the requester is implied)."""
    a, b = platforms["A"], platforms["B"]
    assert a.carrier is not None
    request = [
        _without_recipient(ActionCode.SIGN, b.party),
        _without_recipient(ActionCode.SURRENDER_FOR_DELIVERY, b.party),
    ]
    second = next_entry(b, document, at_b[-1], request)
    pending = _verify(b, document, [*at_b, second], a, platforms, schema)
    assert pending.title.possessor.same(a.carrier) and pending.recipient.same(a.carrier)
    reject = next_entry(a, document, second, [_without_recipient(ActionCode.SREJ, a.carrier)])
    back = _verify(a, document, [*at_b, second, reject], b, platforms, schema)
    assert back.title.possessor.same(b.party) and back.recipient.same(b.party)


@pytest.mark.parametrize(
    "action", [ActionCode.TRANSFER, ActionCode.ENDORSE, ActionCode.ENDORSE_TO_ORDER]
)
def test_a_missing_recipient_is_refused_where_it_is_required(
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
    document: dict[str, Any],
    action: ActionCode,
) -> None:
    a, b = platforms["A"], platforms["B"]
    to_order = document | {"isToOrder": True}
    first = issue_entry(a, to_order, a.party, _without_recipient(action, a.party))
    failure = _refused(a, to_order, [first], b, platforms, schema)
    assert failure.field == "envelopeTransferChain[0].transactions[1].recipient"
    assert f"a {action} transaction needs a recipient" in failure.message


def test_the_endorsee_of_endorse_cannot_endorse_further(
    platforms: dict[str, DemoPlatform], schema: EnvelopeSchema, document: dict[str, Any]
) -> None:
    a, b, c = platforms["A"], platforms["B"], platforms["C"]
    to_order = document | {"isToOrder": True}

    def endorsed_to_b(action: ActionCode) -> str:
        return issue_entry(
            a, to_order, a.party, transfer(a.party, b.party, action), transfer(a.party, b.party)
        )

    first = endorsed_to_b(ActionCode.ENDORSE)
    assert not _verify(a, to_order, [first], b, platforms, schema).title.holder_may_endorse
    for action, recipient in [
        (ActionCode.ENDORSE, c.party),
        (ActionCode.ENDORSE_TO_ORDER, c.party),
        (ActionCode.BLANK_ENDORSE, None),
    ]:
        second = next_entry(
            b, to_order, first,
            [build.transaction(action, b.party, recipient), transfer(b.party, c.party)],
        )  # fmt: skip
        failure = _refused(b, to_order, [first, second], c, platforms, schema)
        assert "was endorsed with ENDORSE and cannot endorse the eBL further" in failure.message
        assert failure.field == "envelopeTransferChain[1].transactions[0].actionCode"
    onwards = next_entry(b, to_order, first, [transfer(b.party, c.party)])
    assert _verify(b, to_order, [first, onwards], c, platforms, schema).title.possessor.same(
        c.party
    )  # the endorsee may still transfer possession

    for action in (ActionCode.ENDORSE_TO_ORDER, ActionCode.BLANK_ENDORSE):
        if action is ActionCode.BLANK_ENDORSE:
            first = issue_entry(
                a, to_order, a.party,
                _without_recipient(action, a.party), transfer(a.party, b.party),
            )  # fmt: skip
        else:
            first = endorsed_to_b(action)
        second = next_entry(b, to_order, first, [transfer(b.party, c.party, ActionCode.ENDORSE)])
        title = _verify(b, to_order, [first, second], c, platforms, schema).title
        assert title.holder is not None and title.holder.same(c.party)
        assert not title.holder_may_endorse
