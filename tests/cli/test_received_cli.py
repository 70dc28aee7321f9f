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
from gateway.store import JobState, open_store
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
    assert main(["received", "--tenant", "T", "--database", store_url]) == 0  # by its name
    assert [row.split("\t")[0] for row in capsys.readouterr().out.splitlines()] == [ids["mine"]]
    assert main(["received", "--tenant", "nobody", "--database", store_url]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "no tenant 'nobody'" in captured.err, captured.err
    with pytest.raises(SystemExit):
        main(["received", "--database", store_url])  # --tenant or --unclaimed, one of them


async def _dead_receive(url: str) -> tuple[str, str]:
    """A received document whose ``receive`` job was dead-lettered (the local system refused
    it); its id and the job's."""
    store = await open_store(url)
    try:
        ack = await StoreInbound(store).accept(InboundDocument("inbox", "m-1", INVOICE))
        (leased,) = await store.claim_jobs("w", limit=1, lease_seconds=30)
        await store.fail_job(
            leased.id, "w", "PermanentDeliveryError: HTTP 400", retryable=False, retry_after=None
        )
        return ack.inbound_id, leased.id
    finally:
        await store.close()


async def _job_state(url: str, job_id: str) -> JobState:
    store = await open_store(url)
    try:
        job = await store.get_job(job_id)
        assert job is not None
        return job.state
    finally:
        await store.close()


@pytest.mark.parametrize("by", ["document", "job"])
def test_the_operator_retries_a_received_document_whose_hand_over_died(
    store_url: str, capsys: pytest.CaptureFixture[str], by: str
) -> None:
    """``lingang retry`` named the dead ``receive`` job in ``--list`` but refused it: by the
    received document's id, 'no job or submission'; by the job's id it re-queued the job,
    then failed writing a submission event for a document that is no submission (exit 1)."""
    inbound_id, job_id = asyncio.run(_dead_receive(store_url))
    assert main(["retry", "--list", "--database", store_url]) == 0
    assert inbound_id in capsys.readouterr().out
    ident = inbound_id if by == "document" else job_id
    assert main(["retry", ident, "--database", store_url]) == 0
    assert job_id in capsys.readouterr().out
    assert asyncio.run(_job_state(store_url, job_id)) is JobState.PENDING
    assert main(["retry", inbound_id, "--database", store_url]) == 0
    assert f"{inbound_id} has no dead jobs" in capsys.readouterr().out
