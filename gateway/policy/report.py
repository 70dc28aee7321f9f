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

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a CSV cell as a formula (OWASP, CSV injection)."""
ENTRY_COLUMNS = (
    "at", "exporter", "destination", "recipient", "document_id", "submission_id",
    "categories", "subjects", "basis", "article", "policy_version", "decided_by", "principal",
    "tenant_id", "digest", "prev_hash", "entry_hash",
)  # fmt: skip
"""The columns of :func:`entries_csv`, a tenant's download: each entry with every field its
hash covers and its hashes, so each row written since entries record their tenant and
principal (migrations 17 and 18; an empty cell of an older row is a field it lacks) checks
by itself (``entry_hash`` is :func:`~gateway.store.ledger_chain.entry_hash` over
``prev_hash`` and the row, ``subjects`` read as a number). Not the
entry's ``seq``: the chain is one for every tenant, so its sequence numbers would count the
other tenants' exports between a tenant's own."""
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


def cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: text starting like a formula (a legal basis
    typed by an officer: ``=HYPERLINK(...)``) gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _SafeWriter:
    """A ``csv.writer`` whose text cells are :func:`cell`."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out, lineterminator="\n")

    def writerow(self, row: Sequence[Any]) -> None:
        self._writer.writerow([cell(value) for value in row])


def report_csv(report: Mapping[str, Any]) -> str:
    """The report as CSV: ``year,tenant,exporter,dimension,key,value`` rows, with a
    ``tenant_name`` column after ``tenant`` when the report has ``tenant_names`` (text
    cells that a spreadsheet would take for a formula are quoted, see :func:`cell`)."""
    out = io.StringIO()
    writer = _SafeWriter(out)
    names: Mapping[str, str] | None = report.get("tenant_names")
    named = ["tenant_name"] if names is not None else []
    writer.writerow(["year", "tenant", *named, "exporter", "dimension", "key", "value"])
    for tenant, exporters in report["tenants"].items():
        name = [names.get(tenant, "")] if names is not None else []
        for exporter, part in exporters.items():
            row = [report["year"], tenant, *name, exporter]
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


def entries_csv(entries: Sequence[Mapping[str, Any]]) -> str:
    """Ledger entries as CSV, one row each in :data:`ENTRY_COLUMNS` (text cells that a
    spreadsheet would take for a formula are quoted, see :func:`cell`)."""
    out = io.StringIO()
    writer = _SafeWriter(out)
    writer.writerow(ENTRY_COLUMNS)
    for entry in entries:
        writer.writerow(["" if entry.get(key) is None else entry[key] for key in ENTRY_COLUMNS])
    return out.getvalue()
