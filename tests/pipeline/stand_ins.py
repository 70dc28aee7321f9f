"""Stand-in stages for orchestrator tests (no format knowledge needed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.pipeline.stages import StageContext


@dataclass(slots=True)
class Upper:
    """A stand-in for render: upper-cases the body."""

    name: str = "render"

    def run(self, context: StageContext) -> dict[str, Any]:
        context.rendered = context.submission.data.upper()
        context.profile = str(context.metadata.get("profile", "pint-sg"))
        context.keep("rendered", "application/xml", context.rendered)
        return {"bytes": len(context.rendered)}


@dataclass(slots=True)
class Seal:
    """A stand-in for sign + envelope."""

    name: str = "sign"

    def run(self, context: StageContext) -> dict[str, Any]:
        assert context.rendered is not None
        context.signed = context.rendered + b"<!--sealed-->"
        context.keep("signed", "application/xml", context.signed)
        return {"signed": True}


@dataclass(slots=True)
class Raise:
    """A stage that raises whatever it is given (while ``armed``)."""

    error: Exception
    name: str = "check"
    armed: bool = True

    def run(self, context: StageContext) -> dict[str, Any]:
        if self.armed:
            raise self.error
        return {}
