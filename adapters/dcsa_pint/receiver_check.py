"""Receiver validation from the sending side (PINT 3.0 ``POST /v3/receiver-validation``).

Before a transfer locks an eBL, the sending platform may ask the receiving one whether it
knows the party: "a successful response [...] asserts that the platform will accept an eBL
for the account or user denoted by the provided identifying code"; a 404 says it "cannot
identify an account or user via the given party code" (or would reject a transfer to it).

A platform of an older PINT version has no such endpoint and answers its own 404 for the
path: that is no answer about the party (:attr:`ReceiverAnswer.known` ``None``), told apart
from the standard's 404 by its body (a DCSA ``ErrorResponse``). The transfer then goes on
as before: the receiving platform still checks the party when the envelope arrives (``BENV``
for an unknown one) and the eBL comes back under this platform's control.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReceiverAnswer:
    """What the receiving platform said about a party."""

    known: bool | None
    """``True``: it knows the party (200); ``False``: it does not (the standard's 404);
    ``None``: no answer to go by (no such endpoint, an error, unreachable)."""
    name: str | None = None
    """The ``partyName`` it gave (``known``)."""
    why: str = ""
    """Its message (``known`` ``False``), or why there is no answer (``None``)."""


ValidateReceiver = Callable[[str, str, str], Awaitable[ReceiverAnswer]]
"""``(platform, codeListProvider, partyCode) -> ReceiverAnswer``."""
