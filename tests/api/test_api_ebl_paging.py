"""Paging through ``GET /v1/ebls`` over TLS on both stores: following ``next`` visits every
eBL once, also when several were changed at the same instant (two replicas, one clock
tick), and a malformed cursor is a 422 naming it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from gateway.pint.stored import chain_title
from gateway.store.ebl import EblRegistry, NewTitle
from gateway.testing.pint import issue_and_transfer, transport_document
from tests.api.ebl_live import ebl_platforms


def _transferred(reference: Path, number: str) -> NewTitle:
    """An eBL issued on WAVE and transferred to BOLE (its title replayed from the chain)."""
    new = issue_and_transfer(transport_document(reference, number))
    return dataclasses.replace(new, title=chain_title(new.chain, to_order=False).as_json())


async def test_following_next_visits_every_ebl_once_even_when_they_share_a_time(
    tmp_path: Path, reference: Path, store_url: str
) -> None:
    async with ebl_platforms(tmp_path, reference, store_url) as live, live.replica() as api:
        instant = datetime(2026, 12, 1, 8, 0, 0, 123456, tzinfo=UTC)
        same_tick = EblRegistry(api.services.store.connector, clock=lambda: instant)
        later = EblRegistry(api.services.store.connector, clock=lambda: instant.replace(hour=9))
        references = [f"PAGE{n:04d}" for n in range(7)]
        for index, number in enumerate(references):
            registry = later if index == 0 else same_tick
            await registry.issue(_transferred(reference, number))
        seen: list[str] = []
        query: dict[str, str] = {"limit": "2"}
        for _ in range(10):
            status, _, page = await live.call(api, "GET", "/v1/ebls", params=query)
            assert status == 200, page
            seen += [item["transportDocumentReference"] for item in page["items"]]
            if page["next"] is None:
                break
            query = {"limit": "2", **page["next"]}
        assert sorted(seen) == references and len(seen) == len(references)
        assert seen[0] == "PAGE0000"

        for bad, field in (
            ({"before_checksum": "a" * 64}, "before"),
            ({"before": instant.isoformat(), "before_checksum": "zz"}, "before_checksum"),
        ):
            status, _, problem = await live.call(api, "GET", "/v1/ebls", params=bad)
            assert status == 422 and problem["errors"][0]["field"] == field, problem
