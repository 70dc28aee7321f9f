"""The export ledger of a calendar year (Beijing time), the tenant's own: per exporter the
individuals counted against the 2024 Provisions' thresholds and the documents per
destination, data category and legal basis, then the year's entries, newest first (who
decided, on what basis, under which policy version)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from gateway.api.console.context import Screen, console_store, signed_in
from gateway.api.console.page import render
from gateway.policy import CHINA
from gateway.policy.report import FIRST_YEAR, LAST_YEAR, ledger_report
from gateway.store.ledger import LedgerStore

routes = web.RouteTableDef()
SHOWN_ENTRIES = 200
"""The newest entries of the year listed on the page (the report counts them all)."""


@routes.get("/ledger")
async def ledger(request: web.Request) -> web.Response:
    tenant, _ = signed_in(request)
    store = console_store(request)
    this_year = store.clock().astimezone(CHINA).year
    text = request.query.get("year", "")
    year = int(text) if text.isascii() and text.isdigit() and len(text) == 4 else this_year
    year = min(max(year, FIRST_YEAR), LAST_YEAR)
    reads = LedgerStore(store.connector, clock=store.clock)
    entries = await reads.entries_for_year(year, tenant_id=tenant.id)
    counts = await reads.counts(year, tenant_id=tenant.id)
    report = ledger_report(year, entries, counts)["tenants"].get(tenant.id, {})
    return render(
        request,
        "ledger.html",
        year=year,
        report=report,
        entries=[_shown(e) for e in reversed(entries[-SHOWN_ENTRIES:])],
        total=len(entries),
    )


def _shown(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as the page lists it: its time in Beijing time (the year it counts in)."""
    at = dt.datetime.fromisoformat(str(entry["at"])).astimezone(CHINA)
    return {**entry, "at": at.strftime("%Y-%m-%d %H:%M:%S +08:00")}


SCREEN = Screen(name="ledger", routes=routes, menu_path="/ledger", order=35)
