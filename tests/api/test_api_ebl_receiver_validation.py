"""Receiver validation before a transfer locks the eBL (PINT 3.0 ``POST
/v3/receiver-validation``), over TLS with the partner's real receiving endpoints: a party
the partner does not know is a 422 naming ``to`` and the eBL stays held here; a partner
without the endpoint (an older PINT, its own 404) or out of reach lets the transfer go on,
as does ``receiver_validation = false``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web

from gateway.testing.pint import InProcessPlatform, transport_document
from tests.api.ebl_live import EblApi, EblPlatforms, ebl_platforms


async def _issue_here(live: EblPlatforms, api: EblApi, reference: Path, number: str) -> str:
    document = transport_document(reference, number)
    status, _, body = await live.call(
        api, "POST", "/v1/ebls", json={"transportDocument": document, "to": "AEOT:SHIPPER"}
    )
    assert status == 201, body
    return f"/v1/ebls/{number}"


async def _state(live: EblPlatforms, api: EblApi, path: str) -> str:
    status, _, body = await live.call(api, "GET", path)
    assert status == 200, body
    return str(body["state"])


@asynccontextmanager
async def _older_partner(live: EblPlatforms) -> AsyncIterator[list[str]]:
    """IQAX as a platform of an older PINT version: no receiver-validation endpoint (the
    server's own plain 404); records the paths asked."""
    asked: list[str] = []

    async def anything(request: web.Request) -> web.Response:
        asked.append(request.path)
        raise web.HTTPNotFound()

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    server_tls = live.tls.server_context(require_client_cert=False)
    await web.TCPSite(runner, "127.0.0.1", live.iqax.port, ssl_context=server_tls).start()
    try:
        yield asked
    finally:
        await runner.cleanup()


async def test_a_party_the_partner_does_not_know_fails_before_the_ebl_is_locked(
    tmp_path: Path, reference: Path, store_url: str
) -> None:
    async with ebl_platforms(tmp_path, reference, store_url) as live:
        iqax = await InProcessPlatform(live.iqax, live.tls).start()
        try:
            async with live.replica() as api:
                path = await _issue_here(live, api, reference, "RV0001")
                status, _, problem = await live.call(
                    api, "POST", f"{path}/transfers", json={"to": "IQAX:NOBODY"}
                )
                assert status == 422, problem
                assert [(e["field"], e["rule"]) for e in problem["errors"]] == [
                    ("to", "pint.receiver-validation")
                ]
                assert "does not know the party 'NOBODY'" in problem["detail"]
                assert await _state(live, api, path) == "held"
                status, _, sent = await live.call(
                    api, "POST", f"{path}/transfers", json={"to": "IQAX:BUYER"}
                )
                assert status == 202, sent
                assert await _state(live, api, path) == "sending"
                document = transport_document(reference, "RV0002")
                status, _, problem = await live.call(
                    api, "POST", "/v1/ebls", json={"transportDocument": document, "to": "IQAX:X"}
                )
                assert status == 422 and problem["errors"][0]["field"] == "to", problem
                assert (await live.call(api, "GET", "/v1/ebls/RV0002"))[0] == 404
        finally:
            await iqax.stop()


@pytest.mark.parametrize("partner", ["older", "unreachable"])
async def test_no_answer_to_go_by_lets_the_transfer_go_on(
    tmp_path: Path, reference: Path, store_url: str, partner: str
) -> None:
    """An older platform's own 404 is not the standard's "unknown party", and a partner out
    of reach is asked again by the transfer job: the envelope's BENV still guards."""
    async with ebl_platforms(tmp_path, reference, store_url) as live, live.replica() as api:
        path = await _issue_here(live, api, reference, "RV0003")
        if partner == "older":
            async with _older_partner(live) as asked:
                status, _, sent = await live.call(
                    api, "POST", f"{path}/transfers", json={"to": "IQAX:NOBODY"}
                )
            assert asked == ["/v3/receiver-validation"]
        else:
            status, _, sent = await live.call(
                api, "POST", f"{path}/transfers", json={"to": "IQAX:NOBODY"}
            )
        assert status == 202, sent
        assert await _state(live, api, path) == "sending"


async def test_a_partner_that_never_answers_holds_the_transfer_only_seconds(
    tmp_path: Path, reference: Path, store_url: str
) -> None:
    """Receiver validation runs while the client waits: a partner that takes the connection
    and never answers (the adapter's timeout is 10 s here, 30 by default) is given up after
    RECEIVER_VALIDATION_SECONDS, and the transfer goes on."""
    from adapters.dcsa_pint.sender import RECEIVER_VALIDATION_SECONDS

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read the request and whatever follows, answer nothing; close once the client has."""
        while await reader.read(65536):
            pass
        writer.close()

    async with ebl_platforms(tmp_path, reference, store_url) as live:
        server_tls = live.tls.server_context(require_client_cert=False)
        server = await asyncio.start_server(silent, "127.0.0.1", live.iqax.port, ssl=server_tls)
        try:
            async with live.replica() as api:
                path = await _issue_here(live, api, reference, "RV0005")
                started = time.monotonic()
                status, _, sent = await live.call(
                    api, "POST", f"{path}/transfers", json={"to": "IQAX:BUYER"}
                )
                waited = time.monotonic() - started
                assert status == 202, sent
                assert RECEIVER_VALIDATION_SECONDS <= waited < RECEIVER_VALIDATION_SECONDS + 3
        finally:
            server.close()


async def test_a_partner_configured_not_to_be_asked_is_not_asked(
    tmp_path: Path, reference: Path, store_url: str
) -> None:
    async with ebl_platforms(tmp_path, reference, store_url) as live:
        config = live.aeot.config
        config.write_text(
            config.read_text().replace(
                "[adapters.pint.partners.IQAX]\n",
                "[adapters.pint.partners.IQAX]\nreceiver_validation = false\n",
            )
        )
        async with live.replica() as api, _older_partner(live) as asked:
            path = await _issue_here(live, api, reference, "RV0004")
            status, _, sent = await live.call(
                api, "POST", f"{path}/transfers", json={"to": "IQAX:NOBODY"}
            )
            assert status == 202, sent
            assert asked == []


async def test_an_oversized_answer_is_not_read(
    tmp_path: Path, reference: Path, store_url: str
) -> None:
    """A partner answering with more than MAX_ANSWER_BYTES (a signed response is a few KB)
    is no answer to go by: refused unread, not held in memory."""
    from typing import cast

    import aiohttp

    from adapters.dcsa_pint import PintAdapter
    from adapters.dcsa_pint.sender import MAX_ANSWER_BYTES, PintSender

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"partyName": "Buyer", "pad": "')
        chunk = b"x" * 65536
        for _ in range(MAX_ANSWER_BYTES // len(chunk) + 2):
            await response.write(chunk)
        await response.write(b'"}')
        return response

    async with ebl_platforms(tmp_path, reference, store_url) as live:
        app = web.Application()
        app.router.add_post("/v3/receiver-validation", huge)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        server_tls = live.tls.server_context(require_client_cert=False)
        await web.TCPSite(runner, "127.0.0.1", live.iqax.port, ssl_context=server_tls).start()
        try:
            async with live.replica() as api, aiohttp.ClientSession() as session:
                adapter = cast(PintAdapter, api.services.adapters.get("pint"))
                partner = adapter.options.partners["IQAX"]
                ssl = {"ssl": partner.ssl_context(None, None)}
                sender = PintSender("pint", adapter.options, session, ssl)
                answer = await sender.validate_receiver("IQAX", "IQAX", "BUYER")
                assert answer.known is None and "larger than" in answer.why, answer
        finally:
            await runner.cleanup()
