"""The re-check at release time (:func:`gateway.jobs.gate.release_recheck`): a release stands
unless the exporter's counts, with the document's individuals, now need a mechanism above
the one the hold was about and the exporter has none valid today."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.jobs.gate import release_recheck
from gateway.partners.data_export import DataExport, Filing
from gateway.store import JobSpec
from gateway.store.ledger import ExportRecord, Hold

NOW = dt.datetime(2026, 9, 1, 2, 0, tzinfo=dt.UTC)
SCC = Filing("standard-contract", "SH-SCC-2026-7", dt.date(2026, 1, 1))
EXPIRED = Filing("standard-contract", "SH-SCC-2024-1", dt.date(2024, 1, 1), dt.date(2026, 6, 30))


def hold(article: str, data_export: DataExport | None) -> Hold:
    record = ExportRecord("91310115MA1FL8K22H", "SG", "0195:X", "1", "ab" * 32, ("personal",))
    return Hold(
        submission_id="s1", tenant_id="t", state="releasing", reason="held", policy_version="v1",
        record=record, counted=True, job=JobSpec("deliver"), held_at="", article=article,
        data_export=None if data_export is None else data_export.to_json(),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("article", "data_export", "personal", "sensitive", "stopped"),
    [
        ("art-8", DataExport(), 999_999, 0, None),  # still what the officer answered
        ("art-8", DataExport(), 1_000_000, 0, "art-7"),  # crossed since the hold
        ("art-8", DataExport(), 500, 10_000, "art-7"),  # sensitive information of 10,000
        ("negative", DataExport(), 99_999, 0, None),  # exempt by the counts
        ("negative", DataExport(), 100_000, 0, "art-8"),  # the list's approval is not a filing
        ("negative", DataExport(), 1, 1, "art-8"),
        ("negative", DataExport(filings=(SCC,)), 100_000, 0, None),  # filed
        ("negative", DataExport(filings=(EXPIRED,)), 100_000, 0, "art-8"),  # filing expired
        ("art-7", DataExport(), 2_000_000, 20_000, None),  # nothing above Art. 7
        ("negative", None, 2_000_000, 0, None),  # held before thresholds were kept
    ],
)
def test_recheck(
    article: str, data_export: DataExport | None, personal: int, sensitive: int,
    stopped: str | None,
) -> None:  # fmt: skip
    verdict = release_recheck(lambda: NOW)(hold(article, data_export), personal, sensitive)
    if stopped is None:
        assert verdict is None
        return
    assert verdict is not None and not verdict.allowed and verdict.counted
    assert verdict.article == stopped and "re-checked at release" in verdict.reason
    assert verdict.detail["data_export"] == (data_export or DataExport()).to_json()
