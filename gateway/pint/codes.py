"""PINT codes: transaction action codes and the signed response codes with their HTTP status."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Self

from gateway.errors import LingangError


class ActionCode(StrEnum):
    """``Transaction.actionCode`` values of PINT 3.0 (Beta 20251114 onwards)."""

    ISSUE = "ISSUE"
    TRANSFER = "TRANSFER"
    ENDORSE = "ENDORSE"
    ENDORSE_TO_ORDER = "ENDORSE_TO_ORDER"
    BLANK_ENDORSE = "BLANK_ENDORSE"
    SIGN = "SIGN"
    SURRENDER_FOR_DELIVERY = "SURRENDER_FOR_DELIVERY"
    SURRENDER_FOR_AMENDMENT = "SURRENDER_FOR_AMENDMENT"
    SACC = "SACC"
    """The carrier accepted the surrender request (nothing may follow)."""
    SREJ = "SREJ"
    """The carrier rejected the surrender request (possession goes back to the requester)."""


ENDORSEMENTS = frozenset(
    {ActionCode.ENDORSE, ActionCode.ENDORSE_TO_ORDER, ActionCode.BLANK_ENDORSE}
)
SURRENDERS = frozenset({ActionCode.SURRENDER_FOR_DELIVERY, ActionCode.SURRENDER_FOR_AMENDMENT})
SURRENDER_ANSWERS = frozenset({ActionCode.SACC, ActionCode.SREJ})
"""The carrier's answers to a pending surrender request."""
NEEDS_RECIPIENT = frozenset(
    {ActionCode.ISSUE, ActionCode.TRANSFER, ActionCode.ENDORSE, ActionCode.ENDORSE_TO_ORDER}
)
"""Action codes whose ``Transaction.recipient`` is required: since Beta 20251114 it is
optional, not needed for ``SIGN``, ``BLANK_ENDORSE`` and the surrenders (whose recipient is
the carrier), nor for ``SACC`` / ``SREJ`` (addressed to the party that asked to surrender)."""


class ResponseCode(StrEnum):
    """``EnvelopeTransferFinishedResponse.responseCode``."""

    RECE = "RECE"
    DUPE = "DUPE"
    BSIG = "BSIG"
    BENV = "BENV"
    INCD = "INCD"
    MDOC = "MDOC"
    DISE = "DISE"

    @property
    def http_status(self) -> int:
        """The HTTP status the standard pairs with the code (the signed code decides)."""
        return _STATUS[self]

    @property
    def accepted(self) -> bool:
        """The receiver holds the eBL now (the sender has no control left)."""
        return self in (ResponseCode.RECE, ResponseCode.DUPE)

    @property
    def final(self) -> bool:
        """The transfer attempt is over (accepted or rejected); INCD and MDOC are not."""
        return self not in (ResponseCode.INCD, ResponseCode.MDOC)


_STATUS = {
    ResponseCode.RECE: 200,
    ResponseCode.DUPE: 200,
    ResponseCode.BSIG: 422,
    ResponseCode.BENV: 422,
    ResponseCode.INCD: 409,
    ResponseCode.MDOC: 409,
    ResponseCode.DISE: 409,
}


class PintRejection(LingangError):
    """An envelope (or document) the receiver answers with a signed non-RECE code."""

    code = "pint"

    def __init__(
        self,
        message: str,
        *,
        response: ResponseCode = ResponseCode.BENV,
        field: str | None = None,
        rule: str | None = None,
        missing: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, field=field, rule=rule or f"pint.{response.value}")
        self.response = response
        self.missing = missing

    def _wire_extras(self) -> dict[str, Any]:
        return {"response": self.response.value}

    @classmethod
    def _from_wire(cls, data: Mapping[str, Any]) -> Self:
        try:
            response = ResponseCode(str(data.get("response") or "BENV"))
        except ValueError:
            response = ResponseCode.BENV
        error = cls(
            str(data.get("message") or ""), response=response, rule=data.get("rule") or None
        )
        error.field = data.get("field") or None
        return error
