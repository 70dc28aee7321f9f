"""The gateway's exception hierarchy, drawn once here.

::

    LingangError                   retryable  code
    ├── InputError                 no         input           the client's input is wrong; HTTP 4xx
    │   ├── UnsafeInputError       no         unsafe-input    hostile or oversized input (DTD, entity,
    │   │                                                     zip bomb, depth …)
    │   ├── UnknownFormatError     no         unknown-format  no parser recognises the input
    │   └── FieldError             no         field           a field is missing or malformed
    ├── MissingFactError           no         missing-fact    a fact the source lacks and the
    │                                                         directory does not supply
    ├── ConfigError                no         config          the configuration is invalid (names
    │                                                         the file, key and line)
    ├── ArtefactError              no         artefacts       official artefacts missing or corrupt
    │   └── SchematronError        no         (artefacts)     (gateway.validation.schc)
    ├── ValidationFailed           no         validation      fatal findings (carries the report)
    ├── SigningError               no         signing         bad key, unsupported algorithm …
    ├── VerificationError          no         verification    a signature did not verify (``check``)
    │   └── RevokedError           no         revoked         (gateway.signing.revocation)
    ├── StoreError                 yes        store           (gateway.store.base) connection lost,
    │   │                                                     driver error, store closed
    │   ├── NotFoundError          no         not-found       the row does not exist
    │   └── ConflictError          no         conflict        the row's state forbids the operation
    │       └── LeaseLostError     no         lease-lost      another worker holds the job now
    ├── TransientError             yes        transient       an operational failure that a later
    │   │                                                     attempt can get past (a service
    │   │                                                     unavailable, an engine crashed)
    │   ├── StageProcessDied       yes        stage-process-died  (gateway.jobs.stage_pool) a stage
    │   │                                                     process ended while running a document
    │   └── TransientDeliveryError yes        delivery-transient  (also a DeliveryError)
    └── DeliveryError              yes        delivery        delivery to a counterpart failed
        ├── TransientDeliveryError yes        delivery-transient  network error, timeout, 5xx, 429
        └── PermanentDeliveryError no         delivery-permanent  the receiver rejected the document

**Retry.** Every error says through ``retryable`` whether doing the same thing again later can
help. The class sets the default; an instance may override it (``retryable=`` in the
constructor), and the wire form carries the instance's value. Errors that are not
:class:`LingangError` (bugs, library errors nobody translated) are treated as retryable by the
job loop, which dead-letters them after its attempt limit. ``StoreError`` is transient by
nature (the database went away, a driver call failed) and so retryable; its subclasses say
that a row is missing or in the wrong state, which another attempt does not change.
:class:`TransientError` is the base for new operational failures worth retrying; the
validation engine's ``JvmDied`` (a ``RuntimeError`` inside ``gateway.validation`` today) is
one and should be translated into a ``TransientError`` subclass where it leaves that layer.

**Codes.** ``code`` is short, stable and unique per class: a class that sets its own ``code``
is registered under it when it is defined (:meth:`LingangError.__init_subclass__`), and a
second class claiming the same code is a ``TypeError`` at import. A subclass that does not set
one travels as its nearest registered ancestor (``SchematronError`` arrives as an
``ArtefactError`` with the same message).

**Across processes.** :meth:`LingangError.to_wire` gives the error as JSON-ready data — code,
message, field, rule, retryable and the class's extras (``VerificationError.check``,
``ValidationFailed.report`` as the report's ``to_json()``) — and :func:`from_wire` builds it
back through the class's own constructor (missing keys take empty values). An unknown code
gives a plain :class:`LingangError` carrying the same code, message and ``retryable`` (as
does a class whose module the receiving process has not imported). Pickling uses the same
form.

Lower-library exceptions are translated where they occur and chained (``raise X from exc``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

__all__ = [
    "ArtefactError",
    "ConfigError",
    "DeliveryError",
    "FieldError",
    "InputError",
    "LingangError",
    "MissingFactError",
    "PermanentDeliveryError",
    "SigningError",
    "TransientDeliveryError",
    "TransientError",
    "UnknownFormatError",
    "UnsafeInputError",
    "ValidationFailed",
    "VerificationError",
    "error_classes",
    "from_wire",
]

_REGISTRY: dict[str, type[LingangError]] = {}
"""Every class that declares its own ``code``, by that code."""


class LingangError(Exception):
    """Base of every error the gateway raises on purpose."""

    code: str = "error"
    """A short, stable, machine-readable kind (used in problem bodies, logs and the wire)."""
    retryable: bool = False
    """Whether doing the same thing again later can help (class default; see the module
    docstring)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" in cls.__dict__:
            _register(cls)

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        rule: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        """Path of the offending field (e.g. ``EInvoiceData/BasicInformation/TotalTaxAm``)."""
        self.rule = rule
        """The rule or limit that was broken (e.g. ``xml.max-depth``, ``BR-CO-10``)."""
        if retryable is not None:
            self.retryable = retryable

    def as_dict(self) -> dict[str, Any]:
        """The error as shown to clients: kind, message and, where known, field and rule."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            out["field"] = self.field
        if self.rule:
            out["rule"] = self.rule
        return out

    def to_wire(self) -> dict[str, Any]:
        """Everything needed to raise this error again in another process (JSON-ready)."""
        return {
            "code": self.code,
            "message": self.message,
            "field": self.field,
            "rule": self.rule,
            "retryable": self.retryable,
            **self._wire_extras(),
        }

    def _wire_extras(self) -> dict[str, Any]:
        """Class-specific data :meth:`to_wire` adds (none here)."""
        return {}

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        """Pickle through the wire form too (the default would call ``__init__`` with the
        message alone, which classes with more required arguments refuse)."""
        return from_wire, (self.to_wire(),)

    @classmethod
    def _from_wire(cls, data: Mapping[str, Any]) -> Self:
        """This class built from :meth:`to_wire`'s data through its constructor."""
        return cls(
            _message(data),
            field=_optional_str(data.get("field")),
            rule=_optional_str(data.get("rule")),
        )

    def __str__(self) -> str:
        where = f" [{self.field}]" if self.field else ""
        rule = f" ({self.rule})" if self.rule else ""
        return f"{self.message}{where}{rule}"


def _register(cls: type[LingangError]) -> None:
    """Add ``cls`` to the wire registry; a code claimed by another class is a ``TypeError``."""
    taken = _REGISTRY.get(cls.code)
    same = taken is not None and (taken.__module__, taken.__qualname__) == (
        cls.__module__,
        cls.__qualname__,
    )
    if taken is not None and not same:
        raise TypeError(
            f"error code {cls.code!r} of {cls.__module__}.{cls.__qualname__} is already "
            f"used by {taken.__module__}.{taken.__qualname__}"
        )
    _REGISTRY[cls.code] = cls


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _message(data: Mapping[str, Any]) -> str:
    return str(data.get("message", ""))


def from_wire(data: Mapping[str, Any]) -> LingangError:
    """The error :meth:`LingangError.to_wire` described, as an instance of its class.

    The class is found by ``code``; an unknown code gives a plain :class:`LingangError`
    with that code. ``retryable`` is always the sender's value.
    """
    code = str(data.get("code", LingangError.code))
    cls = _REGISTRY.get(code)
    error = LingangError._from_wire(data) if cls is None else cls._from_wire(data)
    if cls is None:
        error.code = code
    error.retryable = bool(data.get("retryable", error.retryable))
    return error


def error_classes() -> dict[str, type[LingangError]]:
    """Every registered error class by its code (the classes imported so far)."""
    return dict(_REGISTRY)


_REGISTRY[LingangError.code] = LingangError


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


class NotPermittedError(LingangError):
    """The caller is known but may not do this (e.g. a tenant acting for a party it does not
    represent); the API answers 403."""

    code = "forbidden"


class ConfigError(LingangError):
    """The configuration is invalid or names something that cannot be loaded."""

    code = "config"


class ArtefactError(LingangError):
    """Official validation artefacts are missing or fail their integrity check."""

    code = "artefacts"


class ValidationFailed(LingangError):
    """A document has fatal validation findings; ``report`` holds them.

    In the process that validated, ``report`` is the validator's report object; after
    crossing a process boundary it is that report's ``to_json()`` data.
    """

    code = "validation"

    def __init__(self, message: str, report: Any = None) -> None:
        super().__init__(message)
        self.report = report

    def _wire_extras(self) -> dict[str, Any]:
        report = self.report
        to_json = getattr(report, "to_json", None)
        return {"report": to_json() if callable(to_json) else report}

    @classmethod
    def _from_wire(cls, data: Mapping[str, Any]) -> Self:
        error = cls(_message(data), report=data.get("report"))
        error.field = _optional_str(data.get("field"))
        error.rule = _optional_str(data.get("rule"))
        return error


class SigningError(LingangError):
    """A document could not be signed (bad key, unsupported algorithm, …)."""

    code = "signing"


class VerificationError(LingangError):
    """A signature did not verify; ``check`` names the check that failed."""

    code = "verification"

    def __init__(self, message: str, *, check: str) -> None:
        super().__init__(message, rule=check)
        self.check = check

    def _wire_extras(self) -> dict[str, Any]:
        return {"check": str(self.check)}

    @classmethod
    def _from_wire(cls, data: Mapping[str, Any]) -> Self:
        error = cls(_message(data), check=str(data.get("check") or data.get("rule") or ""))
        error.field = _optional_str(data.get("field"))
        return error


class TransientError(LingangError):
    """An operational failure a later attempt can get past (a service unavailable, an
    engine that crashed); the job loop retries it with backoff."""

    code = "transient"
    retryable = True


class DeliveryError(LingangError):
    """Delivery to a counterpart failed; retryable unless a subclass says otherwise.

    ``details`` is what the adapter knows about the failed attempt (e.g. the Peppol send
    report: lookup, timings, the answer); the ``deliver`` job adds it to the document's
    history. It stays in this process (not part of the wire form)."""

    code = "delivery"
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        rule: str | None = None,
        retryable: bool | None = None,
        details: Mapping[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, field=field, rule=rule, retryable=retryable)
        self.details: dict[str, Any] = dict(details or {})
        self.retry_after = retry_after
        """Seconds the receiver asked us to wait before trying again (its HTTP
        ``Retry-After``), when it said; the retry policy waits at least that long."""


class TransientDeliveryError(DeliveryError, TransientError):
    """Network error, timeout, 5xx, 429: try again later."""

    code = "delivery-transient"
    retryable = True


class PermanentDeliveryError(DeliveryError):
    """The receiver rejected the document (4xx, signed negative receipt): do not retry as is."""

    code = "delivery-permanent"
    retryable = False
