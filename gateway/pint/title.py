"""Title rules: who possesses and who holds an eBL after each transaction of its chain.

An eBL has exactly one possessor at a time. ``ISSUE`` comes exactly once, first, from the
issuing carrier to the issue-to party. ``TRANSFER`` moves possession from the possessor to the
recipient. ``ENDORSE`` / ``ENDORSE_TO_ORDER`` name a new endorsee (holder) of a to-order eBL
and ``BLANK_ENDORSE`` makes it a bearer eBL; only the possessor who is also the named holder
(or anyone possessing a blank-endorsed eBL) may endorse, an endorsee of a plain ``ENDORSE``
never again (only ``ISSUE``, ``ENDORSE_TO_ORDER`` and ``BLANK_ENDORSE`` let the holder
endorse), and endorsement does not move possession. ``SIGN`` changes nothing but must come
from the possessor.

A surrender (``SURRENDER_FOR_DELIVERY`` / ``SURRENDER_FOR_AMENDMENT``) is a request: it goes
only to the carrier that issued the eBL (a surrender without ``recipient`` goes to it), which
possesses the eBL while the request is pending. Only the carrier's answer may follow: ``SREJ``
gives possession back to the party that asked (holdership stays as it was), ``SACC`` accepts
the surrender, and after it nothing may follow. Every violation is a ``BENV``.

``recipient`` is required only for ``ISSUE``, ``TRANSFER``, ``ENDORSE`` and
``ENDORSE_TO_ORDER`` (PINT 3.0 Beta 20251114 made it optional).

Parties are the same party when they are on the same platform and share an identifying code
(``codeListProvider`` + ``partyCode``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from gateway.pint.codes import (
    ENDORSEMENTS,
    NEEDS_RECIPIENT,
    SURRENDER_ANSWERS,
    SURRENDERS,
    ActionCode,
    PintRejection,
    ResponseCode,
)


@dataclass(frozen=True, slots=True)
class Party:
    """A transaction party: its platform, name and identifying codes."""

    platform: str
    name: str
    codes: frozenset[tuple[str, str]]

    @classmethod
    def of(cls, data: Mapping[str, Any] | None, where: str) -> Party:
        """The party of an ``ActorParty`` / ``RecipientParty`` object."""
        if not isinstance(data, Mapping):
            raise PintRejection(f"{where} is missing", response=ResponseCode.BENV, field=where)
        codes = frozenset(
            (str(c.get("codeListProvider", "")), str(c.get("partyCode", "")))
            for c in data.get("identifyingCodes") or ()
            if isinstance(c, Mapping)
        )
        if not codes:
            raise PintRejection(
                f"{where} has no identifying code", response=ResponseCode.BENV, field=where
            )
        return cls(str(data.get("eblPlatform", "")), str(data.get("partyName", "")), codes)

    def same(self, other: Party | None) -> bool:
        """Whether ``other`` is this party (same platform, a shared identifying code)."""
        return (
            other is not None and self.platform == other.platform and bool(self.codes & other.codes)
        )

    def as_json(self) -> dict[str, Any]:
        """The party as a PINT party object."""
        return {
            "partyName": self.name,
            "eblPlatform": self.platform,
            "identifyingCodes": [
                {"codeListProvider": p, "partyCode": c} for p, c in sorted(self.codes)
            ],
        }

    def label(self) -> str:
        """``PLATFORM:provider/code`` for messages and the registry."""
        provider, code = min(self.codes)
        return f"{self.platform}:{provider}/{code}"


@dataclass(frozen=True, slots=True)
class Title:
    """The state of title after some transactions."""

    carrier: Party
    possessor: Party
    holder: Party | None
    """The named endorsee of a to-order eBL (``None``: straight, or blank-endorsed)."""
    to_order: bool
    surrendered: bool = False
    """The carrier accepted a surrender (``SACC``): no transaction may follow."""
    surrender_requested_by: Party | None = None
    """The party whose surrender request the carrier (now the possessor) has not answered
    with ``SACC`` or ``SREJ`` yet; ``None``: no surrender is pending."""
    holder_may_endorse: bool = True
    """Whether the holder may endorse the eBL further (not after a plain ``ENDORSE``)."""
    last_recipient: Party | None = field(default=None, compare=False)
    """The party the last transaction was addressed to: its ``recipient``, or the party it
    implies (the carrier for a surrender, the requester for ``SACC`` / ``SREJ``); ``None``
    after ``SIGN`` and ``BLANK_ENDORSE``. Not part of the title's JSON."""

    def as_json(self) -> dict[str, Any]:
        """The title as JSON (what the registry keeps and ``ebl history`` shows)."""
        requested_by = self.surrender_requested_by
        return {
            "carrier": self.carrier.as_json(),
            "possessor": self.possessor.as_json(),
            "holder": None if self.holder is None else self.holder.as_json(),
            "toOrder": self.to_order,
            "holderMayEndorse": self.holder_may_endorse,
            "surrenderRequestedBy": None if requested_by is None else requested_by.as_json(),
            "surrendered": self.surrendered,
        }

    @property
    def final_recipient(self) -> Party:
        """The party the chain ends with: the last transaction's recipient, else (after
        ``SIGN`` or ``BLANK_ENDORSE``) the possessor."""
        return self.last_recipient or self.possessor


def _reject(message: str, field: str) -> PintRejection:
    return PintRejection(message, response=ResponseCode.BENV, field=field)


def _action(transaction: Mapping[str, Any], where: str) -> ActionCode:
    try:
        return ActionCode(str(transaction.get("actionCode")))
    except ValueError:
        raise _reject(
            f"{where}.actionCode {transaction.get('actionCode')!r} is not a PINT action code",
            f"{where}.actionCode",
        ) from None


def _recipient(transaction: Mapping[str, Any], action: ActionCode, where: str) -> Party | None:
    """The transaction's ``recipient``; ``None`` when it has none, which is refused only for
    the action codes that need one (:data:`~gateway.pint.codes.NEEDS_RECIPIENT`)."""
    if transaction.get("recipient") is not None:
        return Party.of(transaction["recipient"], f"{where}.recipient")
    if action in NEEDS_RECIPIENT:
        raise _missing_recipient(action, where)
    return None


def _required_recipient(transaction: Mapping[str, Any], action: ActionCode, where: str) -> Party:
    """The ``recipient`` of an ``ISSUE``, ``TRANSFER``, ``ENDORSE`` or ``ENDORSE_TO_ORDER``."""
    recipient = _recipient(transaction, action, where)
    if recipient is None:
        raise _missing_recipient(action, where)
    return recipient


def _missing_recipient(action: ActionCode, where: str) -> PintRejection:
    return _reject(
        f"{where}.recipient is missing: a {action} transaction needs a recipient",
        f"{where}.recipient",
    )


def issue(transaction: Mapping[str, Any], *, to_order: bool, where: str) -> Title:
    """The title an ``ISSUE`` transaction creates."""
    if _action(transaction, where) is not ActionCode.ISSUE:
        raise _reject("the first transaction of the chain must be ISSUE", f"{where}.actionCode")
    carrier = Party.of(transaction.get("actor"), f"{where}.actor")
    issued_to = _required_recipient(transaction, ActionCode.ISSUE, where)
    return Title(
        carrier, issued_to, issued_to if to_order else None, to_order, last_recipient=issued_to
    )


def apply(title: Title, transaction: Mapping[str, Any], where: str) -> Title:
    """The title after ``transaction`` (raises ``BENV`` when the transaction is not allowed)."""
    action = _action(transaction, where)
    if title.surrendered:
        raise _reject(
            f"{where}: nothing may follow an accepted surrender (SACC), not even {action}", where
        )
    if action is ActionCode.ISSUE:
        raise _reject(f"{where}: ISSUE may appear only once, first", f"{where}.actionCode")
    actor = Party.of(transaction.get("actor"), f"{where}.actor")
    if not actor.same(title.possessor):
        raise _reject(
            f"{where}: {actor.label()} does not possess the eBL ({title.possessor.label()} does)",
            f"{where}.actor",
        )
    if title.surrender_requested_by is not None:
        return _answer_surrender(title, action, actor, transaction, where)
    if action in SURRENDER_ANSWERS:
        raise _reject(
            f"{where}: {action} answers a surrender request, and none is pending",
            f"{where}.actionCode",
        )
    if action is ActionCode.SIGN:
        return replace(title, last_recipient=None)
    if action is ActionCode.BLANK_ENDORSE:
        _check_endorser(title, actor, action, where)
        return replace(title, holder=None, holder_may_endorse=True, last_recipient=None)
    if action in SURRENDERS:
        return _surrender(title, action, actor, transaction, where)
    recipient = _required_recipient(transaction, action, where)
    if action in ENDORSEMENTS:
        _check_endorser(title, actor, action, where)
        return replace(
            title,
            holder=recipient,
            holder_may_endorse=action is ActionCode.ENDORSE_TO_ORDER,
            last_recipient=recipient,
        )
    return replace(title, possessor=recipient, last_recipient=recipient)


def _surrender(
    title: Title, action: ActionCode, actor: Party, transaction: Mapping[str, Any], where: str
) -> Title:
    """A surrender request: the issuing carrier (the recipient, or implied when there is
    none) possesses the eBL until it answers with ``SACC`` or ``SREJ``."""
    carrier = _recipient(transaction, action, where) or title.carrier
    if not carrier.same(title.carrier):
        raise _reject(
            f"{where}: a surrender goes only to the issuing carrier {title.carrier.label()}",
            f"{where}.recipient",
        )
    return replace(title, possessor=carrier, surrender_requested_by=actor, last_recipient=carrier)


def _answer_surrender(
    title: Title, action: ActionCode, actor: Party, transaction: Mapping[str, Any], where: str
) -> Title:
    """The carrier's answer to the pending surrender request: ``SACC`` ends the eBL's
    chain, ``SREJ`` gives possession back to the requester; nothing else may come first."""
    requester = title.surrender_requested_by
    assert requester is not None
    if action not in SURRENDER_ANSWERS:
        raise _reject(
            f"{where}: the surrender requested by {requester.label()} is pending: only the "
            f"carrier's SACC or SREJ may follow it, not {action}",
            f"{where}.actionCode",
        )
    if not actor.same(title.carrier):
        raise _reject(
            f"{where}: only the issuing carrier {title.carrier.label()} may answer a surrender "
            f"request with {action}",
            f"{where}.actor",
        )
    recipient = _recipient(transaction, action, where) or requester
    if not recipient.same(requester):
        raise _reject(
            f"{where}: {action} is addressed to {requester.label()}, who requested the "
            f"surrender, not to {recipient.label()}",
            f"{where}.recipient",
        )
    if action is ActionCode.SACC:
        return replace(
            title, surrendered=True, surrender_requested_by=None, last_recipient=requester
        )
    return replace(
        title, possessor=requester, surrender_requested_by=None, last_recipient=requester
    )


def _check_endorser(title: Title, actor: Party, action: ActionCode, where: str) -> None:
    if not title.to_order:
        raise _reject(f"{where}: a straight eBL cannot be endorsed", f"{where}.actionCode")
    if title.holder is not None and not actor.same(title.holder):
        raise _reject(
            f"{where}: only the named holder {title.holder.label()} may endorse",
            f"{where}.actor",
        )
    if not title.holder_may_endorse:
        holder = "the holder" if title.holder is None else title.holder.label()
        raise _reject(
            f"{where}: {holder} was endorsed with ENDORSE and cannot endorse the eBL "
            f"further ({action})",
            f"{where}.actionCode",
        )


def replay(transactions: Iterable[tuple[Mapping[str, Any], str]], *, to_order: bool) -> Title:
    """The title after every ``(transaction, where)`` in order, the first being ``ISSUE``."""
    title: Title | None = None
    for transaction, where in transactions:
        title = (
            issue(transaction, to_order=to_order, where=where)
            if title is None
            else apply(title, transaction, where)
        )
    if title is None:
        raise _reject("the transfer chain has no transaction", "envelopeTransferChain")
    return title
