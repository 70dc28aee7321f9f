"""What an auditor or the regulator asks of the export ledger for a year: per tenant and
exporter, the distinct individuals counted against the thresholds, and the documents that
left per destination, per data category and per legal basis, with the individuals they
carried.

The yearly counts are a tenant's own (see :mod:`gateway.store.ledger_export`): an exporter
that two tenants send for appears under each, with each tenant's figures. An entry written
before entries recorded their tenant appears under its submission's tenant, or under ``""``
when none is known."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

FIRST_YEAR = 1000
LAST_YEAR = 9998
"""The years a report is asked for: four digits, with a next 1 January to end the year at."""


def ledger_report(
    year: int, entries: Sequence[Mapping[str, Any]], counts: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The year's report from ledger rows (with their ``owner``, as
    :meth:`~gateway.store.ledger.LedgerStore.entries_for_year` reads them) and yearly count
    rows: ``{"year", "tenants": {tenant: {exporter: figures}}}``."""
    parts: dict[tuple[str, str], dict[str, Any]] = {}

    def of(tenant: str, exporter: str) -> dict[str, Any]:
        return parts.setdefault(
            (tenant, exporter),
            {
                "individuals": 0,
                "sensitive_individuals": 0,
                "counted_documents": 0,
                "documents": 0,
                "subjects_carried": 0,
                "by_destination": Counter(),
                "by_category": Counter(),
                "by_basis": Counter(),
                "subjects_by_destination": Counter(),
            },
        )

    for row in counts:
        part = of(str(row["tenant_id"]), str(row["exporter"]))
        part["individuals"] = int(row["personal"])
        part["sensitive_individuals"] = int(row["sensitive"])
        part["counted_documents"] = int(row["documents"])
    for entry in entries:
        part = of(str(entry.get("owner") or entry.get("tenant_id") or ""), str(entry["exporter"]))
        part["documents"] += 1
        part["subjects_carried"] += int(entry["subjects"])
        part["by_destination"][entry["destination"] or "?"] += 1
        part["subjects_by_destination"][entry["destination"] or "?"] += int(entry["subjects"])
        for category in str(entry["categories"]).split(","):
            part["by_category"][category] += 1
        part["by_basis"][str(entry["basis"])] += 1
    tenants: dict[str, dict[str, Any]] = {}
    for (tenant, exporter), part in sorted(parts.items()):
        tenants.setdefault(tenant, {})[exporter] = {
            key: dict(value) if isinstance(value, Counter) else value for key, value in part.items()
        }
    return {"year": year, "tenants": tenants}


def report_csv(report: Mapping[str, Any]) -> str:
    """The report as CSV: ``year,tenant,exporter,dimension,key,value`` rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["year", "tenant", "exporter", "dimension", "key", "value"])
    for tenant, exporters in report["tenants"].items():
        for exporter, part in exporters.items():
            row = [report["year"], tenant, exporter]
            for key in ("individuals", "sensitive_individuals", "counted_documents",
                        "documents", "subjects_carried"):  # fmt: skip
                writer.writerow([*row, "total", key, part[key]])
            for dimension in (
                "by_destination",
                "subjects_by_destination",
                "by_category",
                "by_basis",
            ):
                for key, value in sorted(part[dimension].items()):
                    writer.writerow([*row, dimension, key, value])
    return out.getvalue()
