"""Typed Peppol errors: discovery outcomes and AS4 (ebMS) errors, each saying whether a retry
can help.

Discovery keeps "not there" apart from "could not look": a participant that is not registered
or a document type it does not accept is final; a DNS or SMP failure, or an endpoint not
active yet, is retryable and never reported as "not registered".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from gateway.errors import (
    InputError,
    LingangError,
    PermanentDeliveryError,
    TransientDeliveryError,
)


class DiscoveryError(LingangError):
    """Base of the SML/SMP lookup outcomes."""

    code = "peppol-discovery"


class ParticipantNotRegistered(DiscoveryError):
    """The SML has no NAPTR record for the participant (DNS NXDOMAIN / no ``Meta:SMP``), or
    its SMP does not know it (HTTP 404 on the service group)."""

    code = "peppol-not-registered"


class DocumentTypeNotSupported(DiscoveryError):
    """The participant is registered but accepts not this document type / process over AS4."""

    code = "peppol-doctype-unsupported"


class EndpointNotYetActive(DiscoveryError):
    """The participant's AS4 endpoint for the document type is registered but not active yet
    (its ``ServiceActivationDate`` is ahead, and no other one is active): try again once it
    is, after :attr:`retry_after` seconds."""

    code = "peppol-endpoint-not-yet-active"
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after

    def _wire_extras(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}

    @classmethod
    def _from_wire(cls, data: Mapping[str, Any]) -> Self:
        error = super()._from_wire(data)
        wait = data.get("retry_after")
        error.retry_after = float(wait) if isinstance(wait, int | float) else None
        return error


class DnsFailure(DiscoveryError):
    """The SML could not be asked (timeout, SERVFAIL, no answer from any server)."""

    code = "peppol-dns"
    retryable = True


class SmpUnavailable(DiscoveryError):
    """The SMP could not be reached or answered 5xx / 429."""

    code = "peppol-smp-unavailable"
    retryable = True


class SmpAnswerInvalid(DiscoveryError):
    """The SMP answered something that must not be trusted: a broken or untrusted signature,
    identifiers other than those asked for, an HTTP redirect, an ``smp:Redirect`` that is not
    to be followed (a second one, not https, signed by another certificate than it names),
    malformed XML, an endpoint certificate not from the access-point CA."""

    code = "peppol-smp-invalid"


EBMS_RETRYABLE = frozenset({"EBMS:0005"})
"""ebMS error codes after which the same message may be sent again (ConnectionFailure)."""


@dataclass(frozen=True, slots=True)
class EbmsError:
    """One ``eb:Error`` of a signal message."""

    code: str
    severity: str
    short_description: str = ""
    category: str = ""
    ref_to_message_id: str = ""
    description: str = ""
    detail: str = ""
    origin: str = ""

    @property
    def not_serviced(self) -> bool:
        """``EBMS:0004`` with ``PEPPOL:NOT_SERVICED`` (Peppol AS4 profile §4)."""
        return self.code == "EBMS:0004" and "PEPPOL:NOT_SERVICED" in self.detail

    @property
    def retryable(self) -> bool:
        """Whether sending the same message again later can help."""
        return self.code in EBMS_RETRYABLE and not self.not_serviced

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity,
            "short_description": self.short_description,
            "category": self.category,
            "ref_to_message_id": self.ref_to_message_id,
            "description": self.description,
            "detail": self.detail,
        }


class As4Rejected(PermanentDeliveryError):
    """The receiving access point answered an ebMS error that a retry cannot change."""

    code = "as4-rejected"

    def __init__(
        self,
        message: str,
        errors: tuple[EbmsError, ...] = (),
        *,
        field: str | None = None,
        rule: str | None = None,
    ):
        super().__init__(message, field=field, rule=rule)
        self.errors = errors


class As4RetryLater(TransientDeliveryError):
    """The receiving access point answered an ebMS error worth retrying (same MessageId)."""

    code = "as4-retry-later"

    def __init__(
        self,
        message: str,
        errors: tuple[EbmsError, ...] = (),
        *,
        field: str | None = None,
        rule: str | None = None,
    ):
        super().__init__(message, field=field, rule=rule)
        self.errors = errors


class As4Invalid(InputError):
    """A received AS4 message that is refused; ``ebms_code`` is the error to answer with."""

    code = "as4-invalid"

    def __init__(
        self,
        message: str,
        *,
        ebms_code: str | None = None,
        field: str | None = None,
        rule: str | None = None,
    ) -> None:
        code = ebms_code or rule or "EBMS:0004"
        super().__init__(message, field=field, rule=rule or code)
        self.ebms_code = code
        """The ebMS error to answer with (rebuilt from ``rule`` after crossing a process
        boundary; ``EBMS:0004``, "other", when neither is known)."""
