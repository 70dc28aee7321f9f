"""API-key authentication: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.

Keys are high-entropy random strings (:func:`gateway.store.new_api_key`); the store keeps
only their SHA-256 (:func:`gateway.store.hash_api_key`) and looks a tenant up by that digest.
A presented key is hashed before anything compares it, so the comparison the database makes
is between digests: timing can at most reveal digest prefixes, which do not help anyone
find a key. Where two presented values must agree (both headers given) they are compared
with :func:`hmac.compare_digest`.

A key never reaches a log line or a problem body: failures say only that the key is
missing or not valid.

A key that was found is remembered for :data:`KEY_CACHE_SECONDS` (by its digest), so a
client's stream of requests costs one store read per interval, not one per request; a key
revoked in the store therefore stops working on every replica within that interval. Keys
not found are never remembered.

**Roles.** A key is a tenant's ``submitter`` key (submits documents, reads the tenant's
records) or an ``officer`` key (a compliance officer's: may also release and refuse the
tenant's held documents, :func:`require_officer`); ``lingang tenants add-key NAME --role
officer`` issues one. A decision records the key that made it (``api-key:<id>``) beside the
officer's name as given. ``[policy] submitter_decisions = true`` lets every key of a tenant
decide its holds, as before officer keys existed (:data:`SUBMITTERS_DECIDE`; off by
default).
"""

from __future__ import annotations

import hmac
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from gateway.api.context import API_KEY, TENANT, store
from gateway.api.problems import FieldIssue, Problem
from gateway.store import ApiKey, Tenant, hash_api_key
from gateway.store.records import OFFICER

MAX_KEY_LENGTH = 256
"""Longer values cannot be keys; they are refused before hashing."""

PROTECTED_PREFIX = "/v1/"
"""Everything under it needs a key; the health endpoints, ``/metrics`` and ``/openapi.json``
do not (no tenant data behind them)."""

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="lingang"'}

KEY_CACHE_SECONDS = 2.0
"""How long a found key's tenant is reused before the store is asked again."""

KEY_CACHE_SIZE = 10_000
"""At most this many digests are remembered (the oldest go first)."""


Found = tuple[Tenant, ApiKey]
"""A key found in the store: its tenant and its stored form (id, role)."""


class KnownKeys:
    """Digest → (tenant, key) for keys found recently (see the module docstring)."""

    def __init__(self, seconds: float = KEY_CACHE_SECONDS, size: int = KEY_CACHE_SIZE) -> None:
        self.seconds = seconds
        self.size = size
        self._known: dict[str, tuple[float, Found]] = {}

    def get(self, digest: str) -> Found | None:
        """The tenant and key remembered for ``digest``, if still fresh."""
        found = self._known.get(digest)
        if found is None:
            return None
        if found[0] <= time.monotonic():
            del self._known[digest]
            return None
        return found[1]

    def remember(self, digest: str, found: Found) -> None:
        """Remember a key that the store found."""
        if len(self._known) >= self.size:
            del self._known[next(iter(self._known))]
        self._known[digest] = (time.monotonic() + self.seconds, found)


KNOWN_KEYS = web.AppKey("known_keys", KnownKeys)
SUBMITTERS_DECIDE = web.AppKey("submitters_decide", bool)
"""``[policy] submitter_decisions``: any key of a tenant may release or refuse its held
documents (the behaviour before officer keys; off unless configured)."""


def presented_key(request: web.Request) -> str | None:
    """The API key the request carries, or ``None``; 401 if the headers are contradictory
    (one of them given twice included: which one counts would be a guess, and a proxy in
    front may have guessed the other way)."""
    if any(len(request.headers.getall(name, [])) > 1 for name in ("Authorization", "X-API-Key")):
        raise unauthorized("give one Authorization or X-API-Key header, not several")
    bearer: str | None = None
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise unauthorized("the Authorization header must be 'Bearer <API key>'")
        bearer = value.strip()
    api_key = request.headers.get("X-API-Key")
    api_key = api_key.strip() if api_key is not None else None
    both = bearer is not None and api_key is not None
    if both and not hmac.compare_digest(str(bearer).encode(), str(api_key).encode()):
        raise unauthorized("Authorization and X-API-Key carry different keys")
    return bearer if bearer is not None else api_key


def unauthorized(detail: str) -> Problem:
    """A 401 with a bearer challenge; says nothing about the key that was presented."""
    issue = FieldIssue(detail, field="Authorization", rule="api-key")
    return Problem(401, "unauthorized", detail, [issue], headers=dict(CHALLENGE))


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate every ``/v1/`` request; store the tenant on the request.

    A request no route matches goes on to its 404 / 405 without a key: that reveals only
    the API's shape, which the OpenAPI document publishes anyway.
    """
    unrouted = request.match_info.http_exception is not None
    if unrouted or not request.path.startswith(PROTECTED_PREFIX):
        return await handler(request)
    key = presented_key(request)
    if not key:
        raise unauthorized("an API key is required (Authorization: Bearer <key>)")
    if len(key) > MAX_KEY_LENGTH or not key.isascii():
        raise unauthorized("the API key is not valid")
    found = await key_for(request, key)
    if found is None:
        raise unauthorized("the API key is not valid")
    request[TENANT], request[API_KEY] = found
    return await handler(request)


async def key_for(request: web.Request, key: str) -> Found | None:
    """The tenant and stored key of ``key``: remembered, or looked up in the store."""
    known = request.app.get(KNOWN_KEYS)
    digest = hash_api_key(key)
    found = known.get(digest) if known is not None else None
    if found is None:
        found = await store(request).api_key_for_hash(digest)
        if found is not None and known is not None:
            known.remember(digest, found)
    return found


def may_decide_holds(request: web.Request, key: ApiKey) -> bool:
    """Whether ``key`` may release or refuse its tenant's held documents: an officer's key,
    or any key with ``[policy] submitter_decisions = true``."""
    return key.role == OFFICER or bool(request.config_dict.get(SUBMITTERS_DECIDE, False))


def require_officer(request: web.Request) -> ApiKey:
    """The request's key if it may decide holds (:func:`may_decide_holds`); else 403."""
    key = request[API_KEY]
    if may_decide_holds(request, key):
        return key
    raise officer_refusal()


def officer_refusal() -> Problem:
    """The 403 for a key that may not decide holds (the API and the console)."""
    detail = (
        "releasing or refusing a held document needs a compliance officer's API key; this "
        "key submits documents and reads them (issue an officer key with: lingang tenants "
        "add-key NAME --role officer)"
    )
    issue = FieldIssue(detail, field="Authorization", rule="role.officer")
    return Problem(403, "forbidden", detail, [issue])
