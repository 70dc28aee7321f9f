"""The validator of a command that validates a few documents and exits (``lingang validate``,
``lingang convert``), taken from the settings like every other command's."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from gateway.settings import Settings

if TYPE_CHECKING:
    from gateway.validation import Validator


def one_shot_validator(settings: Settings | None = None, *, rules: str | None = None) -> Validator:
    """The validator for the artefacts ``settings`` (default: :meth:`Settings.load`) name,
    Schematron in process unless the settings choose an engine; ``rules`` overrides which
    compiled form of the official rules runs."""
    from gateway.validation import one_shot_validator as in_process

    chosen = settings if settings is not None else Settings.load()
    options = chosen.validation if rules is None else replace(chosen.validation, rules=rules)
    return in_process(chosen.artefacts_home, options)
