"""Requests aiohttp's own HTTP parser rejects: a problem, no echo, nothing secret logged.

Item 1 of the hardening issue: a control character in ``Authorization``, a header over the
limit and broken chunk framing used to be logged raw (API key and invoice text included) at
ERROR by ``aiohttp.server`` and echoed in a text/plain 400.
"""

from __future__ import annotations

import pytest

from tests.api.conftest import LiveApi
from tests.attack.conftest import SECRET_DOCUMENT_TEXT, LogLines, raw, request_bytes

DOCUMENT = f"<EInvoice><Note>{SECRET_DOCUMENT_TEXT}</Note></EInvoice>".encode()


def _malformed(key: str) -> dict[str, bytes]:
    """Named requests the parser refuses, each carrying the key and document text."""
    auth = f"Bearer {key}"
    return {
        "control character in Authorization": request_bytes(
            "POST",
            "/v1/documents",
            [
                ("Authorization", auth + "\x01"),
                ("Content-Type", "application/xml"),
                ("Content-Length", str(len(DOCUMENT))),
            ],
            DOCUMENT,
        ),
        "header over the limit": request_bytes(
            "POST",
            "/v1/documents",
            {
                "Authorization": auth,
                "X-Note": (SECRET_DOCUMENT_TEXT + " ") * 400,
                "Content-Length": str(len(DOCUMENT)),
            },
            DOCUMENT,
        ),
        "request line over the limit": request_bytes(
            "GET", "/v1/documents?x=" + "A" * 9000 + key, {"Authorization": auth}
        ),
        "broken chunk framing": request_bytes(
            "POST",
            "/v1/documents",
            {
                "Authorization": auth,
                "Content-Type": "application/xml",
                "Transfer-Encoding": "chunked",
            },
            b"zz-not-hex\r\n" + DOCUMENT + b"\r\n0\r\n\r\n",
        ),
        "bare LF and key in the method": f"{key}<> / HTTP/1.1\nHost: x\n\n".encode(),
        "NUL in a header name": request_bytes(
            "GET", "/v1/documents", [("Authori\x00zation", auth)]
        ),
        "two Content-Length headers": request_bytes(
            "POST",
            "/v1/documents",
            [
                ("Authorization", auth),
                ("Content-Type", "application/xml"),
                ("Content-Length", "5"),
                ("Content-Length", str(len(DOCUMENT))),
            ],
            DOCUMENT,
        ),
        "chunked and Content-Length": request_bytes(
            "POST",
            "/v1/documents",
            [
                ("Authorization", auth),
                ("Content-Type", "application/xml"),
                ("Content-Length", "3"),
                ("Transfer-Encoding", "chunked"),
            ],
            DOCUMENT,
        ),
        "unknown Content-Encoding br": request_bytes(
            "POST",
            "/v1/documents",
            {
                "Authorization": auth,
                "Content-Type": "application/xml",
                "Content-Encoding": "br",
                "Content-Length": str(len(DOCUMENT)),
            },
            DOCUMENT,
        ),
    }


CASES = [
    "control character in Authorization",
    "header over the limit",
    "request line over the limit",
    "broken chunk framing",
    "bare LF and key in the method",
    "NUL in a header name",
    "two Content-Length headers",
    "chunked and Content-Length",
    "unknown Content-Encoding br",
]


@pytest.mark.parametrize("case", CASES)
async def test_parser_rejections_are_quiet_problems(
    live: LiveApi, logs: LogLines, case: str
) -> None:
    response = await raw(live.base, _malformed(live.key_a)[case])
    assert 400 <= response.status < 500, (case, response.status, response.body[:200])
    problem = response.problem()
    assert live.key_a not in response.body.decode("utf-8", "replace")
    assert SECRET_DOCUMENT_TEXT not in response.body.decode("utf-8", "replace")
    assert problem["errors"], problem
    logs.assert_clean(live.key_a)
    assert not [line for line in logs.lines if '"level": "error"' in line], logs.lines


async def test_statuses_name_the_kind_of_error(live: LiveApi) -> None:
    requests = _malformed(live.key_a)
    too_long = await raw(live.base, requests["header over the limit"])
    assert too_long.status == 431
    # RFC 9112 3: a request-target longer than the server parses MUST be answered 414
    uri = await raw(live.base, requests["request line over the limit"])
    assert uri.status == 414, uri.body[:200]
    assert uri.problem()["errors"][0]["rule"] == "max-uri-bytes"  # type: ignore[index]
    # answers made outside the app carry the security headers and name no versions
    assert uri.headers.get("x-content-type-options") == "nosniff"
    assert uri.headers.get("server") == "lingang"
    name = await raw(live.base, request_bytes("GET", "/v1/documents", {"X-" + "N" * 9000: "1"}))
    assert name.status == 431
    encoding = await raw(live.base, requests["unknown Content-Encoding br"])
    assert encoding.status == 415
    assert "Brotli" not in encoding.body.decode()
