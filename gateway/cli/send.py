"""``lingang send``: hand documents to a running gateway over its HTTP API, and follow them.

Each FILE becomes one ``POST /v1/documents`` (the API's own checks decide; nothing is stored
when it refuses), with an ``Idempotency-Key`` made from the file's bytes and the metadata
given, so sending the same file again returns the first submission instead of a second one
(for as long as the gateway remembers keys, ``[limits] idempotency_hours``: a week by
default; after that the same file is a new submission, which the gateway refuses as
``already-sent`` when it is a fapiao it sent already). ``--resend`` sends such a fapiao again
on purpose (``resend=true``, a new key).
``--wait SECONDS`` then follows each submission until it is delivered (or converted, for an
eBL with no delivery target), rejected, failed, dead-lettered, held by the export gate or
refused, and prints its last state with the reason the gateway recorded.

The API key comes from ``$LINGANG_API_KEY`` or ``--key-file`` (never from the command line,
where other users of the machine could read it); the server from ``--server`` or
``$LINGANG_SERVER`` (default ``http://127.0.0.1:8080``). Exit codes: 0 every document
accepted (with ``--wait``: delivered or converted), 1 a document refused or, with ``--wait``,
not delivered in time or ended otherwise, or a server that cannot be reached (as every
command answers a store or server it cannot use), 2 a usage error (a bad option or URL, no
API key, a file that is not there).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.cli._io import EXIT_REJECTED, UsageError
from gateway.ingest.bundle import ZIP_MAGIC
from gateway.ingest.source import FileTooLarge, read_bounded_file
from gateway.ingest.textenc import head_text
from gateway.jobs.submissions import SubmissionState

DEFAULT_SERVER = "http://127.0.0.1:8080"
MAX_FILE_BYTES = 64 * 1024 * 1024
"""Larger files are refused before they are read (the server's own limit is lower)."""
MEDIA_TYPES = {
    ".xml": "application/xml",
    ".ofd": "application/ofd",
    ".zip": "application/zip",
    ".json": "application/json",
}
DONE = frozenset({SubmissionState.DELIVERED, SubmissionState.CONVERTED})
ENDED = DONE | {
    SubmissionState.REJECTED,
    SubmissionState.FAILED,
    SubmissionState.DEAD,
    SubmissionState.HELD,
    SubmissionState.REFUSED,
}
"""States ``--wait`` stops at: a held document waits for a person, not for the gateway."""
POLL_SECONDS = 0.5


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "send",
        help="send documents to a running gateway (its HTTP API) and follow them",
        description="Submit each FILE (fapiao XML/OFD/JSON, or an eBL with --kind ebl) to "
        "POST /v1/documents of a running gateway; with --wait, follow each to its end. The "
        "API key is read from $LINGANG_API_KEY or --key-file. Exit codes: 0 every "
        "document accepted (with --wait: delivered or converted), 1 a document refused or "
        "not delivered, or the gateway cannot be reached, 2 a usage error.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument(
        "--server",
        default=os.environ.get("LINGANG_SERVER", DEFAULT_SERVER),
        help=f"the gateway's base URL (default: $LINGANG_SERVER or {DEFAULT_SERVER})",
    )
    parser.add_argument(
        "--key-file", type=Path, help="a file holding the API key (default: $LINGANG_API_KEY)"
    )
    parser.add_argument("--cacert", type=Path, help="CA certificate(s) for an https server")
    parser.add_argument("--recipient", help="the buyer's endpoint 'scheme:value' (checked)")
    parser.add_argument("--profile", help="output profile (e.g. pint-sg, bis3)")
    parser.add_argument("--kind", choices=("invoice", "ebl"), help="default: invoice")
    parser.add_argument(
        "--meta",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="more submission metadata (exchange_rate, currency, order_reference, ...)",
    )
    parser.add_argument(
        "--idempotency-key", help="the key of a single FILE (default: from its bytes and metadata)"
    )
    parser.add_argument(
        "--resend",
        action="store_true",
        help="send a fapiao this tenant has sent already again, on purpose (resend=true); "
        "without it the gateway refuses it (already-sent) and names the earlier submission",
    )
    parser.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        help="follow each submission until it ends, for at most SECONDS in all",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per file")
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status and the JSON body (``{}`` when it had none)."""

    status: int
    body: dict[str, Any]


class Client:
    """The few API calls ``send`` makes, with one key, over ``urllib``."""

    def __init__(self, server: str, key: str, cacert: Path | None) -> None:
        parts = urllib.parse.urlsplit(server)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"--server must be an http(s) URL, not {server!r}")
        self.base = server.rstrip("/")
        self.key = key
        self.context = ssl.create_default_context(cafile=str(cacert) if cacert else None)

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        request = urllib.request.Request(
            self.base + path,
            data=body,
            method=method,
            headers={"Authorization": f"Bearer {self.key}", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=60) as response:
                return Answer(response.status, _json(response.read()))
        except urllib.error.HTTPError as error:
            return Answer(error.code, _json(error.read()))
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise UsageError(
                f"cannot reach the gateway at {self.base}: {reason}", EXIT_REJECTED
            ) from error


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {"detail": raw[:200].decode("utf-8", "replace")}
    return value if isinstance(value, dict) else {}


def run(args: argparse.Namespace) -> int:
    metadata = _metadata(args)
    if args.idempotency_key and len(args.files) > 1:
        raise UsageError("--idempotency-key names one submission: give one FILE with it")
    client = Client(args.server, _api_key(args.key_file), args.cacert)
    documents = [(path, _read(path)) for path in args.files]
    deadline = None if args.wait is None else time.monotonic() + args.wait
    failed = False
    for path, body in documents:
        key = args.idempotency_key or _idempotency_key(body, metadata)
        outcome = _submit(client, path, body, metadata, key)
        if outcome.get("id") and deadline is not None:
            outcome = _follow(client, outcome, deadline)
        ok = _succeeded(outcome, waited=deadline is not None)
        failed |= not ok
        _print(outcome, args.json, ok)
    return 1 if failed else 0


def _metadata(args: argparse.Namespace) -> dict[str, str]:
    metadata: dict[str, str] = {}
    for item in args.meta:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--meta takes KEY=VALUE, not {item!r}")
        metadata[name.strip()] = value
    for name in ("recipient", "profile", "kind"):
        value = getattr(args, name)
        if value is not None:
            metadata[name] = value
    if args.resend:
        metadata["resend"] = "true"
    return metadata


def _api_key(key_file: Path | None) -> str:
    if key_file is not None:
        key = key_file.read_text(encoding="utf-8").strip()
    else:
        key = os.environ.get("LINGANG_API_KEY", "").strip()
    if not key:
        raise UsageError("no API key: set LINGANG_API_KEY or give --key-file")
    return key


def _read(path: Path) -> bytes:
    try:
        return read_bounded_file(path, MAX_FILE_BYTES)
    except FileTooLarge as exc:
        raise UsageError(f"{path} is larger than {MAX_FILE_BYTES} bytes") from exc


def _idempotency_key(body: bytes, metadata: dict[str, str]) -> str:
    """The same bytes sent with the same metadata are the same submission."""
    digest = hashlib.sha256(body)
    digest.update(json.dumps(metadata, sort_keys=True).encode("utf-8"))
    return "lingang-send-" + digest.hexdigest()[:48]


def media_type(path: Path, body: bytes) -> str:
    """The Content-Type to send: by the file's suffix, else by its first bytes as the
    gateway's own detection reads them (a zip signature, markup or JSON after a BOM or
    blanks); the server decides the format from the bytes in any case."""
    known = MEDIA_TYPES.get(path.suffix.lower())
    if known is not None:
        return known
    if body.startswith(ZIP_MAGIC):
        return "application/zip"
    head = head_text(body)
    if head.startswith("<"):
        return "application/xml"
    if head.startswith(("{", "[")):
        return "application/json"
    return "application/octet-stream"


def _submit(
    client: Client, path: Path, body: bytes, metadata: dict[str, str], key: str
) -> dict[str, Any]:
    query = urllib.parse.urlencode({**metadata, "filename": path.name})
    headers = {"Content-Type": media_type(path, body), "Idempotency-Key": key}
    answer = client.call("POST", f"/v1/documents?{query}", body, headers)
    outcome: dict[str, Any] = {"file": str(path), "http": answer.status}
    if answer.status in (200, 202):
        outcome.update(id=answer.body.get("id"), status=answer.body.get("status"))
        outcome["replayed"] = answer.status == 200
    else:
        outcome.update(status="refused-by-api", problem=_problem(answer.body))
    return outcome


def _problem(body: dict[str, Any]) -> str:
    """A problem's detail with the first field and rule it names."""
    detail = str(body.get("detail") or body.get("title") or "refused")
    issues = body.get("errors") or []
    if isinstance(issues, list) and issues and isinstance(issues[0], dict):
        first = issues[0]
        where = [str(first[k]) for k in ("field", "rule") if first.get(k)]
        if where:
            detail += f" [{' / '.join(where)}]"
    return detail


def _follow(client: Client, outcome: dict[str, Any], deadline: float) -> dict[str, Any]:
    """Poll the submission until it ends or the deadline passes; add its last state and
    the reason recorded with it."""
    path = f"/v1/documents/{urllib.parse.quote(str(outcome['id']))}"
    while True:
        answer = client.call("GET", path)
        if answer.status != 200:
            return {**outcome, "status": "unknown", "problem": _problem(answer.body)}
        state = str(answer.body.get("status", ""))
        if state in ENDED:
            return {**outcome, "status": state, **_reason(answer.body)}
        if time.monotonic() >= deadline:
            return {**outcome, "status": state, "timed_out": True}
        _sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))


_sleep: Callable[[float], None] = time.sleep


def _reason(document: dict[str, Any]) -> dict[str, Any]:
    history = document.get("history") or []
    if isinstance(history, list) and history and isinstance(history[-1], dict):
        reason = history[-1].get("reason")
        if reason:
            return {"reason": str(reason)}
    return {}


def _succeeded(outcome: dict[str, Any], *, waited: bool) -> bool:
    if outcome.get("id") is None:
        return False
    return outcome.get("status") in DONE if waited else True


def _print(outcome: dict[str, Any], as_json: bool, ok: bool) -> None:
    """One line per file: on stdout when it went as asked, else on stderr (JSON: stdout)."""
    if as_json:
        print(json.dumps(outcome, ensure_ascii=False))
        return
    line = f"{outcome['file']}: {outcome.get('status')}"
    if outcome.get("id"):
        line += f" ({outcome['id']}{', sent before' if outcome.get('replayed') else ''})"
    if outcome.get("timed_out"):
        line += ", still going when --wait ended"
    for extra in ("reason", "problem"):
        if outcome.get(extra):
            line += f": {outcome[extra]}"
    print(line, file=sys.stdout if ok else sys.stderr)
