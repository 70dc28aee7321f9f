"""What ``lingang ebl validate`` and ``lingang ebl convert`` share: the data home, and the
translation of a missing artefact into a usage error naming the install command."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from gateway.cli._io import UsageError
from gateway.errors import ArtefactError
from gateway.settings import HOME_ENV, Settings

T = TypeVar("T")


def artefacts_home() -> Path:
    """Where the official artefacts are installed (settings, else ``$LINGANG_HOME``)."""
    return Settings.load().artefacts_home


def with_artefacts(work: Callable[[], T], home: Path) -> T:
    """Run ``work``; a missing or corrupt artefact becomes a :class:`UsageError` (exit 2)."""
    try:
        return work()
    except ArtefactError as exc:
        raise UsageError(
            f"{exc.message}\nthe data home is {home} (${HOME_ENV}, else ~/.lingang); "
            "install the artefacts with: lingang artefacts import ../shared/reference"
        ) from exc
