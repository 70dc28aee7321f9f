"""``lingang received``: a received document no tenant claims is kept and read by the
operator (``--unclaimed``), never by a tenant; a tenant's list holds its own only. On SQLite
and PostgreSQL, through the CLI a real store file / database answers."""

from __future__ import annotations

import asyncio

import pytest

from adapters.base import InboundDocument
from gateway.cli import main
from gateway.delivery.inbound import StoreInbound
from gateway.delivery.peppol_recording import LocalParticipants
from gateway.store import open_store
from gateway.store.received import ReceivedStore

INVOICE = b"<Invoice/>"


async def _receive(url: str) -> dict[str, str]:
    """Two documents: one for a participant tenant ``t`` registered, one for nobody's."""
    store = await open_store(url)
    try:
        await store.create_tenant("T", tenant_id="t")
        claimed = StoreInbound(store, participants=LocalParticipants.parse(["t=0195:T08GB0001A"]))
        unconfigured = StoreInbound(store)  # a gateway that names no local participants
        ids = {}
        for sink, name, receiver in ((claimed, "mine", "0195:T08GB0001A"),
                                     (unconfigured, "nobodys", "0195:T08GB7777Z")):  # fmt: skip
            ack = await sink.accept(
                InboundDocument("inbox", f"m-{name}", INVOICE, receiver=receiver)
            )
            ids[name] = ack.inbound_id
        reads = ReceivedStore(store.connector)
        assert [s.id for s in await reads.list("t")] == [ids["mine"]]
        assert [s.id for s in await reads.list(None)] == [ids["nobodys"]]
        assert await reads.summary("t", ids["nobodys"]) is None
        assert await reads.message("t", ids["nobodys"]) is None
        unclaimed = await reads.message(None, ids["nobodys"])
        assert unclaimed is not None and unclaimed.data == INVOICE
        return ids
    finally:
        await store.close()


def test_unclaimed_documents_are_kept_for_the_operator_only(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = asyncio.run(_receive(store_url))
    assert main(["received", "--unclaimed", "--database", store_url]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    fields = line.split("\t")
    assert (fields[0], fields[1], fields[3]) == (ids["nobodys"], "processing", "0195:T08GB7777Z")
    assert main(["received", "--tenant", "t", "--database", store_url]) == 0
    assert [row.split("\t")[0] for row in capsys.readouterr().out.splitlines()] == [ids["mine"]]
    assert main(["received", "--tenant", "t", "--status", "rejected", "--database", store_url]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "no received documents of tenant 't'" in captured.err
    with pytest.raises(SystemExit):
        main(["received", "--database", store_url])  # --tenant or --unclaimed, one of them
