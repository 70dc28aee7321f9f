"""A surrender recorded as final by the old rule, migrated, then answered over the wire: two
platforms on loopback TLS (the carrier's on SQLite and PostgreSQL). The surrender is made
with this gateway, both registries are put back as the gateway before the SACC/SREJ rule
stored it (the carrier's eBL ``surrendered``, the requester's title saying surrendered), the
migration's data step runs on them as it does when a store reaches that migration (the
schema itself is the latest: later migrations cannot be undone here; how a store of an older
version reaches it is ``tests/store/test_ebl_migrations.py``), and both platforms start again:
the carrier has the pending request back, and its SACC then surrenders the eBL on both
platforms."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.pint.codes import ActionCode
from gateway.store import open_store
from gateway.store.ebl_legacy import SURRENDER_REQUESTS
from gateway.store.migrations import load_migrations
from gateway.store.records import utcnow
from gateway.testing.cluster import free_port
from gateway.testing.pint import (
    InProcessPlatform,
    PlatformHome,
    platform,
    transport_document,
    write_platform_homes,
)
from gateway.testing.tls import TlsFiles, make_tls
from tests.pint.test_title_flows import run_transfers
from tests.store.test_ebl_migrations import OldDatabase


class Pair:
    def __init__(self, homes: list[PlatformHome], tls: TlsFiles, urls: list[str]) -> None:
        self.homes, self.tls, self.urls = homes, tls, urls
        self.nodes: list[InProcessPlatform] = []

    async def start(self) -> tuple[InProcessPlatform, InProcessPlatform]:
        self.nodes = [await InProcessPlatform(h, self.tls).start() for h in self.homes]
        return self.nodes[0], self.nodes[1]

    async def stop(self) -> None:
        for node in self.nodes:
            await node.stop()
        self.nodes = []

    def database(self, index: int) -> OldDatabase:
        url = self.urls[index]
        return OldDatabase("sqlite" if url.startswith("sqlite") else "postgres", url)


@pytest.fixture
async def pair(tmp_path: Path, reference: Path, store_url: str) -> AsyncIterator[Pair]:
    tls = make_tls(tmp_path / "tls")
    urls = [store_url, f"sqlite:///{tmp_path}/b.db"]
    homes = write_platform_homes(
        tmp_path, [platform("AEOT", "ed25519", "SHIPPER", carrier=True),
                   platform("IQAX", "p256", "BANK")],
        reference_root=reference, tls=tls, ports=[free_port(), free_port()], store_urls=urls,
    )  # fmt: skip
    running = Pair(homes, tls, urls)
    yield running
    await running.stop()


def as_the_old_rule_stored_it(database: OldDatabase, reference: str, *, carrier: bool) -> None:
    """The row of ``reference`` as the gateway before the SACC/SREJ rule wrote it, and no
    record yet of the migration that maps such rows."""
    ((title,),) = database.fetch("SELECT title FROM ebl_titles WHERE reference = ?", (reference,))
    current = json.loads(title)
    old = {k: current[k] for k in ("carrier", "possessor", "holder", "toOrder")}
    old["surrendered"] = True
    database.execute(
        [
            (
                "UPDATE ebl_titles SET state = ?, title = ? WHERE reference = ?",
                (
                    "surrendered" if carrier else "transferred",
                    json.dumps(old, separators=(",", ":")),
                    reference,
                ),
            ),
            ("DELETE FROM ebl_title_migrations", ()),
        ]
    )


async def run_surrender_migration(database: OldDatabase) -> None:
    """The data step of the surrender migration, in one transaction, as the store runs it."""
    (migration,) = [m for m in load_migrations(database.backend) if m.name == SURRENDER_REQUESTS]
    step = migration.data_step()
    assert step is not None
    store = await open_store(database.url)
    try:

        def script() -> Any:
            yield from step(utcnow())
            return 0

        await store.connector.migrate(script())
    finally:
        await store.close()


async def test_a_surrender_stored_as_final_is_answered_after_the_migration(
    pair: Pair, reference: Path
) -> None:
    a, b = await pair.start()
    pa, pb = a.adapter.platform, b.adapter.platform
    await pa.issue(transport_document(reference, "OLDRULE001"), to=pb.options.party("BANK"))
    assert await run_transfers(a) == ["RECE"]
    await pb.transfer("OLDRULE001", to=None, action=ActionCode.SURRENDER_FOR_DELIVERY)
    assert await run_transfers(b) == ["RECE"]
    before: dict[str, Any] = (await pa.registry.find("OLDRULE001")).title
    await pair.stop()

    as_the_old_rule_stored_it(pair.database(0), "OLDRULE001", carrier=True)
    as_the_old_rule_stored_it(pair.database(1), "OLDRULE001", carrier=False)
    assert pair.database(0).fetch(
        "SELECT state FROM ebl_titles WHERE reference = 'OLDRULE001'"
    ) == [("surrendered",)]

    for index in (0, 1):
        await run_surrender_migration(pair.database(index))
    a, b = await pair.start()
    pa, pb = a.adapter.platform, b.adapter.platform
    at_a, at_b = await pa.registry.find("OLDRULE001"), await pb.registry.find("OLDRULE001")
    assert (at_a.state, at_b.state) == ("held", "transferred")
    assert at_a.title == before and at_b.title == before
    assert await pa.registry.left_by_migrations() == []
    assert pair.database(0).fetch(
        "SELECT outcome, old_state, new_state FROM ebl_title_migrations"
    ) == [("migrated", "surrendered", "held")]

    await pa.transfer("OLDRULE001", to=None, action=ActionCode.SACC)
    assert await run_transfers(a) == ["RECE"]
    at_a, at_b = await pa.registry.find("OLDRULE001"), await pb.registry.find("OLDRULE001")
    assert (at_a.state, at_b.state) == ("surrendered", "surrendered")
    history = await pb.history("OLDRULE001")
    assert [t["actionCode"] for e in history["chain"] for t in e["transactions"]] == [
        "ISSUE", "SURRENDER_FOR_DELIVERY", "SACC",
    ]  # fmt: skip
