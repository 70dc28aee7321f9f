"""Validation against the official artefacts only: XSD (lxml) and compiled Schematron (Saxon).

::

    from gateway.validation import Validator, validate_many

    validator = Validator.default(home, EngineOptions(engine="auto"))
    report = validator.validate(xml)                    # profile detected from the document
    report.fatal, report.fatals(), report.to_json(), report.to_text()
    reports = validate_many(docs, home, profile="bis3")  # spread over the cores

``home`` is the data directory holding the installed artefacts. Nothing here reads the
environment: the settings layer builds :class:`EngineOptions` and passes them down.
"""

from gateway.validation.engine import Validator, one_shot_validator
from gateway.validation.options import EngineOptions
from gateway.validation.pool import shutdown_pools, validate_many
from gateway.validation.profiles import ALL_PROFILES, PROFILES, detect_profile, document_type
from gateway.validation.report import Finding, ValidationReport

__all__ = [
    "ALL_PROFILES",
    "PROFILES",
    "EngineOptions",
    "Finding",
    "ValidationReport",
    "Validator",
    "detect_profile",
    "document_type",
    "one_shot_validator",
    "shutdown_pools",
    "validate_many",
]
