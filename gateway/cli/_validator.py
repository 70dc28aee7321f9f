"""The validator of a command that validates a few documents and exits (``lingang validate``,
``lingang convert``), taken from the settings like every other command's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.settings import Settings

if TYPE_CHECKING:
    from gateway.validation import Validator


def one_shot_validator(settings: Settings | None = None) -> Validator:
    """The validator for the artefacts ``settings`` (default: :meth:`Settings.load`) name,
    Schematron in process unless the settings choose an engine."""
    from gateway.validation import one_shot_validator as in_process

    chosen = settings if settings is not None else Settings.load()
    return in_process(chosen.artefacts_home, chosen.validation)
