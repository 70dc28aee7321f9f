"""The gateway's own title-token registry, kept in the store (SQLite or PostgreSQL).

:class:`StoredTokenRegistry` implements :class:`gateway.model.title_registry.TokenRegistry`
with the rules of TradeTrust's Token Registry v5 / TitleEscrow, for tests, demos and
deployments without a chain:

* ``mint``: a new token with its beneficiary and holder (a token id is minted once).
* ``transfer_holder``: by the holder, to anyone.
* ``nominate``: by the beneficiary, names the next beneficiary.
* ``transfer_beneficiary``: by the holder, to the nominee (or to anyone when the holder is
  also the beneficiary).
* ``surrender``: by the holder who is also the beneficiary (``returnToIssuer``).
* ``restore`` (surrender rejected) and ``burn`` (surrender accepted): by the issuer.

Each change is one transaction, fenced by the token's ``version``, and appends an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.model.title_registry import TitleToken, TokenEvent, TokenState
from gateway.store.base import Clock, ConflictError, NotFoundError, reads, writes
from gateway.store.connector import Connector, Query, Script
from gateway.store.rows import Row, to_time

MAX_REMARK = 120
"""Token Registry v5 limits a remark to 120 characters."""


def _token(row: Row) -> TitleToken:
    return TitleToken(
        registry=row["registry"],
        token_id=row["token_id"],
        beneficiary=row["beneficiary"],
        holder=row["holder"],
        state=TokenState(row["state"]),
        nominee=row["nominee"],
        remark=row["remark"],
        version=int(row["version"]),
        updated_at=to_time(row["updated_at"]),
    )


def _event(row: Row) -> TokenEvent:
    return TokenEvent(
        action=row["action"],
        actor=row["actor"],
        beneficiary=row["beneficiary"],
        holder=row["holder"],
        at=to_time(row["at"]),
    )


@dataclass(frozen=True, slots=True)
class _Change:
    """The token after a change, who made it, and the action's name."""

    action: str
    actor: str
    beneficiary: str
    holder: str
    nominee: str | None
    state: TokenState


class StoredTokenRegistry:
    """One registry's title tokens over the store's connector (see the module docstring)."""

    def __init__(self, connector: Connector, clock: Clock, registry: str) -> None:
        self.connector = connector
        self.clock = clock
        self.registry = registry
        self.issuer = f"issuer:{registry}"
        """The actor name recorded for ``restore`` and ``burn``."""

    def _key(self, token_id: str) -> dict[str, Any]:
        return {"registry": self.registry, "token_id": token_id}

    def _current(self, token_id: str) -> Script[TitleToken]:
        row = yield Query("title_token_get", self._key(token_id), "one")
        if row is None:
            raise NotFoundError(f"no title token {token_id} in registry {self.registry}")
        return _token(row)

    def _apply(self, token: TitleToken, change: _Change) -> Script[TitleToken]:
        params = {
            **self._key(token.token_id),
            "beneficiary": change.beneficiary,
            "holder": change.holder,
            "nominee": change.nominee,
            "state": change.state.value,
            "version": token.version,
            "now": self.clock(),
        }
        row = yield Query("title_token_update", params, "one")
        if row is None:
            raise ConflictError(f"title token {token.token_id} changed meanwhile; read it again")
        updated = _token(row)
        event = {
            **self._key(token.token_id),
            "seq": updated.version,
            "action": change.action,
            "actor": change.actor,
            "beneficiary": change.beneficiary,
            "holder": change.holder,
            "now": params["now"],
        }
        yield Query("title_token_event_insert", event)
        return updated

    @writes
    def mint(
        self, token_id: str, beneficiary: str, holder: str, remark: str = ""
    ) -> Script[TitleToken]:
        """Mint ``token_id`` to ``beneficiary`` / ``holder``; a second mint is a conflict."""
        if len(remark) > MAX_REMARK:
            raise ConflictError(f"a remark has at most {MAX_REMARK} characters", field="remark")
        params = {
            **self._key(token_id),
            "beneficiary": beneficiary,
            "holder": holder,
            "remark": remark,
            "now": self.clock(),
        }
        row = yield Query("title_token_insert", params, "one")
        if row is None:
            raise ConflictError(f"title token {token_id} is already minted in {self.registry}")
        event = {**self._key(token_id), "seq": 1, "action": "mint", "actor": self.issuer}
        yield Query(
            "title_token_event_insert",
            {**event, "beneficiary": beneficiary, "holder": holder, "now": params["now"]},
        )
        return _token(row)

    @reads
    def owner(self, token_id: str) -> Script[TitleToken]:
        """The token as it is now."""
        return (yield from self._current(token_id))

    @reads
    def history(self, token_id: str) -> Script[list[TokenEvent]]:
        """Every change of the token, oldest first."""
        yield from self._current(token_id)
        rows = yield Query("title_token_events", self._key(token_id), "all")
        return [_event(r) for r in rows]

    @writes
    def transfer_holder(self, token_id: str, actor: str, to: str) -> Script[TitleToken]:
        """The holder hands the document to ``to``."""
        token = yield from self._active(token_id)
        _require(actor == token.holder, f"only the holder ({token.holder}) transfers holdership")
        change = _Change(
            "transfer-holder", actor, token.beneficiary, to, token.nominee, token.state
        )
        return (yield from self._apply(token, change))

    @writes
    def nominate(self, token_id: str, actor: str, nominee: str) -> Script[TitleToken]:
        """The beneficiary names the next beneficiary."""
        token = yield from self._active(token_id)
        _require(actor == token.beneficiary, "only the beneficiary nominates")
        change = _Change("nominate", actor, token.beneficiary, token.holder, nominee, token.state)
        return (yield from self._apply(token, change))

    @writes
    def transfer_beneficiary(self, token_id: str, actor: str, to: str) -> Script[TitleToken]:
        """The holder endorses the title to the nominee (or to anyone, holding both roles)."""
        token = yield from self._active(token_id)
        _require(actor == token.holder, f"only the holder ({token.holder}) endorses")
        _require(
            to == token.nominee or token.holder == token.beneficiary,
            f"{to} is not the beneficiary's nominee",
        )
        change = _Change("transfer-beneficiary", actor, to, token.holder, None, token.state)
        return (yield from self._apply(token, change))

    @writes
    def surrender(self, token_id: str, actor: str) -> Script[TitleToken]:
        """The holder, also the beneficiary, returns the document to the issuer."""
        token = yield from self._active(token_id)
        _require(
            actor == token.holder == token.beneficiary,
            "only a holder who is also the beneficiary surrenders",
        )
        change = _Change(
            "surrender", actor, token.beneficiary, token.holder, None, TokenState.SURRENDERED
        )
        return (yield from self._apply(token, change))

    @writes
    def restore(self, token_id: str) -> Script[TitleToken]:
        """The issuer rejects a surrender: the token is active again with the same parties."""
        token = yield from self._current(token_id)
        _require(token.state is TokenState.SURRENDERED, f"token {token_id} is not surrendered")
        change = _Change(
            "restore", self.issuer, token.beneficiary, token.holder, None, TokenState.ACTIVE
        )
        return (yield from self._apply(token, change))

    @writes
    def burn(self, token_id: str) -> Script[TitleToken]:
        """The issuer accepts a surrender: the token ends."""
        token = yield from self._current(token_id)
        _require(token.state is TokenState.SURRENDERED, f"token {token_id} is not surrendered")
        change = _Change(
            "burn", self.issuer, token.beneficiary, token.holder, None, TokenState.BURNED
        )
        return (yield from self._apply(token, change))

    def _active(self, token_id: str) -> Script[TitleToken]:
        token = yield from self._current(token_id)
        _require(token.state is TokenState.ACTIVE, f"token {token_id} is {token.state.value}")
        return token


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConflictError(message, rule="title.not-allowed")
