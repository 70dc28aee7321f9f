"""RFC 9457 problem details: every error the API returns is one of these.

A problem body is ``application/problem+json`` with ``type``, ``title``, ``status``,
``detail`` and ``instance``, plus ``errors`` — a list of ``{field, rule, message}`` naming what
was wrong; an error about a member of a JSON request body also has ``pointer``, its JSON
Pointer (RFC 6901: ``/documents/0/name``, array items counted from 0) into that body, as RFC
9457 3's example extension does. Handlers raise :class:`Problem` (or any :class:`~gateway.errors.LingangError`); the
middleware in :mod:`gateway.api.middleware` turns both, and aiohttp's own HTTP errors, into a
response. Nothing a client sends may produce a 5xx; an unexpected exception becomes a bare 500
problem with no internals in it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any

from aiohttp import web

from gateway.errors import (
    ArtefactError,
    DeliveryError,
    InputError,
    LingangError,
    MissingFactError,
    NotPermittedError,
    UnsafeInputError,
    ValidationFailed,
)
from gateway.store import ConflictError, NotFoundError

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:lingang:problem:"
"""Problem types are URNs: stable identifiers, not links a client is expected to fetch."""


@dataclass(frozen=True)
class FieldIssue:
    """One thing wrong with the request: which field, which rule, in words."""

    message: str
    field: str | None = None
    rule: str | None = None
    pointer: str | None = None
    """Where in the JSON request body (RFC 6901 JSON Pointer, ``""`` the whole body), when
    the issue is about a member of one."""

    def as_dict(self) -> dict[str, str]:
        out = {"message": self.message}
        if self.field:
            out["field"] = self.field
        if self.rule:
            out["rule"] = self.rule
        if self.pointer is not None:
            out["pointer"] = self.pointer
        return out


@dataclass
class Problem(Exception):
    """An HTTP problem a handler raises; rendered by the error middleware."""

    status: int
    code: str
    detail: str
    errors: list[FieldIssue] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase

    def body(self, instance: str | None) -> dict[str, Any]:
        """The problem as JSON data, ``instance`` being the request path (None: not known)."""
        out: dict[str, Any] = {
            "type": TYPE_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance is not None:
            out["instance"] = instance
        out["errors"] = [issue.as_dict() for issue in self.errors]
        out.update(self.extra)
        return out

    def pointing(self, locate: Callable[[FieldIssue], str | None]) -> Problem:
        """This problem with each issue's ``pointer`` set to what ``locate`` finds for it
        (issues it finds nothing for keep none)."""
        issues = [
            issue if issue.pointer is not None else replace(issue, pointer=locate(issue))
            for issue in self.errors
        ]
        return replace(self, errors=issues)

    def response(self, instance: str | None) -> web.Response:
        """The problem as an aiohttp response."""
        text = json.dumps(self.body(instance), ensure_ascii=False)
        return web.Response(
            status=self.status, text=text, content_type=PROBLEM_JSON, headers=self.headers
        )


def not_found(what: str = "resource") -> Problem:
    """A 404 that says nothing about whether the thing exists for someone else."""
    detail = f"no such {what}"
    return Problem(404, "not-found", detail, [FieldIssue(detail, "path", "not-found")])


RETRY_AFTER_SECONDS = "5"
"""``Retry-After`` of a 503 another attempt can get past (the store away, an engine
restarting; RFC 9110 10.2.3): the store's pool reconnects within seconds of its return."""


def status_for(exc: LingangError) -> int:
    """The HTTP status a domain error maps to.

    Input errors, missing facts and fatal findings are the client's to fix (422; a body over
    a size limit is 413). A store row that is not there is a 404, one in the wrong state a
    409; a caller that may not do what it asks, 403. Missing official artefacts, or any
    error that says another attempt can help (the store went away, an engine crashed), make
    the server unable to work now (503: try again).
    A 5xx problem never carries the error's message (it may name files or hosts); the log has
    it.
    """
    if isinstance(exc, UnsafeInputError) and exc.rule and "size" in exc.rule:
        return 413
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, NotPermittedError):
        return 403
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, InputError | MissingFactError | ValidationFailed):
        return 422
    if isinstance(exc, ArtefactError):
        return 503
    if isinstance(exc, DeliveryError):
        return 502
    if exc.retryable:
        return 503
    return 500


def from_lingang_error(exc: LingangError) -> Problem:
    """Translate a domain error into a problem naming its field and rule."""
    status = status_for(exc)
    if status == 500:
        return internal_error()
    if status > 500:
        again = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 and exc.retryable else {}
        return Problem(
            status, exc.code, "the gateway cannot handle this request now", headers=again
        )
    if status == 404:
        return not_found()
    issues = [FieldIssue(exc.message, exc.field, exc.rule)]
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationFailed):
        report = _report_json(exc.report)
        if report is not None:
            extra["report"] = report
            issues.extend(_report_issues(report))
    return Problem(status, exc.code, exc.message, issues, extra=extra)


def internal_error() -> Problem:
    """The only thing a client learns about a bug: that there was one."""
    return Problem(500, "internal", "the server failed to handle this request")


def from_http_exception(exc: web.HTTPException) -> Problem:
    """Translate aiohttp's own errors (404 no route, 405, 413, …) into a problem."""
    status = exc.status
    code = HTTPStatus(status).phrase.lower().replace(" ", "-") if status in _STATUSES else "http"
    detail = exc.text if exc.text and not exc.text.startswith(f"{status}:") else exc.reason
    headers = {k: v for k, v in exc.headers.items() if k.lower() in {"allow", "retry-after"}}
    detail = detail or HTTPStatus(status).phrase
    return Problem(status, code, detail, _http_issues(status, detail, headers), headers=headers)


def _http_issues(status: int, detail: str, headers: dict[str, str]) -> list[FieldIssue]:
    """What aiohttp's own 404 and 405 are about: the path, the method (and which it allows)."""
    if status == 404:
        return [FieldIssue("no such resource", "path", "not-found")]
    if status == 405:
        allowed = headers.get("Allow", "")
        message = f"this path allows {allowed}" if allowed else "this path allows no such method"
        return [FieldIssue(message, "method", "method-not-allowed")]
    return []


_STATUSES = {s.value for s in HTTPStatus}


def _report_json(report: Any) -> dict[str, Any] | None:
    to_json = getattr(report, "to_json", None)
    if to_json is None:
        return report if isinstance(report, dict) else None
    data = to_json()
    if isinstance(data, str):
        data = json.loads(data)
    return data if isinstance(data, dict) else None


def _report_issues(report: dict[str, Any]) -> list[FieldIssue]:
    """The fatal findings of a validation report (``ValidationReport.to_json()``)."""
    findings = report.get("findings")
    out = []
    for item in findings if isinstance(findings, list) else []:
        if isinstance(item, dict) and item.get("flag", "fatal") == "fatal":
            out.append(
                FieldIssue(
                    str(item.get("text", "")),
                    _opt_str(item.get("location")),
                    _opt_str(item.get("rule_id")),
                )
            )
    return out


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
