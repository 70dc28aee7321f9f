"""The API's store-facing tests again, on a real PostgreSQL (E's ``pg_url`` fixture).

The test functions are imported from the SQLite modules; this module's ``api`` fixture
replaces the SQLite one, so pytest runs the same checks against PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest

from gateway.signing.testpki import make_test_pki
from tests.api.conftest import FullStages, LiveApi, start_api
from tests.api.test_api_auth import (
    test_tenants_cannot_read_retry_or_list_each_others_documents,
    test_tenants_cannot_see_or_change_each_others_partners,
    test_x_api_key_header_works_too,
)
from tests.api.test_api_documents import (
    test_concurrent_repeats_of_one_key_make_one_submission,
    test_idempotency_keys_are_per_tenant,
    test_list_pages_and_filters,
    test_raw_xml_is_stored_durably_and_acknowledged,
    test_retry_of_a_dead_letter_and_409_when_nothing_is_dead,
    test_same_idempotency_key_returns_the_first_submission,
    test_same_key_with_another_body_is_a_conflict,
    test_status_shows_history_timings_report_deliveries_and_receipts,
)
from tests.api.test_api_flow import (
    test_end_to_end_runs_the_full_stage_table,
    test_fast_variant_marks_documents_unvalidated_and_unsigned,
)
from tests.api.test_api_ops import (
    test_health_is_ok_when_store_and_adapters_answer,
    test_metrics_count_requests_by_route_and_show_store_depth,
)
from tests.api.test_api_partners import (
    test_invalid_directories_name_the_field,
    test_put_replaces_the_whole_directory,
    test_put_toml_then_get_returns_the_same_directory,
)

pytestmark = pytest.mark.postgres

__all__ = [
    "test_concurrent_repeats_of_one_key_make_one_submission",
    "test_end_to_end_runs_the_full_stage_table",
    "test_fast_variant_marks_documents_unvalidated_and_unsigned",
    "test_health_is_ok_when_store_and_adapters_answer",
    "test_idempotency_keys_are_per_tenant",
    "test_invalid_directories_name_the_field",
    "test_list_pages_and_filters",
    "test_metrics_count_requests_by_route_and_show_store_depth",
    "test_put_replaces_the_whole_directory",
    "test_put_toml_then_get_returns_the_same_directory",
    "test_raw_xml_is_stored_durably_and_acknowledged",
    "test_retry_of_a_dead_letter_and_409_when_nothing_is_dead",
    "test_same_idempotency_key_returns_the_first_submission",
    "test_same_key_with_another_body_is_a_conflict",
    "test_status_shows_history_timings_report_deliveries_and_receipts",
    "test_tenants_cannot_read_retry_or_list_each_others_documents",
    "test_tenants_cannot_see_or_change_each_others_partners",
    "test_x_api_key_header_works_too",
]


@pytest.fixture
async def api(tmp_path: Path, pg_url: str) -> AsyncIterator[LiveApi]:
    """The API over a fresh, migrated PostgreSQL database."""
    async for live in start_api(tmp_path, pg_url):
        yield live


@pytest.fixture
async def full_api(tmp_path: Path, pg_url: str, artefacts_home: Path) -> AsyncIterator[LiveApi]:
    """The whole stage table (real validation and signing) over PostgreSQL."""
    full = FullStages(artefacts_home, make_test_pki(tmp_path / "pki"))
    async for live in start_api(tmp_path, pg_url, full=full):
        yield live


async def test_a_submission_whose_session_the_server_ended_is_a_503_then_stored_once(
    api: LiveApi, fapiao_xml: bytes, pg_url: str
) -> None:
    """The server ends the session of a POST while its insert waits (a failover, an
    operator's ``pg_terminate_backend``): the answer is a 503 with ``Retry-After``, never a
    500, nothing was stored, and the client's retry with the same Idempotency-Key stores
    the document once."""
    headers = {"Content-Type": "application/xml", "Idempotency-Key": "cut-1"}
    async with await psycopg.AsyncConnection.connect(pg_url) as lock:
        await lock.execute("LOCK TABLE submissions IN ACCESS EXCLUSIVE MODE")
        posting = asyncio.create_task(
            api.a.request("POST", "/v1/documents", data=fapiao_xml, headers=headers)
        )
        ended: list[tuple[bool]] = []
        async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as admin:
            for _ in range(500):
                cursor = await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                ended = await cursor.fetchall()
                if ended:
                    break
                await asyncio.sleep(0.01)
        await lock.rollback()
    status, answer_headers, body = await posting
    assert ended and status == 503, body
    assert answer_headers["Retry-After"]
    assert await api.store.list_submissions(api.tenant_a.id) == []
    status, _, body = await api.a.request("POST", "/v1/documents", data=fapiao_xml, headers=headers)
    assert status == 202, body
    again, _, _ = await api.a.request("POST", "/v1/documents", data=fapiao_xml, headers=headers)
    assert again == 200
    assert len(await api.store.list_submissions(api.tenant_a.id)) == 1
