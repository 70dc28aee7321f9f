"""``lingang ledger report --year YYYY [--tenant ID|NAME] [--exporter ID] [--format csv|json]``."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from gateway.cli._gatestore import gate_store
from gateway.cli.migrate import add_database_arguments, database_url
from gateway.cli.tenants import tenant_named
from gateway.policy.report import FIRST_YEAR, LAST_YEAR, ledger_report, report_csv


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = actions.add_parser(
        "report",
        help="the year's exports per destination, category and legal basis",
        description="What an auditor or the regulator asks for: per tenant and exporter, the "
        "distinct individuals counted this year (Beijing time), and the documents that left "
        "per destination, per data category and per legal basis, with the individuals "
        "carried. Counts are each tenant's own: an exporter two tenants send for appears "
        "under each. Tenants are keyed by id (a name may change), each named in "
        "tenant_names (JSON) or the tenant_name column (CSV); an entry from before entries "
        'recorded their tenant, of no known submission, is under the tenant "".',
    )
    parser.add_argument("--year", type=_year, required=True, help="the calendar year, YYYY")
    parser.add_argument("--tenant", help="one tenant (its id or name)")
    parser.add_argument("--exporter", help="one exporter (the seller's USCC)")
    parser.add_argument("--format", choices=("json", "csv"), default="json")
    add_database_arguments(parser)
    parser.set_defaults(handler=run)


def _year(text: str) -> int:
    """A calendar year the report can bound (Beijing time, up to the next 1 January)."""
    if not text.isascii() or not text.isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a year from {FIRST_YEAR} to {LAST_YEAR} (YYYY)"
        )
    return int(text)


def run(args: argparse.Namespace) -> int:
    report = asyncio.run(_report(database_url(args), args.year, args.exporter, args.tenant))
    if args.format == "csv":
        print(report_csv(report), end="")
    else:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


async def _report(url: str, year: int, exporter: str | None, tenant: str | None) -> dict[str, Any]:
    async with gate_store(url) as (store, ledger):
        if tenant is not None:
            tenant = (await tenant_named(store, tenant)).id
        entries = await ledger.entries_for_year(year, exporter, tenant_id=tenant)
        counts = await ledger.counts(year, exporter, tenant_id=tenant)
        names = {known.id: known.name for known in await store.list_tenants()}
    report = ledger_report(year, entries, counts)
    report["tenant_names"] = {owner: names.get(owner, "") for owner in report["tenants"]}
    return report
