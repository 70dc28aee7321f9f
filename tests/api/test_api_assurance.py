"""How the document view reads "validated" and "signed" from a document's stage summaries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.api.routes.documents import _assurance
from gateway.store import Event


def event(*stages: dict[str, Any]) -> Event:
    return Event(1, "s", "queued", datetime.now(UTC), None, {"stages": list(stages)})


@pytest.mark.parametrize(
    ("stages", "validated", "signed"),
    [
        ((), None, None),
        (({"stage": "parse", "ok": True},), None, None),
        (({"stage": "validate", "ok": True, "skipped": True},), False, None),
        (
            ({"stage": "validate", "ok": True}, {"stage": "sign", "signed": "detached"}),
            True,
            "detached",
        ),
        (({"stage": "validate", "ok": False, "code": "validation"},), True, None),
        (({"stage": "validate", "ok": False, "code": "artefacts"},), None, None),
        (({"stage": "validate", "ok": True}, {"stage": "sign", "signed": False}), True, False),
    ],
    ids=["nothing", "not-reached", "off", "signed", "fatal", "broke", "signing-off"],
)
def test_assurance_from_stage_summaries(
    stages: tuple[dict[str, Any], ...], validated: bool | None, signed: object
) -> None:
    assert _assurance([event(*stages)]) == {"validated": validated, "signed": signed}
