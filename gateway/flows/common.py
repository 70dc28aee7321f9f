"""Stages and steps every flow shares: fingerprinting the input, keeping a validation report."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.errors import InputError, ValidationFailed
from gateway.flows.stage import FlowState
from gateway.flows.tools import Tools

if TYPE_CHECKING:
    from gateway.validation import ValidationReport


@dataclass(slots=True)
class Fingerprinted(FlowState):
    """A state whose input has been size-checked and hashed."""

    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class IngestStage:
    """Checks the input is something at all, within the size limit, and fingerprints it."""

    what: str = "the submission"
    name: str = "ingest"
    reads: tuple[str, ...] = ("source",)
    adds: tuple[str, ...] = ("sha256",)

    def run(self, state: Fingerprinted, tools: Tools) -> dict[str, Any]:
        data = state.source.data
        if not data:
            raise InputError(f"{self.what} is empty", field="body", rule="ingest.empty")
        if len(data) > tools.max_body_bytes:
            raise InputError(
                f"{self.what} is {len(data)} bytes; the limit is {tools.max_body_bytes}",
                field="body",
                rule="ingest.max-bytes",
            )
        state.sha256 = hashlib.sha256(data).hexdigest()
        state.facts["sha256"] = state.sha256
        return {"bytes": len(data), "sha256": state.sha256}


VALIDATION_OFF = (
    "not validated: the operator turned validation off ([pipeline] validate = false); "
    "the official rules were not run on this document"
)
"""The reason every document carries in its history while validation is off."""


def skip_validation(state: FlowState) -> dict[str, Any]:
    """Mark the document unvalidated (fact ``validated: false``, stage summary ``skipped``
    with :data:`VALIDATION_OFF`): validation off is visible on every document it affects."""
    state.facts["validated"] = False
    return {"skipped": True, "validated": False, "reason": VALIDATION_OFF}


def keep_report(state: FlowState, report: ValidationReport) -> dict[str, Any]:
    """Keep ``report`` (output ``report``) and stop the document on a fatal finding."""
    state.facts["validated"] = True
    body = json.dumps(report.to_json(), ensure_ascii=False, sort_keys=True).encode()
    state.keep("report", "application/json", body)
    if report.fatal:
        rules = [f.rule_id for f in report.fatals()]
        raise ValidationFailed(
            f"{len(rules)} fatal finding(s): {', '.join(rules[:5])}", report=report
        )
    return {"fatal": 0, "warnings": len(report.warnings())}
