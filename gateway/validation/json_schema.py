"""JSON Schema (2020-12) validation against installed official artefacts.

A schema is located in the data home through the artefact manifest (hash-checked), compiled
once per process and reused (twice: a Rust gate for the common valid case, the reference
``jsonschema`` validator to explain an invalid document); :func:`check` returns one :class:`Finding` per error, located by
the JSON pointer of the offending member (``/consignmentItems/0/cargoItems/0/outerPackaging``)
and named by the keyword that failed (``json-schema.required``, ``json-schema.enum`` …).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError, best_match
from jsonschema.validators import validator_for

from gateway.artefacts import require_files
from gateway.errors import ArtefactError
from gateway.validation import rfc3339
from gateway.validation.report import Finding

MAX_FINDINGS = 200
"""Errors reported per document at most (a hostile document can have millions)."""


@dataclass(frozen=True, slots=True)
class CompiledSchema:
    """A schema compiled twice: a fast gate (``jsonschema_rs``, Rust) that says valid or not,
    and the reference validator (``jsonschema``) that explains an invalid document."""

    explain: Draft202012Validator
    gate: jsonschema_rs.Validator | None

    def passes_gate(self, instance: Any) -> bool:
        """Whether the gate vouches for ``instance`` (``False`` also when it cannot take it,
        e.g. a ``Decimal`` or a huge number: the reference validator decides then)."""
        if self.gate is None:
            return False
        try:
            return bool(self.gate.is_valid(instance))
        except (ValueError, TypeError, OverflowError):
            return False

    def first_error(self, instance: Any) -> ValidationError | None:
        """The most relevant error of ``instance`` (``jsonschema``'s best match), ``None``
        when valid. A difference between the engines can only cost time, never change the
        verdict: the reference validator decides whenever the gate does not pass."""
        if self.passes_gate(instance):
            return None
        found: ValidationError | None = best_match(self.explain.iter_errors(instance))
        return found


FormatCheck = Callable[[str], bool]
"""Whether a string has a ``format`` (e.g. :func:`gateway.validation.rfc3339.is_date_time`)."""


def compile_document(
    schema: dict[str, Any],
    *,
    formats: bool = True,
    checkers: Mapping[str, FormatCheck] | None = None,
) -> CompiledSchema:
    """Both validators of a parsed schema (its own draft, 2020-12 by default; ``formats``:
    check ``format`` keywords). ``checkers`` (with ``formats``) checks exactly these
    formats with these functions, in both engines, so they agree; other formats are then
    decided by the reference validator alone, which ignores them. Without ``checkers`` each
    engine checks the draft's formats, ``date-time`` and ``date`` by the same functions
    (:data:`gateway.validation.rfc3339.FORMATS`). Raises ``jsonschema.SchemaError`` for a
    broken schema."""
    cls = validator_for(schema, default=Draft202012Validator)
    cls.check_schema(schema)
    if checkers is None:
        checker = _with_dates(cls.FORMAT_CHECKER)
        own: dict[str, FormatCheck] = dict(rfc3339.FORMATS)
    else:
        checker, own = _format_checker(checkers), dict(checkers)
    explain = cast(Draft202012Validator, cls(schema, format_checker=checker if formats else None))
    try:
        gate = jsonschema_rs.validator_for(schema, validate_formats=formats, formats=own or None)
    except (ValueError, jsonschema_rs.ReferencingError):
        gate = None
    return CompiledSchema(explain, gate)


def _with_dates(default: FormatChecker) -> FormatChecker:
    """``default`` (the draft's own format checks) with ``date-time`` and ``date`` checked by
    :mod:`gateway.validation.rfc3339`: ``jsonschema``'s ``date-time`` needs an optional
    package and passes silently without it, while ``jsonschema_rs`` checks it, so the two
    engines disagreed on a bad date-time."""
    checker = FormatChecker(formats=())
    checker.checkers = dict(default.checkers)
    for name, check in rfc3339.FORMATS.items():
        checker.checks(name)(_strings_only(check))
    return checker


def _format_checker(checkers: Mapping[str, FormatCheck]) -> FormatChecker:
    """A ``jsonschema`` format checker of only ``checkers`` (non-strings pass, as the
    standard says formats apply to strings)."""
    checker = FormatChecker(formats=())
    for name, check in checkers.items():
        checker.checks(name)(_strings_only(check))
    return checker


def _strings_only(check: FormatCheck) -> Callable[[object], bool]:
    def checked(instance: object) -> bool:
        return not isinstance(instance, str) or check(instance)

    return checked


_COMPILED: dict[tuple[Path, str, str, str], CompiledSchema] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class SchemaRef:
    """One JSON Schema of an artefact set: ``set/version:path``."""

    set_name: str
    version: str
    path: str

    @property
    def label(self) -> str:
        """``set/version:path``, as validation reports list artefacts."""
        return f"{self.set_name}/{self.version}:{self.path}"


def compile_schema(path: Path) -> CompiledSchema:
    """Both validators of the schema file at ``path`` (formats checked), not cached."""
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
        return compile_document(schema)
    except (OSError, ValueError, SchemaError) as exc:
        raise ArtefactError(f"cannot read JSON schema {path}: {exc}") from exc


def compiled(ref: SchemaRef, home: Path) -> CompiledSchema:
    """The process's compiled validators for ``ref`` installed in ``home``."""
    key = (home.resolve(), ref.set_name, ref.version, ref.path)
    with _LOCK:
        found = _COMPILED.get(key)
        if found is None:
            (path,) = require_files(ref.set_name, ref.version, [ref.path], home)
            found = compile_schema(path)
            _COMPILED[key] = found
        return found


def pointer(parts: Iterable[Any]) -> str:
    """A JSON pointer (RFC 6901) from path parts; ``/`` for the document itself."""
    escaped = [str(p).replace("~", "~0").replace("/", "~1") for p in parts]
    return "/" + "/".join(escaped) if escaped else "/"


def findings_of(validator: Draft202012Validator, instance: Any, source: str) -> list[Finding]:
    """Every schema error of ``instance`` as a fatal finding, in document order."""
    found: list[Finding] = []
    for error in sorted(validator.iter_errors(instance), key=_order):
        found.append(_finding(error, source))
        if len(found) >= MAX_FINDINGS:
            break
    return found


def check(instance: Any, ref: SchemaRef, home: Path) -> list[Finding]:
    """Validate ``instance`` (already parsed JSON) against ``ref``; the findings.

    The Rust gate answers for a valid document (thousands of times faster on the large
    UN/CEFACT schema); an invalid one, or one the gate cannot take (e.g. a ``Decimal`` it
    does not convert), goes to the reference validator, whose findings are the answer."""
    schema = compiled(ref, home)
    if schema.passes_gate(instance):
        return []
    return findings_of(schema.explain, instance, ref.set_name)


def _order(error: ValidationError) -> tuple[str, str]:
    return (pointer(error.absolute_path), str(error.validator))


def _deepest(error: ValidationError) -> ValidationError:
    """For ``oneOf``/``anyOf`` failures, the innermost error that goes deepest into the
    document (it names a member rather than the whole object)."""
    candidates = [error]
    pending = list(error.context or ())
    while pending:
        inner = pending.pop()
        if inner.context:
            pending.extend(inner.context)
        else:
            candidates.append(inner)
    return max(candidates, key=lambda e: (len(e.absolute_path), e.validator != "type"))


def _finding(error: ValidationError, source: str) -> Finding:
    error = _deepest(error)
    where = pointer(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        message = error.message
    else:
        message = _short(error.message)
    return Finding(f"json-schema.{error.validator}", "fatal", where, message, source)


def _short(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"
