"""The demo's loopback Peppol network: who it registers, and that the ``peppol`` adapter it
describes finds the receiving access point through the loopback SML and SMP only."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.peppol.adapter import build_sender
from adapters.peppol.identifiers import (
    BIS3_CREDIT_NOTE,
    BIS3_INVOICE,
    BIS3_PROCESS,
    PINT_PROCESS,
    PINT_SG_CREDIT_NOTE,
    PINT_SG_INVOICE,
    TRANSPORT_PROFILE_AS4,
    ParticipantId,
)
from gateway.cli._demo_peppol import (
    SML_ZONE,
    PeppolLeg,
    PeppolNetwork,
    registrations,
    singapore_participants,
)
from gateway.cli.demo import DEMO_DIRECTORY, Sent, verdict
from gateway.testing.tls import make_tls


def test_the_directory_s_singapore_buyers_are_registered_with_their_profile() -> None:
    found = singapore_participants(DEMO_DIRECTORY)
    assert found[ParticipantId("0195:SGUEN199912345A")] == "pint-sg"
    assert found[ParticipantId("0195:SGUEN201912345K")] == "bis3"
    assert all(p.value.startswith("0195:") for p in found)
    assert ParticipantId("0088:4035811991038") not in found


def test_each_profile_registers_its_invoice_and_credit_note() -> None:
    assert registrations("pint-sg") == [
        (PINT_SG_INVOICE, PINT_PROCESS),
        (PINT_SG_CREDIT_NOTE, PINT_PROCESS),
    ]
    assert registrations("bis3") == [(BIS3_INVOICE, BIS3_PROCESS), (BIS3_CREDIT_NOTE, BIS3_PROCESS)]


async def test_the_adapter_finds_the_access_point_through_the_loopback_sml(
    tmp_path: Path,
) -> None:
    network = await PeppolNetwork.start(
        tmp_path / "pki", make_tls(tmp_path / "tls"), DEMO_DIRECTORY
    )
    try:
        options = network.adapter().options
        assert options["sml_zone"] == SML_ZONE
        assert options["sml_nameservers"] == [network.sml.nameserver]
        sender = build_sender("peppol", options, tmp_path)
        try:
            endpoint = await sender.discovery.find(
                ParticipantId("0195:SGUEN199912345A"), PINT_SG_INVOICE, PINT_PROCESS
            )
        finally:
            await sender.aclose()
        assert endpoint.url == network.ap.url
        assert endpoint.transport_profile == TRANSPORT_PROFILE_AS4
        assert endpoint.certificate == network.pki.receiver.cert
        assert network.smp.requests == 1
    finally:
        await network.stop()


def test_a_leg_with_a_problem_is_not_delivered_and_says_so() -> None:
    leg = PeppolLeg(message_id="m@lingang", receipt={"verified": False})
    leg.problems.append("the AS4 receipt was not verified")
    assert not leg.ok
    assert "PROBLEM: the AS4 receipt was not verified" in leg.lines()
    assert "AS4 receipt: signed by ?, NOT verified, covers 0 signed part(s), at ?" in leg.lines()


def _delivered(name: str, route: str, expected: str, leg: PeppolLeg | None = None) -> Sent:
    return Sent(
        Path(name),
        id=name,
        state="delivered",
        detail={"deliveries": [{"adapter": route}]},
        peppol=leg,
        expected_route=expected,
    )


NO_HTTPS = {"accepted": 0, "posts": 0, "duplicates": 0}


def test_the_verdict_holds_when_each_document_arrived_once_on_its_route(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sent = [
        _delivered("sg.xml", "peppol", "peppol", PeppolLeg(message_id="m")),
        _delivered("hk.xml", "hk", "hk"),
    ]
    https = {"accepted": 1, "posts": 1, "duplicates": 0}
    assert verdict(sent, elapsed=1, timeout=9, https=https, ap_kept=1, ap_posts=1) == 0
    assert "demo: OK" in capsys.readouterr().out


def test_a_singapore_document_that_went_by_https_fails_the_demo(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sent = [_delivered("sg.xml", "hk", "peppol")]
    https = {"accepted": 1, "posts": 1, "duplicates": 0}
    assert verdict(sent, elapsed=1, timeout=9, https=https, ap_kept=0, ap_posts=0) == 1
    out = capsys.readouterr().out
    assert "sg.xml: went by hk, should have gone by peppol" in out
    assert "demo: NOT all documents were delivered exactly once" in out


def test_a_second_message_at_the_access_point_or_a_failed_leg_fails_the_demo() -> None:
    leg = PeppolLeg(message_id="m")
    twice = [_delivered("sg.xml", "peppol", "peppol", leg)]
    assert verdict(twice, elapsed=1, timeout=9, https=NO_HTTPS, ap_kept=2, ap_posts=2) == 1
    failed = PeppolLeg(message_id="m", problems=["the AS4 receipt was not verified"])
    broken = [_delivered("sg.xml", "peppol", "peppol", failed)]
    assert verdict(broken, elapsed=1, timeout=9, https=NO_HTTPS, ap_kept=1, ap_posts=1) == 1
