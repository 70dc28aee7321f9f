"""POST each envelope to the local system's webhook as JSON, signed with a shared secret.

Options (the adapter's ``[adapters.<name>]`` table; paths relative to the data dir)::

    type = "webhook"
    url = "https://erp.example.cn/lingang/documents"   # required; http:// only with insecure
    secret_file = "keys/webhook.secret"                 # required: the shared HMAC secret
    ca = "tls/erp-ca.pem"                               # trust anchors (default: system)
    client_cert = "tls/client.pem"                      # mutual TLS (both or neither)
    client_key = "tls/client.key"
    timeout = 30
    insecure = false                                    # allow plain http (tests only)

**The request.** ``Content-Type: application/json``; the body is one JSON object::

    {"event": "document", "message_id": "...", "submission_id": "...", "tenant_id": "...",
     "sender": "0195:...", "receiver": "0088:...", "profile": "pint-sg",
     "document_kind": "Invoice", "filename": "...", "attempt": 1,
     "document": {"content_type": "application/xml", "base64": "<the original bytes>"},
     "canonical": {...the canonical invoice, when the gateway could read it...},
     "attachments": {"readable": "<base64>", ...}}

``submission_id`` is the gateway's id of the document: for a received document handed on to
the local system, its id under ``/v1/received/{id}`` (verdict, validation report, receipts).

**The signature header** (the local system must check it)::

    X-Lingang-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

computed over the exact body bytes; a receiver recomputes it with the shared secret, compares
in constant time and refuses a ``t`` more than five minutes away from its clock (a replay).
:func:`verify_signature` does exactly that. ``X-Lingang-Message-Id`` and ``Idempotency-Key``
carry the stable message id (the same on every retry): the local system drops duplicates by it
and may answer ``{"duplicate": true}``.

Outcomes: 2xx is a receipt; 429, 409 (the local system is still processing an earlier post
of this ``Idempotency-Key``), 5xx, connection errors and timeouts are
:class:`TransientDeliveryError` (retried, then dead-lettered; after a 429 or 503 not before
the local system's ``Retry-After``); any other status is a :class:`PermanentDeliveryError`.

**Order.** Each document is POSTed by its own job, several at a time, each retried on its
own: documents may arrive in another order than they were received (one retried after a 503
comes after later ones), and a document may come again after a crash or retry (same
``Idempotency-Key``). The local system orders by the documents' own dates and drops repeats.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from adapters.base import ANSWERS_TO_RETRY, AdapterContext, Envelope, Receipt
from adapters.https.adapter import HttpsOptions
from adapters.retry_after import asked_wait, waiting
from gateway.errors import ConfigError, PermanentDeliveryError, TransientDeliveryError
from gateway.signing.jws import MESSAGE_ID_HEADER

SIGNATURE_HEADER = "X-Lingang-Webhook-Signature"
TOLERANCE_SECONDS = 300
_TLS_OPTIONS = ("url", "ca", "client_cert", "client_key", "timeout", "connect_timeout", "insecure")


def sign_body(secret: bytes, body: bytes, timestamp: int) -> str:
    """The signature header's value for ``body`` at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(
    secret: bytes, header: str, body: bytes, *, now: float, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """Whether ``header`` is a valid signature of ``body`` made within ``tolerance`` seconds
    of ``now`` (what a local system runs on every request)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign_body(secret, body, timestamp).partition(",v1=")[2]
    return hmac.compare_digest(expected, parts.get("v1", ""))


@dataclass(frozen=True, slots=True)
class WebhookOptions:
    """The adapter's validated options: the https options plus the secret."""

    https: HttpsOptions
    secret: bytes

    @classmethod
    def parse(cls, name: str, options: Mapping[str, Any], data_dir: Path) -> WebhookOptions:
        """Check the option table; :class:`ConfigError` names the bad option."""
        unknown = sorted(set(options) - {*_TLS_OPTIONS, "secret_file"})
        if unknown:
            raise ConfigError(
                f"adapter {name!r}: unknown options {unknown}", field=f"adapters.{name}"
            )
        raw = options.get("secret_file")
        if not raw:
            raise ConfigError(
                f"adapter {name!r}: secret_file is required (the shared HMAC secret)",
                field=f"adapters.{name}.secret_file",
            )
        path = Path(str(raw)).expanduser()
        path = path if path.is_absolute() else data_dir / path
        try:
            secret = path.read_bytes().strip()
        except OSError as exc:
            raise ConfigError(
                f"adapter {name!r}: cannot read secret_file {path}: {exc.strerror or exc}",
                field=f"adapters.{name}.secret_file",
            ) from exc
        if len(secret) < 16:
            raise ConfigError(
                f"adapter {name!r}: the secret in {path} is shorter than 16 bytes",
                field=f"adapters.{name}.secret_file",
            )
        https = HttpsOptions.parse(
            name, {k: v for k, v in options.items() if k in _TLS_OPTIONS}, data_dir
        )
        return cls(https, secret)


class WebhookAdapter:
    """Hands documents to the local system by a signed JSON POST."""

    def __init__(self, name: str, options: WebhookOptions) -> None:
        self.name = name
        self.options = options
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_config(
        cls, name: str, options: Mapping[str, Any], context: AdapterContext
    ) -> WebhookAdapter:
        """Build from the configuration table (see the module docstring)."""
        parsed = WebhookOptions.parse(name, options, context.data_dir)
        try:
            parsed.https.ssl_context()
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"adapter {name!r}: cannot load its TLS files: {exc}", field=f"adapters.{name}"
            ) from exc
        return cls(name, parsed)

    def endpoint_key(self, envelope: Envelope) -> str:
        """Every envelope goes to the one configured URL."""
        return self.options.https.url

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            https = self.options.https
            timeout = aiohttp.ClientTimeout(total=https.timeout, sock_connect=https.connect_timeout)
            secure = https.url.startswith("https:")
            connector = aiohttp.TCPConnector(ssl=https.ssl_context() if secure else False)
            self._session = aiohttp.ClientSession(timeout=timeout, connector=connector)
        return self._session

    def body_for(self, envelope: Envelope) -> bytes:
        """The JSON body of one envelope."""
        attachments = dict(envelope.attachments)
        canonical: Any = None
        if "canonical" in attachments:
            try:
                canonical = json.loads(attachments.pop("canonical"))
            except ValueError:
                canonical = None
        data = {
            "event": "document",
            "message_id": envelope.message_id,
            "submission_id": envelope.submission_id,
            "tenant_id": envelope.tenant_id,
            "sender": envelope.sender,
            "receiver": envelope.receiver,
            "profile": envelope.profile,
            "document_kind": envelope.document_kind,
            "filename": envelope.filename,
            "attempt": envelope.attempt,
            "document": {
                "content_type": envelope.content_type,
                "base64": base64.b64encode(envelope.body).decode("ascii"),
            },
            "canonical": canonical,
            "attachments": {
                kind: base64.b64encode(data).decode("ascii") for kind, data in attachments.items()
            },
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")

    async def deliver(self, envelope: Envelope) -> Receipt:
        """POST the JSON; translate every failure to a transient or permanent error."""
        body = self.body_for(envelope)
        headers = {
            "Content-Type": "application/json",
            MESSAGE_ID_HEADER: envelope.message_id,
            "Idempotency-Key": envelope.message_id,
            SIGNATURE_HEADER: sign_body(self.options.secret, body, int(time.time())),
        }
        url = self.options.https.url
        try:
            async with self._client().post(url, data=body, headers=headers) as response:
                answer = await response.read()
                status = response.status
                content_type = response.headers.get("Content-Type", "")
                asked = asked_wait(status, response.headers)
        except TimeoutError as exc:
            raise TransientDeliveryError(f"{self.name}: timed out") from exc
        except aiohttp.ClientSSLError as exc:
            raise TransientDeliveryError(f"{self.name}: TLS failure: {exc}", rule="tls") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise TransientDeliveryError(f"{self.name}: connection failed: {exc!r}") from exc
        snippet = answer[:200].decode("utf-8", "replace")
        if status in ANSWERS_TO_RETRY or status >= 500:
            raise TransientDeliveryError(
                f"{self.name}: HTTP {status}{waiting(asked)} {snippet}".strip(),
                rule=f"http.{status}",
                retry_after=asked,
            )
        if not 200 <= status < 300:
            raise PermanentDeliveryError(
                f"{self.name}: rejected with HTTP {status} {snippet}".strip(), rule=f"http.{status}"
            )
        duplicate = False
        remote_id = ""
        if content_type.startswith("application/json"):
            try:
                parsed = json.loads(answer)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                duplicate = bool(parsed.get("duplicate", False))
                remote_id = str(parsed.get("receipt_id", ""))
        return Receipt(
            message_id=envelope.message_id,
            adapter=self.name,
            remote_id=remote_id,
            duplicate=duplicate,
            body=answer,
            content_type=content_type,
            details={"status": status},
        )

    async def ping(self) -> bool:
        """Whether the local system answers HTTP at all."""
        try:
            async with self._client().head(
                self.options.https.url, timeout=aiohttp.ClientTimeout(total=5)
            ) as response:
                return response.status < 600
        except (aiohttp.ClientError, OSError, TimeoutError):
            return False

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
