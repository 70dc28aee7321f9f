"""Fixtures for pipeline tests: a real SQLite store and services with a simple stage table."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from adapters.base import AdapterContext
from adapters.registry import AdapterRegistry
from gateway.pipeline import Pipeline
from gateway.pipeline.routing import Router
from gateway.pipeline.stages import Stage, Toolbox
from gateway.settings import AdapterConfig, Routing
from gateway.store import Store, open_store
from pipeline.stand_ins import Seal, Upper


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(f"sqlite:///{tmp_path / 'gateway.db'}")
    yield opened
    await opened.close()


MakePipeline = Callable[..., Pipeline]


@pytest.fixture
async def make_pipeline(store: Store, tmp_path: Path) -> AsyncIterator[MakePipeline]:
    made: list[Pipeline] = []

    def make(stages: list[Stage] | None = None) -> Pipeline:
        registry = AdapterRegistry.build(
            {"drop": AdapterConfig("drop", "folder", {"path": "out"})},
            AdapterContext(data_dir=tmp_path),
        )
        pipeline = Pipeline(
            store,
            stages=stages if stages is not None else [Upper(), Seal()],
            toolbox=Toolbox(),
            adapters=registry,
            router=Router(Routing(default="drop"), registry.names()),
        )
        made.append(pipeline)
        return pipeline

    yield make
    for pipeline in made:
        await pipeline.adapters.aclose()
        await pipeline.aclose()
