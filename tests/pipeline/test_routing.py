"""Routing: metadata, then partner, then profile, then default."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.errors import MissingFactError
from gateway.pipeline.routing import Router
from gateway.pipeline.stages import StageContext, Toolbox
from gateway.settings import Routing
from gateway.store import Submission

ROUTING = Routing(
    default="folder",
    profiles={"pint": "hk"},
    partners={"0195:SGUEN200212345Z": "sg"},
)


def context(profile: str, receiver: str = "", **metadata: Any) -> StageContext:
    now = datetime.now(UTC)
    submission = Submission("s", "t", None, b"", "application/xml", None, metadata, "", now, now)
    ctx = StageContext(submission=submission, toolbox=Toolbox(), profile=profile)
    if receiver:
        ctx.facts["receiver"] = receiver
    return ctx


def test_precedence() -> None:
    router = Router(ROUTING, ["folder", "hk", "sg"])
    assert router.route(context("pint", "0195:SGUEN200212345Z")).adapter == "sg"
    assert router.route(context("pint", "0088:1")).adapter == "hk"
    assert router.route(context("bis3")).rule == "default"
    explicit = router.route(context("pint", "0195:SGUEN200212345Z", adapter="folder"))
    assert (explicit.adapter, explicit.rule) == ("folder", "metadata")


def test_no_route_is_a_missing_fact() -> None:
    router = Router(Routing(), ["a", "b"])
    with pytest.raises(MissingFactError):
        router.route(context("pint"))
    assert Router(Routing(), ["only"]).route(context("pint")).adapter == "only"
    with pytest.raises(MissingFactError, match="not configured"):
        Router(ROUTING, ["folder", "hk", "sg"]).route(context("pint", adapter="nope"))
