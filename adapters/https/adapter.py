"""POST each envelope to one configured URL, with mutual TLS and a detached body signature.

Options (the adapter's ``[adapters.<name>]`` table; paths relative to the data dir)::

    type = "https"
    url = "https://receiver.example.hk/inbox"   # required; http:// only with insecure = true
    ca = "partners/hk-ca.pem"                    # trust anchors for the server (default: system)
    client_cert = "keys/tls-client.pem"          # mutual TLS (both or neither)
    client_key = "keys/tls-client.key"
    timeout = 30                                  # seconds for the whole exchange
    connect_timeout = 10
    insecure = false                              # allow plain http (tests only)
    inbound_path = "/inbound/hk"                  # also receive here (see adapters.https.inbound)
    inbound_trust = "partners/hk-signer.pem"      # the sender's certificate (its JWS required)
    inbound_tenant = "<tenant id>"                # whose documents received ones are

Every request carries ``X-Lingang-Message-Id`` (stable across retries; the receiver drops
duplicates by it), ``Idempotency-Key`` (the same id), ``Content-Digest`` (RFC 9530) and, when
the gateway has a signing key, ``X-Lingang-Signature`` (a detached JWS over the body).

Outcomes: 2xx is a receipt (the response body kept as is); 429, 409 (the receiver is still
processing an earlier post of this ``Idempotency-Key``, e.g. one sent before a crash), 5xx,
connection errors, resets and timeouts are :class:`TransientDeliveryError` (after a 429 or
503, not retried before the receiver's ``Retry-After``); any other status is a
:class:`PermanentDeliveryError` naming it.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from cryptography import x509

from adapters.base import (
    ANSWERS_TO_RETRY,
    AdapterContext,
    BodySigner,
    Envelope,
    InboundRoute,
    Receipt,
)
from adapters.https.inbound import HttpsInbox, body_digest
from adapters.option_values import positive_number
from adapters.retry_after import asked_wait, waiting
from gateway.errors import ConfigError, PermanentDeliveryError, TransientDeliveryError
from gateway.signing.jws import MESSAGE_ID_HEADER, SIGNATURE_HEADER

log = logging.getLogger("lingang.adapters.https")


@dataclass(frozen=True, slots=True)
class HttpsOptions:
    """The adapter's validated options."""

    url: str
    ca: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    timeout: float = 30.0
    connect_timeout: float = 10.0
    insecure: bool = False
    inbound_path: str | None = None
    inbound_trust: Path | None = None
    inbound_tenant: str | None = None

    @classmethod
    def parse(cls, name: str, options: Mapping[str, Any], data_dir: Path) -> HttpsOptions:
        """Check the option table; :class:`ConfigError` names the bad option."""
        known = {
            "url",
            "ca",
            "client_cert",
            "client_key",
            "timeout",
            "connect_timeout",
            "insecure",
            "inbound_path",
            "inbound_trust",
            "inbound_tenant",
        }
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(
                f"adapter {name!r}: unknown options {unknown}", field=f"adapters.{name}"
            )
        url = str(options.get("url") or "")
        insecure = str(options.get("insecure", False)).lower() in {"1", "true", "yes"}
        scheme = urlsplit(url).scheme
        if scheme != "https" and not (scheme == "http" and insecure):
            raise ConfigError(
                f"adapter {name!r}: url must be https:// (got {url!r})",
                field=f"adapters.{name}.url",
            )

        def path(key: str) -> Path | None:
            raw = options.get(key)
            if not raw:
                return None
            candidate = Path(str(raw)).expanduser()
            return candidate if candidate.is_absolute() else data_dir / candidate

        parsed = cls(
            url=url,
            ca=path("ca"),
            client_cert=path("client_cert"),
            client_key=path("client_key"),
            timeout=positive_number(name, options, "timeout", 30.0),
            connect_timeout=positive_number(name, options, "connect_timeout", 10.0),
            insecure=insecure,
            inbound_path=_inbound_path(name, options.get("inbound_path")),
            inbound_trust=path("inbound_trust"),
            inbound_tenant=str(options["inbound_tenant"])
            if options.get("inbound_tenant")
            else None,
        )
        if parsed.inbound_path is not None and parsed.inbound_trust is None:
            log.warning(
                "adapter %r receives at %s from anyone: no inbound_trust names the sender's "
                "certificate, so no signature is required (unless a TLS proxy in front "
                "authenticates the sender)",
                name,
                parsed.inbound_path,
            )
        if (parsed.client_cert is None) != (parsed.client_key is None):
            raise ConfigError(
                f"adapter {name!r}: client_cert and client_key go together",
                field=f"adapters.{name}.client_cert",
            )
        return parsed

    def ssl_context(self) -> ssl.SSLContext:
        """Server verification against ``ca`` (or the system store) plus the client cert."""
        context = ssl.create_default_context(cafile=str(self.ca) if self.ca else None)
        if self.client_cert and self.client_key:
            context.load_cert_chain(str(self.client_cert), str(self.client_key))
        return context


def _inbound_path(name: str, raw: Any) -> str | None:
    if raw is None:
        return None
    text = str(raw)
    if not text.startswith("/") or text.startswith("/v1") or "{" in text:
        raise ConfigError(
            f"adapter {name!r}: inbound_path must be an absolute path outside /v1 (got {text!r})",
            field=f"adapters.{name}.inbound_path",
        )
    return text


class HttpsAdapter:
    """Delivers envelopes by HTTPS POST (one connection pool per adapter instance) and, with
    ``inbound_path``, receives them too (:class:`~adapters.https.inbound.HttpsInbox`)."""

    def __init__(
        self,
        name: str,
        options: HttpsOptions,
        *,
        signer: BodySigner | None = None,
        inbox: HttpsInbox | None = None,
    ):
        self.name = name
        self.options = options
        self.signer = signer
        self.inbox = inbox
        self._ssl = options.ssl_context() if urlsplit(options.url).scheme == "https" else None
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_config(
        cls, name: str, options: Mapping[str, Any], context: AdapterContext
    ) -> HttpsAdapter:
        """Build from the configuration table (see the module docstring)."""
        parsed = HttpsOptions.parse(name, options, context.data_dir)
        try:
            inbox = None
            if parsed.inbound_path is not None:
                trusted = (
                    x509.load_pem_x509_certificate(parsed.inbound_trust.read_bytes())
                    if parsed.inbound_trust is not None
                    else None
                )
                inbox = HttpsInbox(
                    channel=name,
                    sink=context.inbound,
                    max_bytes=context.max_body_bytes,
                    trusted=trusted,
                    tenant_id=parsed.inbound_tenant,
                )
            return cls(name, parsed, signer=context.body_signer, inbox=inbox)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise ConfigError(
                f"adapter {name!r}: cannot load its TLS or trust files: {exc}",
                field=f"adapters.{name}",
            ) from exc

    def endpoint_key(self, envelope: Envelope) -> str:
        """Every envelope goes to the one configured URL."""
        return self.options.url

    def inbound_routes(self) -> list[InboundRoute]:
        """``POST inbound_path`` when receiving is configured."""
        if self.inbox is None or self.options.inbound_path is None:
            return []
        return [InboundRoute("POST", self.options.inbound_path, self.inbox.handle)]

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(
                total=self.options.timeout, sock_connect=self.options.connect_timeout
            )
            connector = aiohttp.TCPConnector(ssl=self._ssl if self._ssl is not None else False)
            self._session = aiohttp.ClientSession(timeout=timeout, connector=connector)
        return self._session

    def headers_for(self, envelope: Envelope) -> dict[str, str]:
        """The request headers for one envelope."""
        digest = body_digest(envelope.body)
        headers = {
            "Content-Type": envelope.content_type,
            MESSAGE_ID_HEADER: envelope.message_id,
            "Idempotency-Key": envelope.message_id,
            "Content-Digest": f"sha-256=:{digest}:",
            "X-Lingang-Attempt": str(envelope.attempt),
        }
        for key, value in (
            ("X-Lingang-Submission-Id", envelope.submission_id),
            ("X-Lingang-Profile", envelope.profile),
            ("X-Lingang-Receiver", envelope.receiver),
            ("X-Lingang-Sender", envelope.sender),
        ):
            if value:
                headers[key] = value
        headers.update(envelope.headers)
        if self.signer is not None:
            headers[SIGNATURE_HEADER] = self.signer.sign_detached(envelope.body)
        return headers

    async def deliver(self, envelope: Envelope) -> Receipt:
        """POST the envelope; translate every failure to a transient or permanent error."""
        try:
            async with self._client().post(
                self.options.url, data=envelope.body, headers=self.headers_for(envelope)
            ) as response:
                body = await response.read()
                status = response.status
                content_type = response.headers.get("Content-Type", "")
                asked = asked_wait(status, response.headers)
        except TimeoutError as exc:
            raise TransientDeliveryError(
                f"{self.name}: timed out after {self.options.timeout}s"
            ) from exc
        except aiohttp.ClientSSLError as exc:
            raise TransientDeliveryError(f"{self.name}: TLS failure: {exc}", rule="tls") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise TransientDeliveryError(f"{self.name}: connection failed: {exc!r}") from exc
        return self._receipt(envelope, status, body, content_type, asked)

    def _receipt(
        self,
        envelope: Envelope,
        status: int,
        body: bytes,
        content_type: str,
        asked: float | None = None,
    ) -> Receipt:
        snippet = body[:200].decode("utf-8", "replace")
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
        details: dict[str, Any] = {"status": status}
        remote_id = ""
        duplicate = False
        if content_type.startswith("application/json"):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                remote_id = str(parsed.get("receipt_id", ""))
                duplicate = bool(parsed.get("duplicate", False))
                details["response"] = parsed
        return Receipt(
            message_id=envelope.message_id,
            adapter=self.name,
            remote_id=remote_id,
            duplicate=duplicate,
            body=body,
            content_type=content_type,
            details=details,
        )

    def certificates(self) -> dict[str, x509.Certificate]:
        """The client certificate of mutual TLS (``tls-client``), watched for expiry: the
        receiver refuses the handshake once it has expired. None without one, or when its
        file cannot be read now (sending reports that)."""
        if self.options.client_cert is None:
            return {}
        try:
            found = x509.load_pem_x509_certificates(self.options.client_cert.read_bytes())
        except (OSError, ValueError):
            return {}
        return {"tls-client": found[0]}

    async def ping(self) -> bool:
        """Whether the receiver answers HTTP at all (any status counts)."""
        try:
            async with self._client().head(
                self.options.url, timeout=aiohttp.ClientTimeout(total=5)
            ) as response:
                return response.status < 600
        except (aiohttp.ClientError, OSError, TimeoutError):
            return False

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
