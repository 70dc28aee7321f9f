"""``lingang partners``: check a partner directory file, load it into the store, show it.

The directory (``[[partners]]`` and ``[[exporters]]`` tables, see the README) is the same file
``lingang convert --partners`` reads and ``PUT /v1/partners`` takes. ``check FILE`` reads it
as the API would (TOML, or JSON for a ``.json`` file; every entry checked) and touches no
store; ``import FILE --tenant NAME`` makes it the tenant's whole directory in one store
transaction (a reader sees the old directory or the new one); ``show --tenant NAME`` prints
the stored directory as JSON in the file's shape, so ``show`` then ``import`` round-trips.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from gateway.cli.migrate import add_database_arguments
from gateway.cli.tenants import find_tenant, with_store
from gateway.errors import FieldError
from gateway.ingest.source import FileTooLarge, read_bounded_file
from gateway.partners.directory import PartnerDirectory
from gateway.partners.document import MAX_DIRECTORY_BYTES, Syntax, read_directory
from gateway.store import Store, Tenant
from gateway.store.partner_directory import (
    directory_document,
    directory_entries,
    replace_directory,
)

SYNTAXES: tuple[Syntax, ...] = ("toml", "json")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "partners",
        help="check a partner directory, load it into the store for a tenant, show it",
        description="The partner directory: buyers (endpoint, country, currency, profile) "
        "and exporters (Peppol identity, data-export filings), one file of [[partners]] and "
        "[[exporters]] tables.",
    )
    actions = parser.add_subparsers(dest="partners_command", metavar="ACTION", required=True)

    check = actions.add_parser("check", help="check a directory file (no store needed)")
    _file_arguments(check)
    check.set_defaults(handler=run_check)

    load = actions.add_parser(
        "import", help="make a directory file the tenant's whole directory in the store"
    )
    _file_arguments(load)
    load.add_argument("--tenant", required=True, metavar="NAME", help="the tenant's name")
    add_database_arguments(load)
    load.set_defaults(handler=run_import)

    show = actions.add_parser("show", help="print the tenant's stored directory as JSON")
    show.add_argument("--tenant", required=True, metavar="NAME", help="the tenant's name")
    add_database_arguments(show)
    show.set_defaults(handler=run_show)


def _file_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", type=Path, help="the directory (TOML or JSON)")
    parser.add_argument(
        "--format",
        choices=SYNTAXES,
        help="the file's syntax (default: json for a .json file, else toml)",
    )


def read_directory_file(path: Path, syntax: Syntax | None) -> dict[str, Any]:
    """The directory in ``path``, every entry checked (a :class:`FieldError` naming the
    field and rule otherwise), with the store keys unique."""
    try:
        raw = read_bounded_file(path, MAX_DIRECTORY_BYTES)
    except FileTooLarge as exc:
        raise FieldError(
            f"{path} is larger than a partner directory may be ({MAX_DIRECTORY_BYTES} bytes)",
            field="file",
            rule="max-directory-bytes",
        ) from exc
    chosen: Syntax = syntax or ("json" if path.suffix.lower() == ".json" else "toml")
    try:
        data = read_directory(raw, chosen)
        PartnerDirectory.from_dict(data)
        directory_entries(data)
    except FieldError as exc:
        raise FieldError(f"{path}: {exc.message}", field=exc.field, rule=exc.rule) from exc
    return data


def _counts(data: dict[str, Any]) -> str:
    partners, exporters = len(data.get("partners", [])), len(data.get("exporters", []))
    return f"{partners} partner(s), {exporters} exporter(s)"


def run_check(args: argparse.Namespace) -> int:
    data = read_directory_file(args.file, args.format)
    print(f"{args.file}: a valid partner directory, {_counts(data)}")
    return 0


async def _tenant(store: Store, name: str) -> Tenant:
    tenant = await find_tenant(store, name)
    if tenant is None:
        raise FieldError(
            f"no tenant named {name!r} (see them with: lingang tenants list)", field="tenant"
        )
    return tenant


def run_import(args: argparse.Namespace) -> int:
    data = read_directory_file(args.file, args.format)

    async def work(store: Store) -> int:
        return await replace_directory(store, (await _tenant(store, args.tenant)).id, data)

    count = with_store(args, work)
    print(
        f"tenant {args.tenant}: directory replaced by {args.file}, {count} entries ({_counts(data)})"
    )
    return 0


def run_show(args: argparse.Namespace) -> int:
    async def work(store: Store) -> dict[str, list[dict[str, Any]]]:
        return await directory_document(store, (await _tenant(store, args.tenant)).id)

    print(json.dumps(with_store(args, work), ensure_ascii=False, indent=2))
    return 0
