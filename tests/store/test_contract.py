"""The store contract, run against SQLite and a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.store.base import Clock, Store
from gateway.store.postgres import PostgresStore
from gateway.store.sqlite import SqliteStore
from gateway.store.testing import StoreContract, StoreFactory


class TestSqliteStore(StoreContract):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        async def make(clock: Clock) -> Store:
            store = await SqliteStore.open(f"sqlite:///{tmp_path}/store.db", clock=clock)
            await store.migrate()
            return store

        return make


@pytest.mark.postgres
class TestPostgresStore(StoreContract):
    @pytest.fixture
    def store_factory(self, pg_url: str) -> StoreFactory:
        async def make(clock: Clock) -> Store:
            # the fake clock moves the job queue's time too (the database's clock otherwise)
            store = await PostgresStore.open(pg_url, clock=clock, queue_clock=clock)
            await store.migrate()
            return store

        return make
