"""The stage contract and the flow that runs a table of stages.

A **flow** is one document kind in one direction (``invoice-out``, ``document-in`` …): a typed
state class and an ordered table of stages. A **stage** is a small object with one job: it
declares the state fields it ``reads`` and the ones it ``adds``, and its ``run(state, tools)``
fills what it adds and returns a small JSON-ready summary (recorded with its timing). The
table is checked when the flow is built: a stage may read only what the source gives or an
earlier stage adds, and may add only fields the state class declares.

A stage stops the document by raising a :class:`~gateway.errors.LingangError`; whether that
rejects the document or is retried is the error's own ``retryable``. Flows know no store and no
adapter: they turn a source into outputs, facts and the transport facts of the envelope
(:class:`~gateway.flows.transport.TransportFacts`), and :func:`run_flow` returns all of it as a
:class:`FlowOutcome` that can cross a process boundary (:meth:`FlowOutcome.to_wire`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from gateway.errors import LingangError, from_wire
from gateway.flows.tools import Tools
from gateway.flows.transport import TransportFacts

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Source:
    """What a flow starts from: the bytes received and what came with them."""

    data: bytes
    content_type: str = "application/octet-stream"
    filename: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """The client's (or the transport's) metadata: receiver, profile, format, …"""
    document_id: str = ""
    """The submission's (or inbound message's) id."""
    tenant_id: str = ""
    sent_invoice_dates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Issue dates (ISO) of invoices this tenant sent through the gateway, by number (every
    date recorded for it): looked up in the store by the job for the invoice a credit note
    credits (BT-25), so that the flow, which reads no store, can date it (BT-26), or say why
    it cannot (several dates)."""


@dataclass(frozen=True, slots=True)
class Output:
    """An artefact to keep under ``kind`` (``report``, ``signed``, ``signature`` …)."""

    kind: str
    media_type: str
    data: bytes


@dataclass(slots=True)
class FlowState:
    """What every flow's state has; a flow's own state class adds its typed fields."""

    source: Source
    directory: Any = None
    """The tenant's partner directory (``gateway.partners.PartnerDirectory``) or ``None``."""
    outputs: list[Output] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    """Small facts worth recording (format, profile, receiver, sender, document number)."""
    transport: TransportFacts | None = None
    """The envelope's facts, set by the flow's last stage when the document is to be sent."""

    def keep(self, kind: str, media_type: str, data: bytes) -> None:
        """Keep an output once the flow is done."""
        self.outputs = [o for o in self.outputs if o.kind != kind]
        self.outputs.append(Output(kind, media_type, data))


BASE_FIELDS = frozenset(f.name for f in dataclasses.fields(FlowState))
"""Fields every state has before the first stage runs."""

S = TypeVar("S", bound=FlowState)
S_contra = TypeVar("S_contra", bound=FlowState, contravariant=True)


class Stage(Protocol[S_contra]):
    """One step of a flow."""

    @property
    def name(self) -> str: ...

    @property
    def reads(self) -> tuple[str, ...]: ...

    @property
    def adds(self) -> tuple[str, ...]: ...

    def run(self, state: S_contra, tools: Tools) -> dict[str, Any]:
        """Do the step; return a JSON-ready summary. Raise ``LingangError`` to stop."""
        ...


def require(value: T | None, name: str) -> T:
    """A field an earlier stage must have added (a flow-table bug otherwise)."""
    if value is None:
        raise LingangError(f"flow state {name!r} is missing", rule="flow.order")
    return value


class FlowTableError(ValueError):
    """A flow's table reads a field nobody adds, or adds one its state lacks."""


@dataclass(frozen=True, slots=True)
class Flow(Generic[S]):
    """A document kind in one direction: its state class and its stage table."""

    name: str
    direction: str
    """``out`` (to a counterpart) or ``in`` (from one)."""
    state_type: type[S]
    stages: tuple[Stage[S], ...]
    delivers: bool = True
    """Whether a successful run is delivered (sets transport facts); ``False``: the flow's
    outputs are the result (an eBL converted for its submitter)."""

    def __post_init__(self) -> None:
        declared = {f.name for f in dataclasses.fields(self.state_type)}
        available = set(BASE_FIELDS)
        for stage in self.stages:
            missing = set(stage.reads) - available
            if missing:
                raise FlowTableError(
                    f"{self.name}: stage {stage.name!r} reads {sorted(missing)} before any stage adds it"
                )
            undeclared = set(stage.adds) - declared
            if undeclared:
                raise FlowTableError(
                    f"{self.name}: stage {stage.name!r} adds {sorted(undeclared)}, "
                    f"which {self.state_type.__name__} does not declare"
                )
            available |= set(stage.adds)

    @property
    def stage_names(self) -> list[str]:
        """The table, in order."""
        return [stage.name for stage in self.stages]

    def start(self, source: Source, directory: Any = None) -> S:
        """A fresh state for ``source``."""
        return self.state_type(source=source, directory=directory)

    def run(self, source: Source, tools: Tools, directory: Any = None) -> FlowOutcome:
        """Run every stage on a fresh state (see :func:`run_flow`)."""
        return run_flow(self, self.start(source, directory), tools)


@dataclass(slots=True)
class FlowOutcome:
    """How a run of a flow ended, with everything it produced (also on failure)."""

    flow: str
    timings: list[dict[str, Any]]
    outputs: list[Output] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    transport: TransportFacts | None = None
    error: LingangError | None = None
    failed_stage: str | None = None
    delivers: bool = True
    """The flow's :attr:`Flow.delivers`."""

    @property
    def ok(self) -> bool:
        return self.error is None

    def output(self, kind: str) -> Output | None:
        """The output kept as ``kind``, if any."""
        return next((o for o in self.outputs if o.kind == kind), None)

    def to_wire(self) -> dict[str, Any]:
        """Plain data (bytes, str, numbers, lists, dicts) for another process."""
        return {
            "flow": self.flow,
            "timings": self.timings,
            "outputs": [(o.kind, o.media_type, o.data) for o in self.outputs],
            "facts": self.facts,
            "transport": self.transport.to_json() if self.transport else None,
            "error": self.error.to_wire() if self.error is not None else None,
            "failed_stage": self.failed_stage,
            "delivers": self.delivers,
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> FlowOutcome:
        """The outcome :meth:`to_wire` described."""
        transport = data.get("transport")
        error = data.get("error")
        return cls(
            flow=str(data["flow"]),
            timings=list(data["timings"]),
            outputs=[Output(k, m, bytes(d)) for k, m, d in data["outputs"]],
            facts=dict(data["facts"]),
            transport=TransportFacts.from_json(transport) if transport else None,
            error=from_wire(error) if error is not None else None,
            failed_stage=data.get("failed_stage"),
            delivers=bool(data.get("delivers", True)),
        )


def run_flow(flow: Flow[S], state: S, tools: Tools) -> FlowOutcome:
    """Run the stages in order, timing each; stop at the first ``LingangError``."""
    timings: list[dict[str, Any]] = []
    outcome = FlowOutcome(flow.name, timings, delivers=flow.delivers)
    for stage in flow.stages:
        started = time.perf_counter()
        try:
            summary = stage.run(state, tools)
        except LingangError as exc:
            elapsed = round((time.perf_counter() - started) * 1000, 3)
            timings.append({"stage": stage.name, "ok": False, "ms": elapsed, **exc.as_dict()})
            outcome.error, outcome.failed_stage = exc, stage.name
            break
        elapsed = round((time.perf_counter() - started) * 1000, 3)
        timings.append({"stage": stage.name, "ok": True, "ms": elapsed, **summary})
    outcome.outputs = list(state.outputs)
    outcome.facts = dict(state.facts)
    outcome.transport = state.transport if outcome.error is None else None
    return outcome
