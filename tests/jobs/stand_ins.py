"""A stand-in flow for job-layer tests: no format knowledge, the real flow machinery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.flows import Flow, FlowState, Tools, TransportFacts
from gateway.flows.stage import require


@dataclass(slots=True)
class TextDoc(FlowState):
    """The stand-in document's state."""

    rendered: bytes | None = None


@dataclass(slots=True)
class Upper:
    """A stand-in for render: upper-cases the body."""

    name: str = "render"
    reads: tuple[str, ...] = ("source",)
    adds: tuple[str, ...] = ("rendered",)

    def run(self, state: TextDoc, tools: Tools) -> dict[str, Any]:
        state.rendered = state.source.data.upper()
        state.keep("rendered", "application/xml", state.rendered)
        return {"bytes": len(state.rendered)}


@dataclass(slots=True)
class Seal:
    """A stand-in for sign + envelope."""

    name: str = "sign"
    reads: tuple[str, ...] = ("rendered",)
    adds: tuple[str, ...] = ("transport",)

    def run(self, state: TextDoc, tools: Tools) -> dict[str, Any]:
        signed = require(state.rendered, "rendered") + b"<!--sealed-->"
        state.keep("signed", "application/xml", signed)
        state.transport = TransportFacts(
            body="signed",
            content_type="application/xml",
            document_kind="text",
            profile=str(state.source.metadata.get("profile", "pint-sg")),
            receiver="0195:T08GB0001A",
            headers={"X-Test": "sealed"},
        )
        return {"signed": True}


@dataclass(slots=True)
class Raise:
    """A stage that raises whatever it is given (while ``armed``)."""

    error: Exception
    name: str = "check"
    reads: tuple[str, ...] = ()
    adds: tuple[str, ...] = ()
    armed: bool = True

    def run(self, state: TextDoc, tools: Tools) -> dict[str, Any]:
        if self.armed:
            raise self.error
        return {}


def text_flow(*stages: Any) -> Flow[TextDoc]:
    """A flow of the given stand-in stages (default: render, sign)."""
    return Flow("text-out", "out", TextDoc, tuple(stages) or (Upper(), Seal()))
