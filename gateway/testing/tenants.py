"""Tenants a test or benchmark gateway's configuration names, made before it starts.

Start-up refuses ``[peppol] local_participants`` naming a tenant id no tenant has
(:func:`gateway.service.check_participant_tenants`), as an operator's gateway would; a test
gateway's store is new, so its tenants are made first, each with its id as its name.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.store import open_store


async def make_tenants(store_url: str, tenant_ids: Iterable[str]) -> None:
    """Create each tenant of ``tenant_ids`` in the store at ``store_url`` unless it exists."""
    store = await open_store(store_url)
    try:
        for tenant_id in sorted(set(tenant_ids)):
            if await store.get_tenant(tenant_id) is None:
                await store.create_tenant(tenant_id, tenant_id=tenant_id)
    finally:
        await store.close()


def participant_tenants(entries: Iterable[str]) -> list[str]:
    """The tenant ids of ``"<tenant id>=<scheme>:<value>"`` entries."""
    return sorted({entry.partition("=")[0].strip() for entry in entries})
