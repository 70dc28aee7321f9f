"""The store's title-token registry, on SQLite and a real PostgreSQL: the Token Registry
rules (who may transfer, nominate, surrender), version fencing and the history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.model.title_registry import TokenRegistry, TokenState
from gateway.store.base import ConflictError, NotFoundError, Store
from gateway.store.postgres import PostgresStore
from gateway.store.sqlite import SqliteStore
from gateway.store.title_tokens import StoredTokenRegistry

REGISTRY = "0x0000000000000000000000000000000000000001"
TOKEN = "11d456db211d68cc8a6eac5e293422dec669b54812e4975497d7099467335987"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    if store_url.startswith("sqlite"):
        opened: Store = await SqliteStore.open(store_url)
    else:
        opened = await PostgresStore.open(store_url)
    await opened.migrate()
    yield opened
    await opened.close()


def _registry(store: Store) -> TokenRegistry:
    return StoredTokenRegistry(store.connector, store.clock, REGISTRY)


async def test_life_of_a_title(store: Store) -> None:
    registry = _registry(store)
    minted = await registry.mint(TOKEN, "shipper", "shipper", remark="issued")
    assert (minted.state, minted.version) == (TokenState.ACTIVE, 1)
    await registry.transfer_holder(TOKEN, "shipper", "bank")
    with pytest.raises(ConflictError):
        await registry.transfer_beneficiary(TOKEN, "bank", "buyer")
    await registry.nominate(TOKEN, "shipper", "buyer")
    await registry.transfer_beneficiary(TOKEN, "bank", "buyer")
    await registry.transfer_holder(TOKEN, "bank", "buyer")
    surrendered = await registry.surrender(TOKEN, "buyer")
    assert surrendered.state is TokenState.SURRENDERED
    restored = await registry.restore(TOKEN)
    assert restored.state is TokenState.ACTIVE
    await registry.surrender(TOKEN, "buyer")
    burned = await registry.burn(TOKEN)
    assert (burned.state, burned.beneficiary, burned.holder) == (
        TokenState.BURNED,
        "buyer",
        "buyer",
    )
    actions = [e.action for e in await registry.history(TOKEN)]
    assert actions == [
        "mint", "transfer-holder", "nominate", "transfer-beneficiary", "transfer-holder",
        "surrender", "restore", "surrender", "burn",
    ]  # fmt: skip
    with pytest.raises(ConflictError):
        await registry.transfer_holder(TOKEN, "buyer", "someone")


async def test_refusals(store: Store) -> None:
    registry = _registry(store)
    await registry.mint(TOKEN, "shipper", "forwarder")
    with pytest.raises(ConflictError):
        await registry.mint(TOKEN, "x", "y")
    with pytest.raises(ConflictError):
        await registry.transfer_holder(TOKEN, "shipper", "bank")
    with pytest.raises(ConflictError):
        await registry.surrender(TOKEN, "forwarder")
    with pytest.raises(ConflictError):
        await registry.burn(TOKEN)
    with pytest.raises(NotFoundError):
        await registry.owner("unknown")
    with pytest.raises(ConflictError):
        await registry.mint("t2", "a", "b", remark="x" * 121)
    assert (await registry.owner(TOKEN)).holder == "forwarder"
