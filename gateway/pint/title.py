"""Title rules: who possesses and who holds an eBL after each transaction of its chain.

An eBL has exactly one possessor at a time. ``ISSUE`` comes exactly once, first, from the
issuing carrier to the issue-to party. ``TRANSFER`` moves possession from the possessor to the
recipient. ``ENDORSE`` / ``ENDORSE_TO_ORDER`` name a new endorsee (holder) of a to-order eBL
and ``BLANK_ENDORSE`` makes it a bearer eBL; only the possessor who is also the named holder
(or anyone possessing a blank-endorsed eBL) may endorse, and endorsement does not move
possession. ``SIGN`` changes nothing but must come from the possessor. A surrender goes only
to the carrier that issued the eBL, and nothing follows it. Every violation is a ``BENV``.

Parties are the same party when they are on the same platform and share an identifying code
(``codeListProvider`` + ``partyCode``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from gateway.pint.codes import ENDORSEMENTS, SURRENDERS, ActionCode, PintRejection, ResponseCode


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

    def as_json(self) -> dict[str, Any]:
        """The title as JSON (what the registry keeps and ``ebl history`` shows)."""
        return {
            "carrier": self.carrier.as_json(),
            "possessor": self.possessor.as_json(),
            "holder": None if self.holder is None else self.holder.as_json(),
            "toOrder": self.to_order,
            "surrendered": self.surrendered,
        }


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


def issue(transaction: Mapping[str, Any], *, to_order: bool, where: str) -> Title:
    """The title an ``ISSUE`` transaction creates."""
    if _action(transaction, where) is not ActionCode.ISSUE:
        raise _reject("the first transaction of the chain must be ISSUE", f"{where}.actionCode")
    carrier = Party.of(transaction.get("actor"), f"{where}.actor")
    issued_to = Party.of(transaction.get("recipient"), f"{where}.recipient")
    return Title(carrier, issued_to, issued_to if to_order else None, to_order)


def apply(title: Title, transaction: Mapping[str, Any], where: str) -> Title:
    """The title after ``transaction`` (raises ``BENV`` when the transaction is not allowed)."""
    action = _action(transaction, where)
    if title.surrendered:
        raise _reject(f"{where}: nothing may follow a surrender ({action})", where)
    if action is ActionCode.ISSUE:
        raise _reject(f"{where}: ISSUE may appear only once, first", f"{where}.actionCode")
    actor = Party.of(transaction.get("actor"), f"{where}.actor")
    if not actor.same(title.possessor):
        raise _reject(
            f"{where}: {actor.label()} does not possess the eBL ({title.possessor.label()} does)",
            f"{where}.actor",
        )
    if action is ActionCode.SIGN:
        return title
    if action is ActionCode.BLANK_ENDORSE:
        _check_endorser(title, actor, where)
        return replace(title, holder=None)
    recipient = Party.of(transaction.get("recipient"), f"{where}.recipient")
    if action in ENDORSEMENTS:
        _check_endorser(title, actor, where)
        return replace(title, holder=recipient)
    if action in SURRENDERS:
        if not recipient.same(title.carrier):
            raise _reject(
                f"{where}: a surrender goes only to the issuing carrier {title.carrier.label()}",
                f"{where}.recipient",
            )
        return replace(title, possessor=recipient, surrendered=True)
    return replace(title, possessor=recipient)


def _check_endorser(title: Title, actor: Party, where: str) -> None:
    if not title.to_order:
        raise _reject(f"{where}: a straight eBL cannot be endorsed", f"{where}.actionCode")
    if title.holder is not None and not actor.same(title.holder):
        raise _reject(
            f"{where}: only the named holder {title.holder.label()} may endorse",
            f"{where}.actor",
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
