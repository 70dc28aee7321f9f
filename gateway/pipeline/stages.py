"""The stage contract: what a stage gets, what it may change, and what it reports.

A stage is a small object with a ``name`` and a synchronous ``run(context) -> summary``. It
reads what earlier stages left on the :class:`StageContext`, sets its own field, may add
outputs to keep, and returns a small JSON-ready summary (recorded with its timing). It raises
a :class:`~gateway.errors.LingangError` to stop the document: document errors
(``InputError``, ``MissingFactError``, ``ValidationFailed``) reject it; anything else fails the
job so the outbox retries it. The concrete table is in :mod:`gateway.pipeline.standard`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.errors import LingangError
from gateway.store import Submission


@dataclass(frozen=True, slots=True)
class Toolbox:
    """Long-lived handles the stages use (loaded once per process)."""

    default_profile: str = "pint-sg"
    validator: Any = None
    """A ``gateway.validation.Validator`` (``None``: validation disabled)."""
    signer: Any = None
    """A ``gateway.signing.XadesSigner`` (``None``: signing disabled)."""
    partners: Any = None
    """A ``gateway.partners.PartnerDirectory`` (``None``: facts only from metadata)."""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StageOutput:
    """An artefact to keep in the store under ``kind`` (e.g. ``ubl``, ``signed``, ``report``)."""

    kind: str
    media_type: str
    data: bytes


@dataclass(slots=True)
class StageContext:
    """The document as it moves through the stages."""

    submission: Submission
    toolbox: Toolbox
    directory: Any = None
    """The tenant's partner directory (from the store; else the configured file)."""
    source_format: str = ""
    parsed: Any = None
    """What the parse stage produced (e.g. ``ParsedInvoice``)."""
    document: Any = None
    """The canonical document (e.g. ``Invoice``) after mapping."""
    profile: str = ""
    rendered: bytes | None = None
    report: Any = None
    signed: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    """Transport headers the envelope stage sets for the adapter."""
    outputs: list[StageOutput] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    """Small facts worth recording (format, profile, receiver, sender, document number)."""

    @property
    def metadata(self) -> dict[str, Any]:
        """The submission's metadata (receiver, profile, currency, ... given by the client)."""
        return self.submission.metadata

    def keep(self, kind: str, media_type: str, data: bytes) -> None:
        """Keep an output in the store once the stages are done."""
        self.outputs.append(StageOutput(kind, media_type, data))

    def receiver_keys(self) -> list[str]:
        """Keys the router may match in ``[routing.partners]``: receiver endpoint, ids."""
        keys = [str(self.facts[name]) for name in ("receiver", "buyer_id") if self.facts.get(name)]
        given = self.metadata.get("receiver")
        if given:
            keys.append(str(given))
        return keys


class Stage(Protocol):
    """One step of the pipeline."""

    name: str

    def run(self, context: StageContext) -> dict[str, Any]:
        """Do the step; return a JSON-ready summary. Raise ``LingangError`` to stop."""
        ...


@dataclass(slots=True)
class StageOutcome:
    """How a run of the stage table ended."""

    timings: list[dict[str, Any]]
    error: LingangError | None = None
    failed_stage: str | None = None
