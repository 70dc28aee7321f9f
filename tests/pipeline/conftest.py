"""Fixtures for pipeline tests: a real SQLite store and services with a simple stage table."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.base import AdapterContext
from adapters.registry import AdapterRegistry
from gateway.pipeline import Pipeline
from gateway.pipeline.routing import Router
from gateway.pipeline.stages import Stage, StageContext, Toolbox
from gateway.settings import AdapterConfig, Routing
from gateway.store import Store, open_store


@dataclass(slots=True)
class Upper:
    """A stand-in for render: upper-cases the body."""

    name: str = "render"

    def run(self, context: StageContext) -> dict[str, Any]:
        context.rendered = context.submission.data.upper()
        context.profile = str(context.metadata.get("profile", "pint-sg"))
        context.keep("rendered", "application/xml", context.rendered)
        return {"bytes": len(context.rendered)}


@dataclass(slots=True)
class Seal:
    """A stand-in for sign + envelope."""

    name: str = "sign"

    def run(self, context: StageContext) -> dict[str, Any]:
        assert context.rendered is not None
        context.signed = context.rendered + b"<!--sealed-->"
        context.keep("signed", "application/xml", context.signed)
        return {"signed": True}


@dataclass(slots=True)
class Raise:
    """A stage that raises whatever it is given (while ``armed``)."""

    error: Exception
    name: str = "check"
    armed: bool = True

    def run(self, context: StageContext) -> dict[str, Any]:
        if self.armed:
            raise self.error
        return {}


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
