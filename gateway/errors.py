"""The gateway's exception hierarchy, drawn once here.

::

    LingangError
    ├── InputError                 the client's input is wrong; never retried; HTTP 4xx
    │   ├── UnsafeInputError       hostile or oversized input (DTD, entity, zip bomb, depth …)
    │   ├── UnknownFormatError     no parser recognises the input
    │   └── FieldError             a field is missing or malformed (names the field / rule)
    ├── MissingFactError           a fact the source lacks and the directory does not supply
    ├── ArtefactError              official artefacts missing or corrupt (names them + the fix)
    ├── ValidationFailed           a document has fatal findings (carries the report)
    ├── SigningError / VerificationError
    └── DeliveryError              delivery failed; ``retryable`` says whether a retry can help
        ├── TransientDeliveryError
        └── PermanentDeliveryError

Lower-library exceptions are translated where they occur and chained (``raise X from exc``).
"""

from __future__ import annotations

from typing import Any


class LingangError(Exception):
    """Base of every error the gateway raises on purpose."""

    code: str = "error"
    """A short, stable, machine-readable kind (used in problem bodies and logs)."""

    def __init__(self, message: str, *, field: str | None = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        """Path of the offending field (e.g. ``EInvoiceData/BasicInformation/TotalTaxAm``)."""
        self.rule = rule
        """The rule or limit that was broken (e.g. ``xml.max-depth``, ``BR-CO-10``)."""

    def as_dict(self) -> dict[str, Any]:
        """The error as data: kind, message and, where known, field and rule."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            out["field"] = self.field
        if self.rule:
            out["rule"] = self.rule
        return out

    def __str__(self) -> str:
        where = f" [{self.field}]" if self.field else ""
        rule = f" ({self.rule})" if self.rule else ""
        return f"{self.message}{where}{rule}"


class InputError(LingangError):
    """The input is wrong; sending it again unchanged cannot succeed."""

    code = "input"


class UnsafeInputError(InputError):
    """The input is hostile or exceeds a limit (DTD, entity, size, depth, zip bomb …)."""

    code = "unsafe-input"


class UnknownFormatError(InputError):
    """No parser recognises the input."""

    code = "unknown-format"


class FieldError(InputError):
    """A field is missing or malformed."""

    code = "field"


class MissingFactError(LingangError):
    """A fact the target needs is neither in the source nor in the partner directory."""

    code = "missing-fact"


class ArtefactError(LingangError):
    """Official validation artefacts are missing or fail their integrity check."""

    code = "artefacts"


class ValidationFailed(LingangError):
    """A document has fatal validation findings; ``report`` holds them."""

    code = "validation"

    def __init__(self, message: str, report: Any = None) -> None:
        super().__init__(message)
        self.report = report


class SigningError(LingangError):
    """A document could not be signed (bad key, unsupported algorithm, …)."""

    code = "signing"


class VerificationError(LingangError):
    """A signature did not verify; ``check`` names the check that failed."""

    code = "verification"

    def __init__(self, message: str, *, check: str) -> None:
        super().__init__(message, rule=check)
        self.check = check


class DeliveryError(LingangError):
    """Delivery to a counterpart failed."""

    code = "delivery"
    retryable: bool = True
    """Whether trying again later can help."""


class TransientDeliveryError(DeliveryError):
    """Network error, timeout, 5xx, 429: try again later."""

    code = "delivery-transient"
    retryable = True


class PermanentDeliveryError(DeliveryError):
    """The receiver rejected the document (4xx, signed negative receipt): do not retry as is."""

    code = "delivery-permanent"
    retryable = False
