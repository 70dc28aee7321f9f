"""Security headers every response carries unless its handler chose its own.

* ``X-Content-Type-Options: nosniff`` (a download is never sniffed into HTML or script);
* ``Content-Security-Policy`` :data:`API_POLICY` where the handler set none: an API answer or
  a download rendered by a browser runs nothing, loads nothing and cannot be framed (the
  console and the readable view set their own);
* ``Referrer-Policy: no-referrer`` where the handler set none (ids in URLs stay here);
* ``Cache-Control: no-store`` where the handler set none: tenant data is not kept by browsers
  or shared caches (RFC 9111 5.2.2.5; the console's script sets its own);
* ``Content-Disposition: attachment; filename="api.json"`` on the JSON answers of ``/v1/``
  (problems included) that name no file of their own (OWASP ASVS 14.4.2: a browser led to an
  API URL saves the answer rather than showing it);
* ``Server: lingang``, without the versions of Python and aiohttp that aiohttp would name
  (OWASP ASVS 14.3.3);
* ``Strict-Transport-Security`` :data:`HSTS` on responses sent over TLS, never over plain
  HTTP (RFC 6797 7.1 and 7.2; behind a TLS proxy the proxy adds it).

:func:`add_security_headers` runs as the application's ``on_response_prepare`` signal, so it
sees every response of the app and its sub-applications, errors included;
:func:`baseline_headers` serves the answers made outside the request cycle.
"""

from __future__ import annotations

from collections.abc import MutableMapping

from aiohttp import web

API_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"
"""The content security policy of responses whose handler set none."""

SERVER = "lingang"
"""The ``Server`` header: the product, no version."""

HSTS = "max-age=31536000; includeSubDomains"
"""One year, subdomains included (RFC 6797 6.1)."""


def baseline_headers(headers: MutableMapping[str, str], *, secure: bool) -> None:
    """Add the security headers that ``headers`` does not carry yet; name the server
    without versions."""
    headers["Server"] = SERVER
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Content-Security-Policy", API_POLICY)
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cache-Control", "no-store")
    if secure:
        headers.setdefault("Strict-Transport-Security", HSTS)


JSON_TYPES = frozenset({"application/json", "application/problem+json"})
API_PREFIX = "/v1/"


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The ``on_response_prepare`` signal: :func:`baseline_headers` on every response, and
    the API's JSON answers as attachments."""
    baseline_headers(response.headers, secure=request.secure)
    if request.path.startswith(API_PREFIX) and response.content_type in JSON_TYPES:
        response.headers.setdefault("Content-Disposition", 'attachment; filename="api.json"')
