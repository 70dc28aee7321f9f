"""Title tokens of transferable records (TradeTrust Token Registry semantics).

A negotiable eBL's title is a token in a registry: the *beneficiary* owns the goods, the
*holder* holds the document; both change by transfers, and the document ends by surrender
to the issuer and a burn. :class:`TokenRegistry` is the interface the gateway uses; the
store keeps one (:class:`gateway.store.title_tokens.StoredTokenRegistry`) for tests and
demos, and an on-chain registry (Token Registry v5 ``mint`` / ``transferHolder`` /
``nominate`` + ``transferBeneficiary`` / ``returnToIssuer`` / ``burn``) implements the same
methods. For an OpenAttestation v2 document the token id is its Merkle root.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class TokenState(StrEnum):
    """Where a title token is in its life."""

    ACTIVE = "active"
    SURRENDERED = "surrendered"
    """Returned to the issuer (``returnToIssuer``): waiting to be accepted (burned) or
    rejected (restored)."""
    BURNED = "burned"


@dataclass(frozen=True, slots=True)
class TitleToken:
    """One token: who owns the title, who holds the document."""

    registry: str
    token_id: str
    beneficiary: str
    holder: str
    state: TokenState
    nominee: str | None
    remark: str
    version: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TokenEvent:
    """One change of a token, in order."""

    action: str
    """``mint``, ``transfer-holder``, ``nominate``, ``transfer-beneficiary``, ``surrender``,
    ``restore``, ``burn``."""
    actor: str
    beneficiary: str
    holder: str
    at: datetime


class TokenRegistry(Protocol):
    """Mint, look up, transfer, surrender and burn title tokens of one registry.

    Every method raises the store's ``ConflictError`` when the actor may not do it or the
    token's state forbids it, and ``NotFoundError`` for an unknown token (both
    :class:`gateway.errors.LingangError` s that say no retry helps).
    """

    registry: str
    """The registry's address (``0x…`` on chain)."""

    async def mint(
        self, token_id: str, beneficiary: str, holder: str, remark: str = ""
    ) -> TitleToken: ...

    async def owner(self, token_id: str) -> TitleToken: ...

    async def transfer_holder(self, token_id: str, actor: str, to: str) -> TitleToken: ...

    async def nominate(self, token_id: str, actor: str, nominee: str) -> TitleToken: ...

    async def transfer_beneficiary(self, token_id: str, actor: str, to: str) -> TitleToken: ...

    async def surrender(self, token_id: str, actor: str) -> TitleToken: ...

    async def restore(self, token_id: str) -> TitleToken: ...

    async def burn(self, token_id: str) -> TitleToken: ...

    async def history(self, token_id: str) -> list[TokenEvent]: ...
