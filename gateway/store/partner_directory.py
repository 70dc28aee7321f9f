"""A tenant's partner directory in the store, in the TOML file's own shape.

Each ``[[partners]]`` table is one store entry of kind ``partner`` keyed ``id:<buyer_id>``
(or ``name:<buyer_name>`` when it has no id); each ``[[exporters]]`` table is one entry of
kind ``exporter`` keyed by its ``seller_id``. The stored document is the table exactly as
given (after :class:`~gateway.partners.PartnerDirectory` accepted the whole directory), so
``PartnerDirectory.from_dict(await directory_document(...))`` rebuilds the directory the
client sent. The HTTP API writes and shows it; the pipeline reads it for each submission.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.errors import FieldError
from gateway.partners.directory import PartnerDirectory
from gateway.store import Store

PARTNER = "partner"
EXPORTER = "exporter"
SECTIONS = {"partners": PARTNER, "exporters": EXPORTER}
"""Top-level array of tables → store entry kind."""


def directory_entries(data: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """``(kind, key, table)`` for every table of a validated directory; keys must be unique."""
    entries: list[tuple[str, str, dict[str, Any]]] = []
    seen: set[tuple[str, str]] = set()
    for section, kind in SECTIONS.items():
        for index, table in enumerate(data.get(section, [])):
            key = entry_key(kind, table)
            if (kind, key) in seen:
                raise FieldError(
                    f"{section}[{index}] repeats {key!r} of an earlier entry",
                    field=f"{section}[{index}]",
                    rule="unique",
                )
            seen.add((kind, key))
            entries.append((kind, key, dict(table)))
    return entries


def entry_key(kind: str, table: Mapping[str, Any]) -> str:
    """The store key of one table."""
    if kind == EXPORTER:
        return str(table["seller_id"]).strip()
    buyer_id = table.get("buyer_id")
    if isinstance(buyer_id, str) and buyer_id.strip():
        return "id:" + buyer_id.strip()
    return "name:" + str(table["buyer_name"]).strip()


async def replace_directory(store: Store, tenant_id: str, data: Mapping[str, Any]) -> int:
    """Validate ``data`` and make it the tenant's whole directory; return the entry count.

    One store transaction (:meth:`Store.replace_directory`): a reader sees the old directory
    or the new one, and a crash part-way leaves the old one.
    """
    PartnerDirectory.from_dict(data)
    entries = directory_entries(data)
    await store.replace_directory(tenant_id, entries)
    return len(entries)


async def directory_document(store: Store, tenant_id: str) -> dict[str, list[dict[str, Any]]]:
    """The tenant's directory in the TOML file's shape (``partners`` and ``exporters``)."""
    out: dict[str, list[dict[str, Any]]] = {section: [] for section in SECTIONS}
    kinds = {kind: section for section, kind in SECTIONS.items()}
    for entry in await store.list_directory(tenant_id):
        section = kinds.get(entry.kind)
        if section is not None:
            out[section].append(dict(entry.document))
    return out
