"""``lingang tenants``: create tenants, list them, add and rotate their API keys.

``create NAME``, ``add-key NAME`` and ``rotate-key NAME`` print a new API key exactly once,
on stdout; only its SHA-256 is stored, so a lost key cannot be recovered, only replaced. A
key's role is ``submitter`` (the default: submits documents, reads the tenant's records) or
``officer`` (a compliance officer's key: may also release and refuse the tenant's held
documents): ``add-key NAME --role officer --label "Li Wei, compliance"``. ``rotate-key``
revokes the key ids given with ``--revoke`` (each ``create`` / ``rotate-key`` prints the id
of the key it made; ``list`` shows them all) after issuing the new one, so clients can switch
before the old key stops working. A ``--revoke`` id must be a live key of the named tenant:
anything else is refused before any key is made.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

from gateway.cli._stores import open_command_store
from gateway.cli.migrate import add_database_arguments, database_url, shown_url
from gateway.errors import FieldError
from gateway.shown_text import check_name
from gateway.store import ApiKey, Store, Tenant
from gateway.store.records import ROLES, SUBMITTER

T = TypeVar("T")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "tenants",
        help="create tenants, list them, rotate their API keys",
        description="Manage the tenants of the HTTP API and their API keys (stored hashed).",
    )
    commands = parser.add_subparsers(dest="tenants_command", metavar="ACTION", required=True)

    create = commands.add_parser("create", help="create a tenant and print its first API key")
    create.add_argument("name", metavar="NAME")
    create.add_argument("--label", default="initial", help="label of the key (default: initial)")
    add_database_arguments(create)
    create.set_defaults(handler=run_create)

    listing = commands.add_parser("list", help="list the tenants")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    add_database_arguments(listing)
    listing.set_defaults(handler=run_list)

    add = commands.add_parser(
        "add-key",
        help="issue another API key for a tenant (e.g. a compliance officer's)",
        description="Issue a new API key for the tenant, with a role: submitter (submits "
        "documents, reads the tenant's records) or officer (may also release and refuse the "
        "tenant's held documents; the decision records the key).",
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", choices=ROLES, default=SUBMITTER, help="default: submitter")
    add.add_argument("--label", default="", help="who or what uses the key (shown by list)")
    add_database_arguments(add)
    add.set_defaults(handler=run_add, revoke=[])

    rotate = commands.add_parser("rotate-key", help="issue a new API key for a tenant")
    rotate.add_argument("name", metavar="NAME")
    rotate.add_argument(
        "--revoke",
        action="append",
        default=[],
        metavar="KEY_ID",
        help="revoke this key id once the new key exists (repeatable)",
    )
    rotate.add_argument("--label", default="rotated", help="label of the new key")
    rotate.add_argument("--role", choices=ROLES, default=SUBMITTER, help="default: submitter")
    add_database_arguments(rotate)
    rotate.set_defaults(handler=run_rotate)


def run_create(args: argparse.Namespace) -> int:
    if not args.name.strip() or args.name != args.name.strip():
        raise FieldError(
            f"a tenant name must be non-empty text without white space at either end, not "
            f"{args.name!r}",
            field="name",
            rule="tenant.name",
        )
    check_name(args.name, "name", "a tenant's name")

    async def work(store: Store) -> tuple[Tenant, str, str]:
        if await find_tenant(store, args.name) is not None:
            raise FieldError(f"a tenant named {args.name!r} exists already", field="name")
        tenant = await store.create_tenant(args.name)
        key, record = await store.issue_api_key(tenant.id, label=args.label)
        return tenant, key, record.id

    tenant, key, key_id = with_store(args, work, create=True)
    print(f"tenant {tenant.name} ({tenant.id}) created; API key id {key_id}")
    print("API key (shown once, store it now):")
    print(key)
    return 0


def run_list(args: argparse.Namespace) -> int:
    async def work(store: Store) -> list[tuple[Tenant, list[ApiKey]]]:
        return [(t, await store.list_api_keys(t.id)) for t in await store.list_tenants()]

    listed = with_store(args, work)
    if not listed and not args.json:
        where = shown_url(database_url(args))
        print(f"no tenants in the store {where}; make one with: lingang tenants create NAME")
    for tenant, keys in listed:
        if args.json:
            entry = {
                "id": tenant.id,
                "name": tenant.name,
                "created_at": tenant.created_at,
                "keys": [_key_entry(k) for k in keys],
            }
            print(json.dumps(entry, default=str, ensure_ascii=False))
            continue
        print(f"{tenant.id}  {tenant.created_at:%Y-%m-%d %H:%M}  {tenant.name}")
        for key in keys:
            state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
            made = f"{key.created_at:%Y-%m-%d %H:%M}"
            print(f"    key {key.id}  made {made}  {state}  {key.role}  {key.label}")
    return 0


def _key_entry(key: ApiKey) -> dict[str, object]:
    return {
        "id": key.id,
        "label": key.label,
        "role": key.role,
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
    }


def run_rotate(args: argparse.Namespace) -> int:
    async def work(store: Store) -> tuple[Tenant, str, str]:
        tenant = await find_tenant(store, args.name)
        if tenant is None:
            raise FieldError(f"no tenant named {args.name!r}", field="name")
        await _check_revocable(store, tenant, args.revoke)
        key, record = await store.issue_api_key(tenant.id, label=args.label, role=args.role)
        for key_id in args.revoke:
            await store.revoke_api_key(key_id)
        return tenant, key, record.id

    tenant, key, key_id = with_store(args, work)
    revoked = f"; revoked {', '.join(args.revoke)}" if args.revoke else ""
    print(f"new {args.role} API key id {key_id} for tenant {tenant.name}{revoked}")
    print("API key (shown once, store it now):")
    print(key)
    return 0


def run_add(args: argparse.Namespace) -> int:
    """``add-key``: a new key beside the tenant's others (``rotate-key`` without revoking)."""
    return run_rotate(args)


async def _check_revocable(store: Store, tenant: Tenant, key_ids: list[str]) -> None:
    """Each id must name a live key of ``tenant`` (another tenant's key looks unknown)."""
    keys = {key.id: key for key in await store.list_api_keys(tenant.id)}
    for key_id in key_ids:
        key = keys.get(key_id)
        if key is None:
            raise FieldError(
                f"tenant {tenant.name!r} has no API key {key_id!r} "
                f"(see its keys with: lingang tenants list)",
                field="revoke",
            )
        if key.revoked_at is not None:
            raise FieldError(
                f"API key {key_id!r} of tenant {tenant.name!r} was revoked already "
                f"({key.revoked_at:%Y-%m-%d %H:%M})",
                field="revoke",
            )


async def find_tenant(store: Store, name: str) -> Tenant | None:
    """The tenant called ``name`` (names are unique through this command)."""
    for tenant in await store.list_tenants():
        if tenant.name == name:
            return tenant
    return None


async def tenant_named(store: Store, given: str, *, option: str = "--tenant") -> Tenant:
    """The tenant ``given`` names, by its id or its name (``lingang tenants list`` prints
    both); a :class:`FieldError` naming ``option`` when there is none, never a tenant
    assumed."""
    tenant = await store.get_tenant(given) or await find_tenant(store, given)
    if tenant is None:
        raise FieldError(
            f"no tenant {given!r}: {option} takes a tenant's id or name "
            "(see them with: lingang tenants list)",
            field=option.lstrip("-"),
        )
    return tenant


def with_store(
    args: argparse.Namespace, work: Callable[[Store], Awaitable[T]], *, create: bool = False
) -> T:
    """``work`` run on the store the arguments name (``--database`` / ``--config``), closed
    afterwards; only with ``create`` is a store that is not there yet made
    (:func:`~gateway.cli._stores.open_command_store`)."""

    async def run() -> T:
        store = await open_command_store(database_url(args), create=create)
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())
