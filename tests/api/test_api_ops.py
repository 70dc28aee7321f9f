"""Health, metrics, the OpenAPI document, and problems for what no route handles."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
from openapi_spec_validator import validate

from adapters.dcsa_pint.receiver import PintReceiver
from gateway.api import ApiOptions
from gateway.api.openapi import (
    adapter_operations,
    documented_operations,
    openapi_document,
    served_operations,
)
from gateway.resources import schema_file
from gateway.settings import Settings
from gateway.store import BreakerPhase, BreakerState
from gateway.store.records import utcnow
from tests.api.conftest import LiveApi, start_api
from tests.api.test_api_documents import problem, submit


async def test_health_is_ok_when_store_and_adapters_answer(api: LiveApi) -> None:
    status, _, raw = await api.anonymous.request("GET", "/healthz")
    assert status == 200
    assert json.loads(raw) == {
        "status": "ok",
        "checks": {"store": {"status": "ok"}, "adapter:local": {"status": "ok"}},
    }


async def test_health_is_503_with_detail_when_an_adapter_fails(api: LiveApi) -> None:
    folder = api.data_dir / "out"
    if folder.is_dir():
        folder.rmdir()
    folder.write_text("a file where the adapter wants its folder")
    status, _, raw = await api.anonymous.request("GET", "/healthz")
    assert status == 503
    body = json.loads(raw)
    assert body["status"] == "fail"
    assert body["checks"]["store"] == {"status": "ok"}
    assert body["checks"]["adapter:local"]["status"] == "fail"
    assert str(folder) not in raw.decode()


async def test_health_is_503_when_the_store_is_gone(
    api: LiveApi, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a key, a failed check names no reason (a store's message can name the
    database's host and port, an adapter's a partner's address or a folder): the log does."""
    await api.store.close()
    for path in ("/healthz", "/readyz"):
        status, _, raw = await api.anonymous.request("GET", path)
        assert status == 503
        check = json.loads(raw)["checks"]["store"]
        assert check == {
            "status": "fail",
            "detail": "unavailable (the reason is in the gateway's log)",
        }
    assert any(
        "health check of" in r.getMessage() and "closed" in r.getMessage() for r in caplog.records
    )


async def test_readiness_and_liveness_do_not_hang_on_a_partners_endpoint(api: LiveApi) -> None:
    """The Kubernetes probes pointed at /healthz, which also asks every adapter's
    counterpart: one partner's inbox down made every API pod unready (no submission for
    any tenant, no AS4 receiving) and, after five liveness failures, restarted them all in
    a loop, though the outbox is there to wait for that partner. /readyz asks the store
    only (what accepting a document needs); /livez asks nothing."""
    folder = api.data_dir / "out"
    if folder.is_dir():
        folder.rmdir()
    folder.write_text("a file where the adapter wants its folder")
    assert (await api.anonymous.request("GET", "/healthz"))[0] == 503
    status, _, raw = await api.anonymous.request("GET", "/readyz")
    assert (status, json.loads(raw)) == (
        200,
        {"status": "ok", "checks": {"store": {"status": "ok"}}},
    )
    status, _, raw = await api.anonymous.request("GET", "/livez")
    assert (status, json.loads(raw)) == (200, {"status": "ok", "checks": {}})


async def test_without_the_store_not_ready_but_alive(api: LiveApi) -> None:
    """A store outage makes a replica unready (a submission would be refused), not dead:
    restarting it would not bring the database back."""
    await api.store.close()
    status, _, raw = await api.anonymous.request("GET", "/readyz")
    assert status == 503
    assert json.loads(raw)["checks"]["store"]["status"] == "fail"
    assert (await api.anonymous.request("GET", "/livez"))[0] == 200


async def test_a_store_outage_is_a_bare_503_problem_and_logged(
    api: LiveApi, caplog: pytest.LogCaptureFixture
) -> None:
    """The store going away is an error another attempt can get past: 503, no detail."""
    await api.store.close()
    status, headers, raw = await api.a.request("GET", "/v1/documents")
    assert status == 503 and headers["Retry-After"] == "5"  # RFC 9110 10.2.3
    data = problem(raw, 503)
    assert data["detail"] == "the gateway cannot handle this request now"
    assert "Traceback" not in raw.decode() and "sqlite" not in raw.decode().lower()
    assert any(r.levelno >= logging.ERROR for r in caplog.records)


async def test_metrics_count_requests_by_route_and_show_store_depth(
    api: LiveApi, fapiao_xml: bytes
) -> None:
    await submit(api.a, fapiao_xml)
    await api.a.request("GET", "/v1/documents/0123456789abcdef0123456789abcdef")
    await api.a.request("GET", "/no/such/path")
    status, headers, raw = await api.anonymous.request("GET", "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain")
    text = raw.decode()
    assert (
        'lingang_http_requests_total{method="POST",route="/v1/documents",status="202"} 1.0' in text
    )
    assert 'route="/v1/documents/{id}",status="404"' in text
    assert 'route="unmatched",status="404"' in text
    assert "lingang_http_request_duration_seconds_bucket" in text
    assert 'lingang_submissions{state="received"} 1.0' in text
    assert 'lingang_outbox_jobs{state="pending"} 1.0' in text
    assert api.tenant_a.id not in text and api.tenant_a.name not in text


@pytest.fixture
async def fresh_api(tmp_path: Path) -> AsyncIterator[LiveApi]:
    """The API reading the store's counts on every scrape (``[ops] counts_seconds = 0``)."""

    def fresh(settings: Settings) -> Settings:
        return settings.with_section("ops", counts_seconds=0.0)

    async for live in start_api(tmp_path, f"sqlite:///{tmp_path}/gateway.db", adjust=fresh):
        yield live


async def test_metrics_outbox_and_breaker_gauges_follow_the_store(
    fresh_api: LiveApi, fapiao_xml: bytes
) -> None:
    """An operator alerts on endpoints whose breaker opened (no delivery is tried there
    until it cools down): /metrics had no breaker series at all. Breakers not closed are
    now counted by phase, without endpoint names, next to the outbox by state."""
    api = fresh_api

    async def scrape() -> str:
        status, _, raw = await api.anonymous.request("GET", "/metrics")
        assert status == 200
        return raw.decode()

    await submit(api.a, fapiao_xml)
    text = await scrape()
    assert 'lingang_outbox_jobs{state="dead"} 0.0' in text
    assert 'lingang_circuit_breakers{phase="open"} 0.0' in text
    (job,) = await api.store.claim_jobs("w", limit=1)
    await api.store.fail_job(job.id, "w", "gave up", retryable=False, retry_after=None)
    await api.store.update_breaker(
        BreakerState("https://partner.example/inbox", BreakerPhase.OPEN, 5, utcnow()), 0
    )
    text = await scrape()
    assert 'lingang_outbox_jobs{state="dead"} 1.0' in text
    assert 'lingang_outbox_jobs{state="pending"} 0.0' in text
    assert 'lingang_circuit_breakers{phase="open"} 1.0' in text
    assert "partner.example" not in text
    await api.store.retry_job(job.id)
    await api.store.update_breaker(BreakerState("https://partner.example/inbox"), 1)
    text = await scrape()
    assert 'lingang_outbox_jobs{state="dead"} 0.0' in text
    assert 'lingang_outbox_jobs{state="pending"} 1.0' in text
    assert 'lingang_circuit_breakers{phase="open"} 0.0' in text


async def test_scrapes_share_one_reading_of_the_store_counts(
    api: LiveApi, fapiao_xml: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each scrape counted the store's tables anew: every Prometheus server, every replica,
    every interval, a count over the whole history. One reading now serves every scrape
    for ``[ops] counts_seconds`` (5 by default), and scrapes that come together share it."""
    readings = 0
    count_jobs = api.store.count_jobs_by_state

    async def counted() -> object:
        nonlocal readings
        readings += 1
        await asyncio.sleep(0.05)  # a reading that takes a while: the scrapes overlap
        return await count_jobs()

    monkeypatch.setattr(api.store, "count_jobs_by_state", counted)
    await submit(api.a, fapiao_xml)
    scrapes = await asyncio.gather(*(api.anonymous.request("GET", "/metrics") for _ in range(5)))
    assert [status for status, _, _ in scrapes] == [200] * 5
    assert all(b'lingang_outbox_jobs{state="pending"} 1.0' in raw for _, _, raw in scrapes)
    assert readings == 1
    (job,) = await api.store.claim_jobs("w", limit=1)
    await api.store.fail_job(job.id, "w", "gave up", retryable=False, retry_after=None)
    _, _, raw = await api.anonymous.request("GET", "/metrics")
    assert readings == 1  # within counts_seconds: the same reading
    assert b'lingang_outbox_jobs{state="pending"} 1.0' in raw


async def test_unrouted_requests_are_problems(api: LiveApi) -> None:
    status, _, raw = await api.anonymous.request("GET", "/nothing/here")
    problem(raw, 404)
    status, headers, raw = await api.a.request("DELETE", "/v1/documents")
    assert status == 405
    problem(raw, 405)
    assert "POST" in headers["Allow"]
    status, _, raw = await api.anonymous.request("PATCH", "/healthz")
    problem(raw, 405)


async def test_huge_headers_are_refused_with_4xx(api: LiveApi) -> None:
    status, _, _ = await api.a.request("GET", "/v1/documents", headers={"X-Big": "b" * 20_000})
    assert 400 <= status < 500
    many = {f"X-H{i}": "v" for i in range(200)}
    status, _, _ = await api.a.request("GET", "/v1/documents", headers=many)
    assert 400 <= status < 500 or status == 200


def test_openapi_document_is_valid_openapi_3_1() -> None:
    document = json.loads(schema_file("openapi.json").read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.1")
    validate(document)


async def test_openapi_document_lists_exactly_the_served_routes(api: LiveApi) -> None:
    status, _, raw = await api.anonymous.request("GET", "/openapi.json")
    assert status == 200
    assert json.loads(raw) == openapi_document()
    from gateway.api import create_app

    app = create_app(api.services)
    served, receiving = served_operations(app), adapter_operations()
    assert served - receiving == documented_operations() - receiving
    assert served <= documented_operations()  # a receiving adapter's route, when mounted, too


def test_openapi_problem_responses_are_problem_json(tmp_path: Path) -> None:
    document = openapi_document()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for code, response in operation["responses"].items():
                if int(code) >= 400 and "$ref" in response:
                    assert response["$ref"].startswith("#/components/responses/Problem"), (
                        path,
                        method,
                        code,
                    )


async def test_responses_carry_a_request_id_also_in_the_access_log(
    api: LiveApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.api.access")
    _, headers, _ = await api.a.request("GET", "/v1/documents", headers={"X-Request-Id": "abc-1"})
    assert headers["X-Request-Id"] == "abc-1"
    _, headers, _ = await api.a.request("GET", "/nope", headers={"X-Request-Id": "bad id\t"})
    fresh = headers["X-Request-Id"]
    assert len(fresh) == 32 and fresh != "bad id"
    ids = [getattr(r, "request_id", None) for r in caplog.records if r.name == "gateway.api.access"]
    assert ids[-2:] == ["abc-1", fresh]


def test_the_receiving_adapters_routes_are_documented() -> None:
    """``/as4`` (the ``peppol`` adapter's ``receive_path`` by convention) and the DCSA PINT
    endpoints, marked as served by their adapter when it receives."""
    pint = PintReceiver(None, max_body_bytes=1).routes()  # type: ignore[arg-type]
    expected = {(route.method, route.path) for route in pint} | {("POST", "/as4")}
    assert adapter_operations() == expected
    document = openapi_document()
    marks = {document["paths"][p][m.lower()]["x-lingang-adapter"] for m, p in expected}
    assert marks == {"peppol", "dcsa_pint"}


@pytest.mark.postgres
async def test_metrics_answer_while_a_migration_holds_the_outbox(
    tmp_path: Path, pg_url: str
) -> None:
    """A migration's ALTER TABLE holds an ACCESS EXCLUSIVE lock for as long as it runs: the
    scrape's count of the outbox waited for it, so every scrape timed out and the process's
    own series (requests, jobs) went missing exactly while an operator watched the rollout.
    The store's reading is now waited for ``health_timeout`` at most."""

    def fresh(settings: Settings) -> Settings:
        return settings.with_section("ops", counts_seconds=0.0)

    options = ApiOptions(health_timeout=0.5)
    async for api in start_api(tmp_path, pg_url, options=options, adjust=fresh):
        with psycopg.connect(pg_url) as migrating:
            migrating.execute("LOCK TABLE outbox_jobs IN ACCESS EXCLUSIVE MODE")
            status, _, raw = await asyncio.wait_for(api.anonymous.request("GET", "/metrics"), 20)
            assert status == 200
            assert b"lingang_http_requests_total" in raw
            assert b"lingang_jobs_in_flight" in raw
            migrating.rollback()  # the migration ends
        for _ in range(100):
            _, _, raw = await api.anonymous.request("GET", "/metrics")
            if b'lingang_outbox_jobs{state="pending"} 0.0' in raw:
                break
            await asyncio.sleep(0.1)
        assert b'lingang_outbox_jobs{state="pending"} 0.0' in raw


@pytest.mark.postgres
async def test_readiness_fails_fast_while_a_migration_holds_the_outbox(
    tmp_path: Path, pg_url: str
) -> None:
    """``/readyz`` ran ``SELECT 1``, which no lock stops: while a migration's ALTER TABLE
    held the outbox (every submission queues a job there, every worker claims from it) the
    replica stayed "ready" and took requests that then hung. The check now reads the
    schema version, the submissions and the outbox under a ``lock_timeout``: 503 within
    ``health_timeout`` with the generic reason, no connection left waiting in the server,
    and ready again once the migration ends."""
    options = ApiOptions(health_timeout=1.0)
    async for api in start_api(tmp_path, pg_url, options=options):
        with psycopg.connect(pg_url) as migrating:
            migrating.execute("LOCK TABLE outbox_jobs IN ACCESS EXCLUSIVE MODE")
            for _ in range(3):  # more checks than a stuck one could hide among
                started = asyncio.get_running_loop().time()
                status, _, raw = await asyncio.wait_for(api.anonymous.request("GET", "/readyz"), 20)
                assert asyncio.get_running_loop().time() - started < 1.5
                assert status == 503
                assert json.loads(raw)["checks"]["store"] == {
                    "status": "fail",
                    "detail": "unavailable (the reason is in the gateway's log)",
                }
            waiting = migrating.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"
            ).fetchone()
            assert waiting == (0,)
            migrating.rollback()  # the migration ends
        status, _, raw = await api.anonymous.request("GET", "/readyz")
        assert status == 200, raw
        status, _, _ = await api.anonymous.request("GET", "/livez")
        assert status == 200
