"""A surrender recorded as final by the old rule, migrated, then answered over the wire: two
platforms on loopback TLS (the carrier's on SQLite and PostgreSQL). The surrender is made
with this gateway, both registries are put back as the gateway before the SACC/SREJ rule
stored it (the carrier's eBL ``surrendered``, the requester's title saying surrendered, the
schema before the migration), and both platforms start again: the migration gives the carrier
the pending request back, and the carrier's SACC then surrenders the eBL on both platforms."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.pint.codes import ActionCode
from gateway.store.ebl_legacy import SURRENDER_REQUESTS
from gateway.store.migrations import load_migrations
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
    """The row of ``reference`` as the gateway before the SACC/SREJ rule wrote it, and the
    schema before the migration that maps such rows."""
    ((title,),) = database.fetch("SELECT title FROM ebl_titles WHERE reference = ?", (reference,))
    current = json.loads(title)
    old = {k: current[k] for k in ("carrier", "possessor", "holder", "toOrder")}
    old["surrendered"] = True
    version = [m.name for m in load_migrations(database.backend)].index(SURRENDER_REQUESTS) + 1
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
            ("DROP TABLE ebl_title_migrations", ()),
            ("DELETE FROM schema_version WHERE version >= ?", (version,)),
        ]
    )


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

    a, b = await pair.start()  # each store migrates as it opens
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
