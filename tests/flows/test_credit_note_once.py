"""A credit note's flow runs once: the job reads the credited invoice's number (BT-25) from
the red-letter fapiao before the flow (:func:`gateway.flows.invoice_out.credited_invoice`),
dates it from the store and runs the flow with the date (BT-26).

Until then the job ran the flow, read the number from its facts, and ran the whole flow a
second time with the date. The single run gives what the second run gave, byte for byte, on
every sample (and on a red-letter fapiao whose blue invoice is known); the flow runs once per
document through the real service."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gateway.flows import INVOICE_OUT, FlowOutcome, Source, Tools
from gateway.flows.invoice_out import credited_invoice
from gateway.flows.stage import Flow
from gateway.partners import PartnerDirectory
from tests.service.test_credit_note_dates import BLUE, _credited, _submit, _warnings
from tests.service.test_real_flow import PARTNERS, SAMPLES, open_real, settle

SENT = {BLUE: ("2026-09-20",)}
"""The store as the job finds it: the blue invoice the red-letter sample reverses was sent."""


def _two_runs(source: Source, tools: Tools, directory: Any) -> FlowOutcome:
    """What the job did before: run, look the ``preceding_invoice`` fact up, run again."""
    first = INVOICE_OUT.run(source, tools, directory)
    number = first.facts.get("preceding_invoice")
    if first.error is not None or number not in SENT:
        return first
    return INVOICE_OUT.run(replace(source, sent_invoice_dates=SENT), tools, directory)


def _one_run(source: Source, tools: Tools, directory: Any) -> FlowOutcome:
    """What the job does now: read BT-25 first, look it up, run once."""
    number = credited_invoice(source)
    if number in SENT:
        source = replace(source, sent_invoice_dates=SENT)
    return INVOICE_OUT.run(source, tools, directory)


def _sample_names() -> list[str]:
    return sorted(p.name for p in SAMPLES.iterdir() if p.suffix in {".xml", ".json", ".ofd"})


@pytest.mark.parametrize("name", _sample_names())
@pytest.mark.parametrize("profile", ["pint-sg", "bis3", "cii"])
def test_one_run_gives_what_two_runs_gave(name: str, profile: str) -> None:
    directory = PartnerDirectory.load(PARTNERS)
    tools = Tools(partners=directory)
    source = Source((SAMPLES / name).read_bytes(), filename=name, metadata={"profile": profile})
    before = _two_runs(source, tools, directory)
    after = _one_run(source, tools, directory)
    assert [(o.kind, o.data) for o in after.outputs] == [(o.kind, o.data) for o in before.outputs]
    assert after.facts == before.facts
    assert (after.error is None) == (before.error is None)
    if name == "red-letter.xml":
        dated = after.outputs[-1].data
        assert after.error is None and (b"2026-09-20" in dated or b">20260920<" in dated)


def test_the_credited_number_is_read_from_the_red_letter_fapiao_only() -> None:
    assert credited_invoice(Source((SAMPLES / "red-letter.xml").read_bytes())) == BLUE
    for name in _sample_names():
        if name != "red-letter.xml":
            assert credited_invoice(Source((SAMPLES / name).read_bytes())) is None, name
    assert credited_invoice(Source(b"<EInvoice>broken")) is None  # the flow says why


async def test_the_service_runs_each_flow_once(
    tmp_path: Path, artefacts_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The blue invoice and its credit note: two documents, two flow runs (there were three),
    and the credit note is still dated from the blue invoice (BT-26)."""
    runs: list[str] = []
    real_run = Flow.run

    def counted(self: Flow[Any], source: Source, tools: Tools, directory: Any = None) -> Any:
        runs.append(source.filename or "")
        return real_run(self, source, tools, directory)

    monkeypatch.setattr(Flow, "run", counted)
    services = await open_real(tmp_path, artefacts_home)
    pool = services.worker_pool(1)
    pool.start()
    try:
        exporter = await services.store.create_tenant("exporter")
        blue = await _submit(services, exporter.id, "multi-rate-discount.xml")
        assert (await settle(services, [blue]))[blue] == "delivered"
        red = await _submit(services, exporter.id, "red-letter.xml")
        assert (await settle(services, [red]))[red] == "delivered"
    finally:
        await pool.stop()
    try:
        assert runs == ["multi-rate-discount.xml", "red-letter.xml"]
        assert await _credited(services, red) == (BLUE, "2026-09-20")
        assert any("sent through the gateway" in w for w in await _warnings(services, red))
    finally:
        await services.close()
