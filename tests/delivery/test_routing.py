"""Routing: the receiver the flow decided, then the profile, then the default."""

from __future__ import annotations

import pytest

from gateway.delivery import Router, Routing
from gateway.errors import ConfigError, MissingFactError
from gateway.flows import TransportFacts

ROUTING = Routing(
    default="folder",
    profiles={"pint": "hk"},
    partners={"0195:SGUEN200212345Z": "sg"},
)


def facts(profile: str, receiver: str = "") -> TransportFacts:
    return TransportFacts(
        "signed", "application/xml", "invoice", profile=profile, receiver=receiver
    )


def test_precedence() -> None:
    router = Router(ROUTING, ["folder", "hk", "sg"])
    assert router.route(facts("pint", "0195:SGUEN200212345Z")).adapter == "sg"
    assert router.route(facts("pint", "0088:1")).adapter == "hk"
    chosen = router.route(facts("bis3"))
    assert (chosen.adapter, chosen.rule) == ("folder", "default")


def test_no_route_is_a_missing_fact() -> None:
    with pytest.raises(MissingFactError):
        Router(Routing(), ["a", "b"]).route(facts("pint"))
    assert Router(Routing(), ["only"]).route(facts("pint")).adapter == "only"


def test_the_inbound_hand_on_adapter_is_not_an_outbound_default() -> None:
    router = Router(Routing(inbound="local"), ["local", "hk"])
    assert router.route(facts("pint")).adapter == "hk"


def test_a_tenants_own_hand_on_adapter_is_not_an_outbound_default_either() -> None:
    routing = Routing(inbound="local", inbound_tenants={"acme": "acme-erp"})
    assert Router(routing, ["local", "acme-erp", "hk"]).route(facts("pint")).adapter == "hk"
    with pytest.raises(ConfigError, match="'acme-erp', which is not configured"):
        Router(routing, ["local", "hk"])


def test_routing_to_an_unconfigured_adapter_stops_the_start() -> None:
    with pytest.raises(ConfigError, match="not configured"):
        Router(ROUTING, ["folder", "hk"])


def test_singapore_receivers_go_over_peppol_by_default() -> None:
    router = Router(Routing(default="folder"), ["folder", "ap"], peppol=["ap"])
    chosen = router.route(facts("pint-sg", "0195:SGUEN200254321Z"))
    assert (chosen.adapter, chosen.rule) == ("ap", "peppol:0195")
    assert router.route(facts("pint-sg", "0088:1")).adapter == "folder"
    explicit = Router(
        Routing(default="folder", partners={"0195:SGUEN1": "folder"}),
        ["folder", "ap"],
        peppol=["ap"],
    )
    assert explicit.route(facts("pint-sg", "0195:SGUEN1")).adapter == "folder"
    two = Router(Routing(default="folder"), ["folder", "ap", "ap2"], peppol=["ap", "ap2"])
    assert two.route(facts("pint-sg", "0195:SGUEN1")).adapter == "folder"
