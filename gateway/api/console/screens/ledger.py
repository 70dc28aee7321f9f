"""The export ledger of a calendar year (Beijing time), the tenant's own: per exporter the
individuals counted against the 2024 Provisions' thresholds and the documents per
destination, data category and legal basis, then the year's entries, newest first (who
decided, on what basis, under which policy version).

The page lists the newest :data:`SHOWN_ENTRIES`; the downloads hold the whole year: the
report as CSV (``lingang ledger report --format csv``'s rows) and as JSON (what
``GET /v1/ledger/report`` answers), and every entry with its hashes as CSV, for the
compliance officer's records, each row checked against its hashes. The chain is one for
every tenant, so neither shows an entry's place in it (``seq``): the numbers would count the
other tenants' exports between the tenant's own.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from aiohttp import web

from gateway.api.console.context import Screen, console_store, signed_in
from gateway.api.console.i18n import add_texts
from gateway.api.console.page import render
from gateway.policy import CHINA
from gateway.policy.report import (
    FIRST_YEAR,
    LAST_YEAR,
    entries_csv,
    ledger_report,
    report_csv,
)
from gateway.store.ledger import LedgerStore

routes = web.RouteTableDef()
SHOWN_ENTRIES = 200
"""The newest entries of the year listed on the page (the report counts them all)."""
CSV_BOM = "\ufeff"
"""Leads each CSV download: spreadsheets then read it as UTF-8 (Chinese names and bases)."""

add_texts(
    {
        "downloads_year": ("下载本年度", "Download the year"),
        "report_csv": ("报告 (CSV)", "report (CSV)"),
        "report_json": ("报告 (JSON)", "report (JSON)"),
        "entries_csv": ("全部台账条目（CSV，含哈希）", "all entries (CSV, with hashes)"),
    }
)


@routes.get("/ledger")
async def ledger(request: web.Request) -> web.Response:
    tenant, _ = signed_in(request)
    year = _year(request)
    entries, report = await _year_of(request, tenant.id, year)
    return render(
        request,
        "ledger.html",
        year=year,
        report=report,
        entries=[_shown(e) for e in reversed(entries[-SHOWN_ENTRIES:])],
        total=len(entries),
    )


@routes.get("/ledger/report.csv")
async def report_as_csv(request: web.Request) -> web.Response:
    tenant, _ = signed_in(request)
    year = _year(request)
    _, report = await _year_of(request, tenant.id, year)
    text = report_csv({"year": year, "tenants": {tenant.id: report}})
    return _download(CSV_BOM + text, f"ledger-report-{year}.csv", "text/csv")


@routes.get("/ledger/report.json")
async def report_as_json(request: web.Request) -> web.Response:
    tenant, _ = signed_in(request)
    year = _year(request)
    _, report = await _year_of(request, tenant.id, year)
    text = json.dumps({"year": year, "exporters": report}, ensure_ascii=False, indent=2)
    return _download(text, f"ledger-report-{year}.json", "application/json")


@routes.get("/ledger/entries.csv")
async def entries_as_csv(request: web.Request) -> web.Response:
    tenant, _ = signed_in(request)
    year = _year(request)
    entries, _ = await _year_of(request, tenant.id, year)
    return _download(CSV_BOM + entries_csv(entries), f"ledger-entries-{year}.csv", "text/csv")


def _year(request: web.Request) -> int:
    """The ``year`` asked for (four digits), else this year in Beijing time."""
    text = request.query.get("year", "")
    this_year = console_store(request).clock().astimezone(CHINA).year
    year = int(text) if text.isascii() and text.isdigit() and len(text) == 4 else this_year
    return min(max(year, FIRST_YEAR), LAST_YEAR)


async def _year_of(
    request: web.Request, tenant_id: str, year: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The tenant's entries of ``year`` (oldest first) and its report."""
    store = console_store(request)
    reads = LedgerStore(store.connector, clock=store.clock)
    entries = await reads.entries_for_year(year, tenant_id=tenant_id)
    counts = await reads.counts(year, tenant_id=tenant_id)
    report: dict[str, Any] = ledger_report(year, entries, counts)["tenants"].get(tenant_id, {})
    return entries, report


def _download(text: str, name: str, media_type: str) -> web.Response:
    return web.Response(
        body=text.encode("utf-8"),
        content_type=media_type,
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def _shown(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as the page lists it: its time in Beijing time (the year it counts in)."""
    at = dt.datetime.fromisoformat(str(entry["at"])).astimezone(CHINA)
    return {**entry, "at": at.strftime("%Y-%m-%d %H:%M:%S +08:00")}


SCREEN = Screen(name="ledger", routes=routes, menu_path="/ledger", order=35)
