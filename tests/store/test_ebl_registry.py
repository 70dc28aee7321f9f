"""The eBL registry on both stores: title states, DUPE / DISE decisions and races."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from gateway.store import ConflictError, Store, open_store
from gateway.store.ebl import TRANSFER, EblRegistry, NewTitle

SG_POSSESSES = {
    "possessor": {
        "eblPlatform": "SGTD",
        "identifyingCodes": [{"codeListProvider": "SGTD", "partyCode": "SG"}],
    }
}
Opener = Callable[[], Coroutine[Any, Any, Store]]


def _sum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def title(
    chain: list[str], *, state: str = "held", td: str = "td-1", possessor: str = "IQAX:ZZZ/HK"
) -> NewTitle:
    return NewTitle(
        td_checksum=_sum(td),
        reference=td.upper(),
        state=state,
        possessor=possessor,
        chain=chain,
        checksums=[_sum(c) for c in chain],
        title={
            "possessor": {
                "eblPlatform": "SGTD",
                "identifyingCodes": [{"codeListProvider": "ZZZ", "partyCode": "SG"}],
            }
        },
        transport_document={"transportDocumentReference": td.upper()},
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'g.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def opener(store_url: str) -> AsyncIterator[Opener]:
    url = store_url
    opened: list[Store] = []

    async def open_one() -> Store:
        store = await open_store(url)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        await store.close()


async def test_issue_once_then_transfer_once(opener: Opener) -> None:
    store = await opener()
    registry = EblRegistry.of(store)
    held = await registry.issue(title(["e1"]))
    assert held.state == "held" and held.chain == ["e1"] and held.head == _sum("e1")
    with pytest.raises(ConflictError, match="issued before"):
        await registry.issue(title(["other"]))
    envelope = {"envelopeTransferChain": ["e1", "e2"]}
    outbound = await registry.begin_transfer(
        held.td_checksum,
        base_head=held.head,
        platform="SGTD",
        envelope=envelope,
        documents=["d"],
        title={"possessor": {"eblPlatform": "SGTD"}},
        adapter="pint",
    )
    jobs = await store.claim_jobs("w", limit=5)
    assert [(j.kind, j.submission_id, j.endpoint) for j in jobs] == [
        (TRANSFER, outbound.id, "SGTD")
    ]
    with pytest.raises(ConflictError, match="no control"):
        await registry.begin_transfer(
            held.td_checksum,
            base_head=None,
            platform="SGTD",
            envelope=envelope,
            documents=[],
            title={},
            adapter="pint",
        )
    done = await registry.finish_transfer(
        outbound.id,
        accepted=True,
        response_code="RECE",
        response="jws",
        job_id=jobs[0].id,
        worker_id="w",
    )
    assert done.state == "accepted"
    after = await registry.get(held.td_checksum)
    assert after is not None and after.state == "transferred" and after.chain == ["e1", "e2"]
    assert after.head == _sum("e2")
    with pytest.raises(ConflictError, match="transferred here"):
        await registry.begin_transfer(
            held.td_checksum,
            base_head=None,
            platform="IQAX",
            envelope=envelope,
            documents=[],
            title={},
            adapter="pint",
        )


async def test_a_rejected_transfer_leaves_control_as_it_was(opener: Opener) -> None:
    registry = EblRegistry.of(await opener())
    held = await registry.issue(title(["e1"]))
    outbound = await registry.begin_transfer(
        held.td_checksum,
        base_head=held.head,
        platform="SGTD",
        envelope={"envelopeTransferChain": ["e1", "e2"]},
        documents=[],
        title={},
        adapter="pint",
    )
    await registry.finish_transfer(
        outbound.id, accepted=False, response_code="BENV", response="jws"
    )
    again = await registry.get(held.td_checksum)
    assert again is not None
    assert (again.state, again.chain, again.head, again.title) == (
        "held",
        ["e1"],
        held.head,
        held.title,
    )


async def test_receiver_decisions(opener: Opener) -> None:
    registry = EblRegistry.of(await opener())
    first = await registry.accept(title(["e1", "e2"]), sender="IQAX", received=["d1"])
    assert first.code == "RECE"
    replay = await registry.accept(title(["e1", "e2"]), sender="IQAX", received=[])
    assert (replay.code, replay.duplicate_of, replay.received) == ("DUPE", "e2", ("d1",))
    stale = await registry.accept(title(["e1", "e2-other"]), sender="AEOT", received=[])
    assert stale.code == "DISE"
    known = await registry.get(_sum("td-1"))
    assert known is not None and known.chain == ["e1", "e2"] and known.version == 1


async def test_an_ebl_passed_on_may_come_back_only_along_its_chain(opener: Opener) -> None:
    registry = EblRegistry.of(await opener())
    held = await registry.issue(title(["e1"]))
    outbound = await registry.begin_transfer(
        held.td_checksum,
        base_head=held.head,
        platform="SGTD",
        envelope={"envelopeTransferChain": ["e1", "e2"]},
        documents=[],
        title=SG_POSSESSES,
        adapter="pint",
    )
    await registry.finish_transfer(outbound.id, accepted=True, response_code="RECE", response="")
    assert (
        await registry.accept(title(["e1", "x2", "x3"]), sender="SGTD", received=[])
    ).code == "DISE"
    back = await registry.accept(title(["e1", "e2", "e3"]), sender="SGTD", received=[])
    assert back.code == "RECE"
    now = await registry.get(held.td_checksum)
    assert now is not None and now.state == "held" and now.chain == ["e1", "e2", "e3"]


async def test_racing_platforms_one_wins(opener: Opener) -> None:
    stores = [await opener(), await opener()]
    registries = [EblRegistry.of(s) for s in stores]
    attempts = [
        registries[n % 2].accept(title(["e1", f"from-{n}"]), sender=f"P{n}", received=[])
        for n in range(16)
    ]
    codes = sorted(d.code for d in await asyncio.gather(*attempts))
    assert codes == ["DISE"] * 15 + ["RECE"]
    same = [
        registries[n % 2].accept(title(["z1"], td="td-2"), sender="P", received=[])
        for n in range(10)
    ]
    codes = sorted(d.code for d in await asyncio.gather(*same))
    assert codes.count("RECE") == 1 and set(codes) <= {"RECE", "DUPE"}


async def test_racing_transfers_of_one_held_ebl_one_wins(opener: Opener) -> None:
    stores = [await opener(), await opener()]
    registries = [EblRegistry.of(s) for s in stores]
    held = await registries[0].issue(title(["e1"]))

    async def attempt(n: int) -> str:
        try:
            await registries[n % 2].begin_transfer(
                held.td_checksum,
                base_head=held.head,
                platform=f"P{n}",
                envelope={"envelopeTransferChain": ["e1", f"e{n}"]},
                documents=[],
                title={},
                adapter="pint",
            )
        except ConflictError:
            return "refused"
        return "sending"

    outcomes = sorted(await asyncio.gather(*(attempt(n) for n in range(12))))
    assert outcomes == ["refused"] * 11 + ["sending"]
    assert len(await registries[0].outbound_of(held.td_checksum)) == 1


async def test_documents_are_content_addressed(opener: Opener) -> None:
    registry = EblRegistry.of(await opener())
    await registry.put_document(_sum("doc"), "application/pdf", b"doc")
    await registry.put_document(_sum("doc"), "application/pdf", b"doc")
    assert await registry.present_documents([_sum("doc"), _sum("nope")]) == {_sum("doc")}
    assert await registry.document(_sum("doc")) == ("application/pdf", b"doc")


async def test_a_restarted_inbound_transfer_takes_the_new_manifest(opener: Opener) -> None:
    """PINT's INCD asks the sender to start again with a changed manifest: the same last
    chain entry (the same reference) then carries new documents. An accepted transfer is
    never opened again (it answers DUPE)."""
    registry = EblRegistry.of(await opener())
    reference, td = _sum("e2"), _sum("td-1")
    assert await registry.open_inbound(reference, td, {"manifest": 1}, {"old": {}}) is None
    assert await registry.open_inbound(reference, td, {"manifest": 2}, {"new": {}}) is None
    inbound = await registry.inbound(reference)
    assert inbound is not None
    assert (inbound.envelope, inbound.documents) == ({"manifest": 2}, {"new": {}})
    accepted = await registry.accept(
        title(["e1", "e2"]), sender="AEOT", received=["new"], inbound=reference
    )
    assert accepted.code == "RECE" and await registry.inbound(reference) is None
    again = await registry.open_inbound(reference, td, {"manifest": 3}, {"other": {}})
    assert again is not None and again.code == "DUPE" and again.duplicate_of == "e2"
    assert again.received == ("new",)
    assert await registry.inbound(reference) is None


async def test_a_rejected_inbound_transfer_is_no_longer_active(opener: Opener) -> None:
    """A rejection ends the active envelope transfer (PINT 3.0): after a ``DISE`` at the
    finish, or a signed ``BSIG``/``BENV`` there (``close_inbound``), no document can be sent
    to it; the sender starts a new transfer to try again. Before, it stayed open."""
    registry = EblRegistry.of(await opener())
    assert (await registry.accept(title(["e1", "e2"]), sender="IQAX", received=[])).code == "RECE"
    fork, td = _sum("e2-other"), _sum("td-1")
    assert await registry.open_inbound(fork, td, {"manifest": 1}, {"d": {}}) is None
    stale = await registry.accept(
        title(["e1", "e2-other"]), sender="AEOT", received=["d"], inbound=fork
    )
    assert stale.code == "DISE" and await registry.inbound(fork) is None
    assert await registry.open_inbound(fork, td, {"manifest": 2}, {"d": {}}) is None
    await registry.close_inbound(fork)
    assert await registry.inbound(fork) is None
    known = await registry.get(td)
    assert known is not None and known.chain == ["e1", "e2"]


async def test_a_notification_that_moves_no_possession_leaves_the_ebl_held(opener: Opener) -> None:
    registry = EblRegistry.of(await opener())
    held = await registry.issue(title(["e1"]))
    still_here = {
        "possessor": {
            "eblPlatform": "AEOT",
            "identifyingCodes": [{"codeListProvider": "AEOT", "partyCode": "A"}],
        }
    }
    outbound = await registry.begin_transfer(
        held.td_checksum,
        base_head=held.head,
        platform="IQAX",
        envelope={"envelopeTransferChain": ["e1", "endorse"]},
        documents=[],
        title=still_here,
        adapter="pint",
    )
    await registry.finish_transfer(outbound.id, accepted=True, response_code="RECE", response="")
    after = await registry.get(held.td_checksum)
    assert after is not None and (after.state, after.chain) == ("held", ["e1", "endorse"])


async def test_a_refused_issue_to_another_platform_leaves_nothing_issued(opener: Opener) -> None:
    registry = EblRegistry.of(await opener())
    new = title(["issue"], state="sending", possessor="AEOT:AEOT/COSCO")
    outbound = await registry.begin_transfer(
        new.td_checksum,
        base_head=None,
        platform="IQAX",
        envelope={"envelopeTransferChain": ["issue"]},
        documents=[],
        title=SG_POSSESSES,
        adapter="pint",
        issue=new,
    )
    assert (await registry.get(new.td_checksum)) is not None
    with pytest.raises(ConflictError):
        await registry.issue(new)
    await registry.finish_transfer(outbound.id, accepted=False, response_code="BENV", response="")
    assert await registry.get(new.td_checksum) is None
    assert (await registry.issue(title(["issue-again"]))).state == "held"


async def test_an_ebl_back_along_the_chain_still_being_sent_settles_that_transfer(
    opener: Opener,
) -> None:
    """The answer to a transfer was lost (the sender crashed, or timed out): the eBL is still
    ``sending`` here when it comes back continuing the chain sent. That envelope shows the
    receiver took the transfer, so it is received (not DISE) and the transfer is settled as
    accepted; the receiver's signed answer, fetched later, is kept as its acknowledgement.
    An envelope that does not continue the chain sent is still DISE."""
    registry = EblRegistry.of(await opener())
    held = await registry.issue(title(["e1"]))
    outbound = await registry.begin_transfer(
        held.td_checksum,
        base_head=held.head,
        platform="SGTD",
        envelope={"envelopeTransferChain": ["e1", "e2"]},
        documents=[],
        title=SG_POSSESSES,
        adapter="pint",
    )
    forked = await registry.accept(title(["e1", "x2", "x3"]), sender="SGTD", received=[])
    assert forked.code == "DISE"
    skipped = await registry.accept(title(["e1", "e3"]), sender="SGTD", received=[])
    assert skipped.code == "DISE"
    assert (await registry.get(held.td_checksum)).state == "sending"  # type: ignore[union-attr]

    back = await registry.accept(title(["e1", "e2", "e3"]), sender="SGTD", received=[])
    assert back.code == "RECE"
    now = await registry.get(held.td_checksum)
    assert now is not None and (now.state, now.chain) == ("held", ["e1", "e2", "e3"])
    settled = await registry.outbound(outbound.id)
    assert settled is not None
    assert (settled.state, settled.response_code, settled.response) == ("accepted", None, None)

    refused = await registry.finish_transfer(
        outbound.id, accepted=False, response_code="DISE", response="nonsense"
    )
    assert (refused.state, refused.response) == ("accepted", None)
    late = await registry.finish_transfer(
        outbound.id, accepted=True, response_code="DUPE", response="late"
    )  # the answer of a send in flight while the eBL came back: kept, the title unchanged
    assert (late.state, late.response_code, late.response) == ("accepted", "DUPE", "late")
    after = await registry.get(held.td_checksum)
    assert after is not None and (after.state, after.chain) == ("held", ["e1", "e2", "e3"])
    again = await registry.acknowledge(outbound.id, response_code="RECE", response="other")
    assert (again.response_code, again.response) == ("DUPE", "late")


async def test_the_acknowledgement_of_a_settled_transfer_is_kept_once(opener: Opener) -> None:
    registry = EblRegistry.of(await opener())
    held = await registry.issue(title(["e1"]))
    outbound = await registry.begin_transfer(
        held.td_checksum, base_head=held.head, platform="SGTD",
        envelope={"envelopeTransferChain": ["e1", "e2"]}, documents=[], title=SG_POSSESSES,
        adapter="pint",
    )  # fmt: skip
    assert (
        await registry.accept(title(["e1", "e2", "e3"]), sender="SGTD", received=[])
    ).code == "RECE"
    acknowledged = await registry.acknowledge(outbound.id, response_code="DUPE", response="jws")
    assert (acknowledged.response_code, acknowledged.response) == ("DUPE", "jws")
    again = await registry.acknowledge(outbound.id, response_code="RECE", response="other")
    assert (again.response_code, again.response) == ("DUPE", "jws")


async def test_a_refused_issue_is_found_by_reference_and_checksum_until_issued(
    opener: Opener,
) -> None:
    registry = EblRegistry.of(await opener())
    new = title(["issue"], state="sending", possessor="AEOT:AEOT/COSCO")
    envelope = {"transportDocument": new.transport_document, "envelopeTransferChain": ["issue"]}
    outbound = await registry.begin_transfer(
        new.td_checksum, base_head=None, platform="IQAX", envelope=envelope, documents=[],
        title=SG_POSSESSES, adapter="pint", issue=new,
    )  # fmt: skip
    assert await registry.refused_issues("TD-1") == []  # still being sent
    await registry.finish_transfer(outbound.id, accepted=False, response_code="BENV", response="")
    for key in ("TD-1", new.td_checksum):
        (refused,) = await registry.refused_issues(key)
        assert (refused.id, refused.response_code) == (outbound.id, "BENV")
    assert await registry.refused_issues("TD-2") == []
    await registry.issue(new)
    assert await registry.refused_issues("TD-1") == []


async def test_titles_are_listed_most_recently_changed_first(opener: Opener) -> None:
    from datetime import UTC, datetime, timedelta

    store = await opener()
    times = iter(datetime(2026, 12, 5, 12, 0, tzinfo=UTC) + timedelta(minutes=n) for n in range(9))
    registry = EblRegistry(store.connector, clock=lambda: next(times))
    first = await registry.issue(title(["a1"], td="td-a"))
    await registry.issue(title(["b1"], td="td-b"))
    await registry.begin_transfer(
        first.td_checksum, base_head=first.head, platform="SGTD",
        envelope={"envelopeTransferChain": ["a1", "a2"]}, documents=[], title=SG_POSSESSES,
        adapter="pint",
    )  # fmt: skip
    listed = await registry.titles()
    assert [(t.reference, t.state) for t in listed] == [("TD-A", "sending"), ("TD-B", "held")]
    assert [t.reference for t in await registry.titles(state="held")] == ["TD-B"]
    assert [t.reference for t in await registry.titles(limit=1)] == ["TD-A"]
    before = datetime.fromisoformat(listed[0].updated_at)
    assert [t.reference for t in await registry.titles(before=before)] == ["TD-B"]


async def test_a_return_racing_the_senders_own_answer_leaves_one_consistent_title(
    opener: Opener,
) -> None:
    """The eBL comes back along its chain (one replica) while the sender's worker records
    the receiver's DUPE (another): whichever commits first, the return is received (on
    PostgreSQL, the replica that lost the compare-and-set decides again against what the
    worker committed, instead of disputing the return with DISE) and the title is whole."""
    stores = [await opener(), await opener()]
    registries = [EblRegistry.of(s) for s in stores]
    for n in range(12):
        td = f"td-race-{n}"
        held = await registries[0].issue(title([f"{n}-e1"], td=td))
        outbound = await registries[0].begin_transfer(
            held.td_checksum, base_head=held.head, platform="SGTD",
            envelope={"envelopeTransferChain": [f"{n}-e1", f"{n}-e2"]}, documents=[],
            title=SG_POSSESSES, adapter="pint",
        )  # fmt: skip
        back, answered = await asyncio.gather(
            registries[n % 2].accept(
                title([f"{n}-e1", f"{n}-e2", f"{n}-e3"], td=td), sender="SGTD", received=[]
            ),
            registries[1 - n % 2].finish_transfer(
                outbound.id, accepted=True, response_code="DUPE", response="jws"
            ),
        )
        now = await registries[0].get(held.td_checksum)
        assert now is not None and answered.state == "accepted"
        assert back.code == "RECE", back.reason
        assert (now.state, len(now.chain)) == ("held", 3)


def _issued_by(carrier: str, td: str, reference: str = "LGTD0001") -> NewTitle:
    """A transport document ``td`` issued by ``carrier`` (AEOT's party) under ``reference``."""
    party = {
        "partyName": carrier,
        "eblPlatform": "AEOT",
        "identifyingCodes": [{"codeListProvider": "AEOT", "partyCode": carrier}],
    }
    return NewTitle(
        td_checksum=_sum(td),
        reference=reference,
        state="held",
        possessor="AEOT:AEOT/SHIPPER",
        chain=[f"issue-{td}"],
        checksums=[_sum(f"issue-{td}")],
        title={"carrier": party, "possessor": party},
        transport_document={"transportDocumentReference": reference, "td": td},
    )


async def test_one_live_ebl_per_reference_and_carrier_even_when_racing(opener: Opener) -> None:
    """Two different transport documents issued under one transportDocumentReference by one
    carrier were both issued and held: two originals of one bill of lading, each with its
    own holder. DCSA eBL 3.0.3: the reference is "a unique number allocated by the shipping
    line to the transport document". Of racing issues (two stores, as two replicas) one is
    issued; the next comes once the first is surrendered; another carrier's number is its own."""
    stores = [await opener(), await opener()]
    registries = [EblRegistry.of(s) for s in stores]

    async def attempt(n: int) -> str:
        try:
            await registries[n % 2].issue(_issued_by("COSCO", f"td-{n}"))
        except ConflictError as exc:
            assert exc.rule == "ebl.reference-live", exc
            return "refused"
        return "issued"

    outcomes = sorted(await asyncio.gather(*(attempt(n) for n in range(8))))
    assert outcomes == ["issued"] + ["refused"] * 7
    assert (await registries[0].issue(_issued_by("MAERSK", "td-other"))).state == "held"
    [live] = [
        r for r in await registries[0].find_all("LGTD0001") if r.td_checksum != _sum("td-other")
    ]
    await registries[0].record_here(
        live.td_checksum,
        base_head=live.head,
        chain=[*live.chain, "sacc"],
        state="surrendered",
        possessor="AEOT:AEOT/COSCO",
        title=live.title,
    )
    amended = await registries[1].issue(_issued_by("COSCO", "td-amended"))
    assert amended.state == "held"
