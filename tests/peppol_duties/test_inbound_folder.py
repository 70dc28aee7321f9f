"""A received invoice handed to the local system through the folder adapter: the document as
received, and (with ``attachments = true``) its canonical JSON and readable page beside it,
written before the document so its presence means the set is complete."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.base import InboundDocument
from gateway.service import open_services
from gateway.settings import Settings
from tests.peppol_duties.test_inbound_duties import EXAMPLE
from tests.peppol_duties.test_report_send import drain


async def test_folder_hand_on_with_canonical_and_readable(
    tmp_path: Path, artefacts_home: Path, reference: Path
) -> None:
    config = tmp_path / "lingang.toml"
    config.write_text(
        f"""
data_dir = "{tmp_path / "home"}"
[pipeline]
artefacts = "{artefacts_home}"
sign = false
stage_processes = 0
[validation]
engine = "saxonche"
[adapters.local]
type = "folder"
path = "received"
attachments = true
[adapters.out]
type = "folder"
path = "outbox"
[routing]
default = "out"
inbound = "local"
""",
        encoding="utf-8",
    )
    services = await open_services(Settings.load(config, env={}))
    body = (reference / EXAMPLE).read_bytes()
    try:
        ack = await services.inbound.accept(InboundDocument("as4", "m-1", body))
        await drain(services)
    finally:
        await services.close()
    received = tmp_path / "home" / "received"
    names = sorted(p.name for p in received.iterdir())
    stem = f"{ack.inbound_id}.local@lingang"
    assert names == [f"{stem}.canonical.json", f"{stem}.readable.html", f"{stem}.xml"]
    assert (received / f"{stem}.xml").read_bytes() == body
    canonical = json.loads((received / f"{stem}.canonical.json").read_bytes())
    assert canonical["currency"] == "SGD" and canonical["lines"]
    page = (received / f"{stem}.readable.html").read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>") and canonical["number"] in page
