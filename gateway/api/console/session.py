"""Console sessions: a signed cookie after sign-in with the tenant's API key, and CSRF tokens.

The cookie holds the tenant id, the SHA-256 of the key signed in with (never the key), a
random nonce and the expiry, signed with HMAC-SHA256 under the console's secret. Every
request checks the signature and the expiry and looks the key hash up again, so a revoked
key or a deleted tenant ends its sessions at once. Signing out records the nonce in the store
(:meth:`~gateway.store.console.ConsoleStore.sign_out`) until the session would have expired,
and every request asks whether its nonce was signed out, so a signed-out cookie stays dead
after a restart and on every replica (sessions are otherwise stateless; with several
replicas, give them one ``[console] session_secret``).

A session also ends after :attr:`SessionKeeper.idle` seconds without a request (``[console]
idle_minutes``, OWASP ASVS 3.3.2): the cookie carries the time of the session's last request,
and :func:`gateway.api.console.middleware.refresh_session` (the console's ``on_response_prepare`` signal) writes it anew at
most every :data:`REFRESH_SECONDS`; the nonce, so the CSRF token, and the absolute expiry stay.

The cookie is ``HttpOnly``, ``SameSite=Strict`` and ``Secure`` when the request came over TLS.
Every form carries a CSRF token derived from the session nonce (the sign-in form: from a
short-lived pre-session cookie); a POST without the right token is refused (403).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, replace

from aiohttp import web

SESSION_COOKIE = "lingang_session"
SIGNIN_COOKIE = "lingang_signin"
LANGUAGE_COOKIE = "lingang_lang"
CSRF_FIELD = "csrf"
SIGNIN_SECONDS = 900
"""How long a sign-in form stays usable."""
DEFAULT_IDLE_SECONDS = 1800
"""A session without a request for this long has ended (ASVS 3.3.2, level 2: 30 minutes)."""
REFRESH_SECONDS = 60
"""A session's cookie is rewritten (its last request moved on) at most this often."""


def now() -> float:
    """The time sessions are checked against (Unix seconds)."""
    return time.time()


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in console session."""

    tenant_id: str
    key_hash: str
    nonce: str
    expires: int
    seen: int
    """When the session's last request came (Unix seconds, as of the cookie)."""


class SessionKeeper:
    """Issues and checks session cookies and CSRF tokens under one secret."""

    def __init__(
        self, secret: bytes, *, lifetime_seconds: int, idle_seconds: int = DEFAULT_IDLE_SECONDS
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the console session secret must be at least 16 bytes")
        self.secret = secret
        self.lifetime = lifetime_seconds
        self.idle = idle_seconds

    def _mac(self, purpose: str, value: str) -> str:
        # surrogatepass: a cookie's raw bytes reach us as surrogate escapes; they get a MAC
        # like any text (one that never matches), not a UnicodeEncodeError
        message = f"{purpose}|{value}".encode("utf-8", "surrogatepass")
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    # -- sessions ----------------------------------------------------------------

    def start(
        self, response: web.StreamResponse, request: web.Request, tenant_id: str, key_hash: str
    ) -> Session:
        """A new session for ``tenant_id`` (a fresh nonce: never one the browser brought),
        its cookie set on ``response``."""
        moment = int(now())
        session = Session(
            tenant_id, key_hash, secrets.token_urlsafe(18), moment + self.lifetime, moment
        )
        self._write(response, request, session)
        return session

    def touch(self, response: web.StreamResponse, request: web.Request, session: Session) -> None:
        """Move the session's last request to now on ``response``'s cookie, when it was
        written more than :data:`REFRESH_SECONDS` ago."""
        moment = int(now())
        if moment - session.seen >= REFRESH_SECONDS and session.expires > moment:
            self._write(response, request, replace(session, seen=moment))

    def _write(self, response: web.StreamResponse, request: web.Request, session: Session) -> None:
        payload = json.dumps(
            {
                "t": session.tenant_id,
                "k": session.key_hash,
                "n": session.nonce,
                "e": session.expires,
                "s": session.seen,
            },
            separators=(",", ":"),
        )
        encoded = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        value = f"{encoded}.{self._mac('session', encoded)}"
        max_age = max(session.expires - int(now()), 0)
        set_cookie(response, request, SESSION_COOKIE, value, max_age=max_age)

    def read(self, request: web.Request) -> Session | None:
        """The request's session if its cookie is genuine, unexpired and not idle for longer
        than :attr:`idle` (whether it was signed out is the store's to say: the middleware
        asks it). A cookie without its last request (issued before idle limits) has ended."""
        value = request.cookies.get(SESSION_COOKIE, "")
        encoded, _, mac = value.partition(".")
        if not encoded or len(value) > 2048:
            return None
        if not _same(mac, self._mac("session", encoded)):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
            session = Session(
                str(data["t"]), str(data["k"]), str(data["n"]), int(data["e"]), int(data["s"])
            )
        except (ValueError, KeyError, TypeError, OverflowError):
            return None
        current = now()
        if session.expires < current or session.seen + self.idle < current:
            return None
        return session

    def end(self, response: web.StreamResponse, request: web.Request) -> None:
        """Clear the session cookie (the caller records the sign-out in the store)."""
        set_cookie(response, request, SESSION_COOKIE, "", max_age=0)

    # -- CSRF --------------------------------------------------------------------

    def csrf_token(self, session: Session) -> str:
        """The token every form of this session carries."""
        return self._mac("csrf", session.nonce)[:40]

    def signin_token(self, request: web.Request, response: web.StreamResponse) -> str:
        """The sign-in form's token, bound to a pre-session cookie (set when missing)."""
        nonce = request.cookies.get(SIGNIN_COOKIE, "")
        if not (16 <= len(nonce) <= 64 and nonce.replace("-", "").replace("_", "").isalnum()):
            nonce = secrets.token_urlsafe(18)
            set_cookie(response, request, SIGNIN_COOKIE, nonce, max_age=SIGNIN_SECONDS)
        return self._mac("signin", nonce)[:40]

    def check_signin_token(self, request: web.Request, token: str) -> bool:
        nonce = request.cookies.get(SIGNIN_COOKIE, "")
        return bool(nonce) and _same(token, self._mac("signin", nonce)[:40])

    def check_csrf(self, session: Session, token: str) -> bool:
        return _same(token, self.csrf_token(session))


def _same(given: str, expected: str) -> bool:
    """A constant-time comparison that any text can take part in (``compare_digest`` raises
    on a string that is not ASCII, which a client chooses)."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


SECURE_COOKIES = web.AppKey("secure_cookies", bool)
"""``[console] secure_cookies``: cookies are ``Secure`` even when the request came over plain
HTTP (a TLS proxy in front, which the gateway cannot see)."""


def set_cookie(
    response: web.StreamResponse, request: web.Request, name: str, value: str, *, max_age: int
) -> None:
    """A console cookie: HttpOnly, SameSite=Strict, path ``/console``, Secure over TLS (or
    always, with :data:`SECURE_COOKIES`)."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console",
        httponly=True,
        secure=request.secure or request.config_dict.get(SECURE_COOKIES, False),
        samesite="Strict",
    )
