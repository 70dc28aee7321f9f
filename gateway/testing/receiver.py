"""A local receiving endpoint for the demo, the tests and the benchmark.

An aiohttp server (HTTPS when given an ``ssl.SSLContext``) that accepts ``POST /inbox``,
counts deliveries by ``X-Lingang-Message-Id``, answers duplicates with the first receipt, and
returns a small receipt signed with an HMAC ("signed-ish": enough to show a receipt is kept).
It can be told to misbehave — answer 500, reset the connection, hang past the client's
timeout, or reject with 400 — to exercise the outbox.

    receiver = Receiver(ssl_context=server_ctx, verify_key=gateway_public_key)
    await receiver.start()           # binds 127.0.0.1:<free port>
    receiver.url                     # https://127.0.0.1:PORT/inbox
    receiver.fail_next(5, "500")     # the next 5 posts answer HTTP 500
    receiver.retry_after = "120"     # ... and a 429 or 503 says Retry-After: 120
    receiver.set_mode("reset")       # every post resets until set_mode("ok")
    receiver.accepted                # {message_id: body sha256}
    receiver.counts                  # {message_id: posts that reached the handler}
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import ssl
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from gateway.errors import VerificationError
from gateway.signing.jws import MESSAGE_ID_HEADER, SIGNATURE_HEADER, verify_detached

MODES = ("ok", "500", "503", "429", "409", "reset", "timeout", "400")
"""How the receiver answers: normally, or with one kind of failure."""


@dataclass(slots=True)
class Receiver:
    """The local receiving endpoint (see the module docstring)."""

    ssl_context: ssl.SSLContext | None = None
    verify_key: Any = None
    """Public key to check ``X-Lingang-Signature`` with (``None``: not checked)."""
    host: str = "127.0.0.1"
    port: int = 0
    hang_seconds: float = 60.0
    retry_after: str | None = None
    """The ``Retry-After`` sent with a 429 or 503 answer (``None``: none)."""
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    accepted: dict[str, str] = field(default_factory=dict)
    submissions: dict[str, str] = field(default_factory=dict)
    """Accepted message id → the gateway's submission id (``X-Lingang-Submission-Id``)."""
    accepted_at: dict[str, float] = field(default_factory=dict)
    """Accepted message id → wall-clock time (``time.time()``) of its first acceptance."""
    receipts: dict[str, dict[str, Any]] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    mode: str = "ok"
    on_accepted: Callable[[str], Awaitable[None]] | None = None
    """Awaited with the message id once a new message is recorded as accepted, before its
    answer is sent (a crash test kills the sender there: the peer has it, the sender does not
    know)."""
    on_answered: Callable[[str], Awaitable[None]] | None = None
    """Awaited with the message id once the answer to a new message is written out (a crash
    test kills the sender there: answered, its receipt maybe not stored yet)."""
    _queue: deque[str] = field(default_factory=deque)
    _runner: web.AppRunner | None = None
    _delivered: asyncio.Event | None = None

    @property
    def url(self) -> str:
        """The inbox URL (after :meth:`start`)."""
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.host}:{self.port}/inbox"

    def set_mode(self, mode: str) -> None:
        """Answer every later post this way until changed (one of :data:`MODES`)."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode

    def fail_next(self, count: int, mode: str) -> None:
        """Answer the next ``count`` posts with ``mode``, then go back to the current mode."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self._queue.extend([mode] * count)

    def app(self) -> web.Application:
        """The aiohttp application (``POST /inbox``, ``HEAD /inbox``, ``GET /stats``)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/inbox", self._inbox)
        app.router.add_route("HEAD", "/inbox", self._head)
        app.router.add_get("/stats", self._stats)
        return app

    async def start(self) -> None:
        """Bind and serve on ``host:port`` (port 0: a free one, then stored in ``port``)."""
        self._runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.ssl_context)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` distinct messages were accepted (``False`` on timeout)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.accepted) < count:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    def stats(self) -> dict[str, Any]:
        """Counters as data."""
        return {
            "accepted": len(self.accepted),
            "posts": sum(self.counts.values()),
            "duplicates": sum(self.duplicates.values()),
            "failures": dict(self.failures),
        }

    async def _head(self, request: web.Request) -> web.Response:
        return web.Response(status=200)

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _inbox(self, request: web.Request) -> web.StreamResponse:
        mode = self._queue.popleft() if self._queue else self.mode
        if mode != "ok":
            self.failures[mode] += 1
            return await self._misbehave(request, mode)
        message_id = request.headers.get(MESSAGE_ID_HEADER, "")
        if not message_id:
            return _problem(400, "missing message id header")
        body = await request.read()
        sha256 = hashlib.sha256(body).digest()
        problem = self._check(request, body, sha256)
        if problem is not None:
            return problem
        self.counts[message_id] += 1
        if message_id in self.accepted:
            self.duplicates[message_id] += 1
            return web.json_response({**self.receipts[message_id], "duplicate": True})
        digest = sha256.hex()
        self.accepted[message_id] = digest
        self.submissions[message_id] = request.headers.get("X-Lingang-Submission-Id", "")
        self.accepted_at[message_id] = time.time()
        receipt = self._receipt(message_id, digest)
        self.receipts[message_id] = receipt
        if self.on_accepted is not None:
            await self.on_accepted(message_id)
        response = web.json_response(receipt)
        if self.on_answered is not None:
            await response.prepare(request)
            await response.write_eof()
            await self.on_answered(message_id)
        return response

    def _check(self, request: web.Request, body: bytes, sha256: bytes) -> web.Response | None:
        """A problem response when the body's ``Content-Digest`` (``sha256``: the body's
        digest, computed once per post) or its detached JWS does not check out."""
        declared = request.headers.get("Content-Digest", "")
        if declared:
            actual = base64.b64encode(sha256).decode("ascii")
            if declared != f"sha-256=:{actual}:":
                return _problem(400, "Content-Digest does not match the body")
        if self.verify_key is not None:
            token = request.headers.get(SIGNATURE_HEADER, "")
            try:
                verify_detached(token, body, self.verify_key)
            except VerificationError as exc:
                return _problem(401, f"signature: {exc}")
        return None

    def _receipt(self, message_id: str, digest: str) -> dict[str, Any]:
        received = datetime.now(UTC).isoformat()
        text = f"{message_id}|{digest}|{received}".encode()
        return {
            "receipt_id": secrets.token_hex(8),
            "message_id": message_id,
            "sha256": digest,
            "received_at": received,
            "duplicate": False,
            "mac": hmac.new(self.secret, text, hashlib.sha256).hexdigest(),
        }

    async def _misbehave(self, request: web.Request, mode: str) -> web.StreamResponse:
        if mode == "reset":
            transport = request.transport
            if transport is not None:
                transport.abort()
            return web.Response(status=500)
        if mode == "timeout":
            await asyncio.sleep(self.hang_seconds)
            return _problem(503, "too slow")
        status = {"500": 500, "503": 503, "429": 429, "409": 409, "400": 400}[mode]
        answer = _problem(status, f"receiver told to answer {status}")
        if status in (429, 503) and self.retry_after is not None:
            answer.headers["Retry-After"] = self.retry_after
        return answer


def _problem(status: int, detail: str) -> web.Response:
    return web.json_response({"status": status, "detail": detail}, status=status)
