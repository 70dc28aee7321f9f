"""The ledger entry is appended by one statement that the store sends with the commit
(``Query(last=True)``): its hash, made in SQL, is the one the verifier makes in Python, for
any text; a script that yields after its last query is refused and rolled back."""

from __future__ import annotations

import pytest

from gateway.store import StoreError
from gateway.store.connector import Query, Script
from gateway.store.ledger_chain import entry_hash, verify_chain
from tests.store.ledger_support import Stores, backend, export, stores

__all__ = ["backend", "stores"]


async def test_the_hash_made_in_sql_is_the_verifiers_for_any_text(stores: Stores) -> None:
    exporters = ["上海临港贸易有限公司", 'Ünïcödé ≠ ascii "quoted" \\ back', "plain"]
    for number, exporter in enumerate(exporters):
        await export(stores, [("h", False)], exporter=exporter, number=f"№{number}")
    entries = await stores.ledger.entries()
    assert [e["exporter"] for e in entries] == exporters
    previous = "0" * 64
    for entry in entries:
        assert entry["prev_hash"] == previous
        assert entry["entry_hash"] == entry_hash(previous, entry)
        previous = entry["entry_hash"]
    assert verify_chain(*await stores.ledger.chain_state()).ok


async def test_a_script_yielding_after_its_last_query_is_rolled_back(stores: Stores) -> None:
    def script() -> Script[None]:
        yield Query("insert_tenant", {"id": "u", "name": "U", "now": stores.clock()}, "one")
        yield Query("ledger_head", {}, "one", last=True)
        yield Query("ledger_head", {}, "one")

    with pytest.raises(StoreError, match="after its last query"):
        await stores.store.connector.write(script())
    if stores.backend == "sqlite":  # refused before the commit
        assert await stores.store.get_tenant("u") is None


async def test_a_failing_last_query_rolls_the_whole_transaction_back(stores: Stores) -> None:
    def script() -> Script[None]:
        now = stores.clock()
        yield Query("insert_tenant", {"id": "v", "name": "V", "now": now}, "one")
        yield Query("insert_tenant", {"id": "t", "name": "again", "now": now}, "one", last=True)

    with pytest.raises(StoreError):
        await stores.store.connector.write(script())
    assert await stores.store.get_tenant("v") is None
    assert await stores.store.create_tenant("W", tenant_id="w")  # the connection is usable


async def test_a_failing_query_before_the_last_rolls_back_too(stores: Stores) -> None:
    def script() -> Script[None]:
        now = stores.clock()
        yield Query("insert_tenant", {"id": "x", "name": "X", "now": now})
        yield Query("insert_tenant", {"id": "t", "name": "again", "now": now})
        yield Query("ledger_head", {}, "one", last=True)

    with pytest.raises(StoreError):
        await stores.store.connector.write(script())
    assert await stores.store.get_tenant("x") is None
