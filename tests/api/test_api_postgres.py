"""The API's store-facing tests again, on a real PostgreSQL (E's ``pg_url`` fixture).

The test functions are imported from the SQLite modules; this module's ``api`` fixture
replaces the SQLite one, so pytest runs the same checks against PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

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
