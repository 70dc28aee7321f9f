"""A fapiao submitted twice is delivered once, on SQLite and PostgreSQL, through the production
job kinds and services: the second submission of the same seller, number and kind ends
``refused`` (``already-sent``, naming the first), with nothing queued and no ledger entry,
unless it is a deliberate resend; a credit note, another seller, another tenant, a document
rejected by the rules or refused by a compliance officer do not block. Two workers (two
replicas) finishing the same fapiao at once: one sends it, the other is refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gateway.samples.writers import SELLER2_USCC, SELLER_USCC, einvoice_xml
from gateway.service import Services, open_services
from gateway.settings import AdapterConfig, PipelineSettings, Settings, StoreSettings
from gateway.store import Event, Store
from gateway.store.ledger import LedgerStore
from gateway.store.sent_documents import AlreadySent, Claim, SentDocument, claim_params
from tests.mapping.fidelity import fapiao, machine_line
from tests.policy.support import company, with_contact

PARTNERS = f"""[[partners]]
buyer_name = "Lion City Trading Pte. Ltd."
endpoint = "0195:SGUEN201612345D"
country = "SG"

[[exporters]]
seller_id = "{SELLER_USCC}"
endpoint = "0199:5493001KJTIIGC8Y1R12"

[exporters.data_export]
exempt_below = 2
assessment_from = 10

[[exporters]]
seller_id = "{SELLER2_USCC}"
endpoint = "0199:5493001KJTIIGC8Y1R13"
"""
"""The SG buyer and two exporters; the first's second individual is held (Art. 8)."""
NUMBER = "26312000000000700001"


def settings_for(store_url: str, tmp_path: Path) -> Settings:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "partners.toml").write_text(PARTNERS, encoding="utf-8")
    return Settings(
        data_dir=tmp_path / "home",
        store=StoreSettings(store_url),
        pipeline=PipelineSettings(validate=False, sign=False, partners=tmp_path / "partners.toml"),
        adapters={"local": AdapterConfig(name="local", type="folder", options={"path": "out"})},
    )


@pytest.fixture
async def services(store_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    opened = await open_services(settings_for(store_url, tmp_path))
    await opened.store.create_tenant("T", tenant_id="t")
    await opened.store.create_tenant("U", tenant_id="u")
    yield opened
    await opened.close()


async def submit(
    services: Services, body: bytes, *, tenant: str = "t", metadata: Mapping[str, str] = {}
) -> str:
    sub, _ = await services.submissions.submit(
        tenant, body, content_type="application/xml", metadata=dict(metadata)
    )
    return sub.id


async def run_process(services: Services, worker: str = "w") -> None:
    """Claim and run every pending process job, one after another."""
    kind = services.kinds.get("process")
    assert kind is not None
    for job in await services.store.claim_jobs(worker, kinds={"process"}, limit=10):
        await kind.run(job, worker)


async def process(services: Services, body: bytes, **kw: Any) -> tuple[str, str]:
    """Submit ``body`` and run its process job: (submission id, its state)."""
    submission_id = await submit(services, body, **kw)
    await run_process(services)
    return submission_id, await state(services.store, submission_id)


async def state(store: Store, submission_id: str) -> str:
    found = await store.get_submission_any_tenant(submission_id)
    assert found is not None
    return found.state


async def last_event(store: Store, submission_id: str) -> Event:
    return (await store.list_events(submission_id))[-1]


async def deliveries(store: Store, submission_id: str) -> int:
    return len(
        [j for j in await store.list_jobs(submission_id=submission_id) if j.kind != "process"]
    )


async def test_the_same_fapiao_again_is_refused_naming_the_first(services: Services) -> None:
    body = einvoice_xml(company(number=NUMBER))
    first, first_state = await process(services, body)
    assert first_state == "queued"
    second, second_state = await process(services, body)
    assert second_state == "refused"
    event = await last_event(services.store, second)
    assert event.detail is not None
    error = event.detail["error"]
    assert (error["code"], error["rule"], error["field"]) == (
        "already-sent", "document.already-sent", "number",
    )  # fmt: skip
    assert event.detail["earlier"]["id"] == first
    assert event.detail["earlier"]["state"] == "queued"
    assert event.reason is not None
    for words in (NUMBER, SELLER_USCC, first, "is queued", "not sent", "resend=true"):
        assert words in event.reason
    beijing = event.detail["earlier"]["sent_at"]
    sent = datetime.fromisoformat(beijing).astimezone(timezone(timedelta(hours=8)))
    assert f"processed {sent:%Y-%m-%d %H:%M:%S} Beijing time (" in event.reason
    assert (event.detail["number"], event.detail["document_type"]) == (NUMBER, "invoice")
    assert "policy" not in event.detail and "job_id" not in event.detail
    assert await deliveries(services.store, second) == 0
    ledger = LedgerStore(services.store.connector)
    assert [e["submission_id"] for e in await ledger.entries()] == [first]


async def test_a_deliberate_resend_is_sent_and_says_what_it_resends(services: Services) -> None:
    body = einvoice_xml(company(number=NUMBER))
    first, _ = await process(services, body)
    again, again_state = await process(services, body, metadata={"resend": "true"})
    assert again_state == "queued"
    queued = [e for e in await services.store.list_events(again) if e.state == "queued"]
    assert queued[0].detail is not None
    assert queued[0].detail["resend"]["of"]["id"] == first
    assert await deliveries(services.store, again) == 1
    third, third_state = await process(services, body)  # the resend is registered too
    assert third_state == "refused"
    event = await last_event(services.store, third)
    assert event.detail is not None and event.detail["earlier"]["id"] == again


async def test_a_first_resend_names_nothing(services: Services) -> None:
    body = einvoice_xml(company(number=NUMBER))
    sent, sent_state = await process(services, body, metadata={"resend": "true"})
    assert sent_state == "queued"
    event = await last_event(services.store, sent)
    assert event.detail is not None and event.detail["resend"] == {"of": None}


async def test_what_is_not_the_same_fapiao_passes(services: Services) -> None:
    """Another number, another seller, a credit note with the number, another tenant."""
    assert (await process(services, einvoice_xml(company(number=NUMBER))))[1] == "queued"
    others = [
        company(number="26312000000000700002"),
        company(number=NUMBER, seller_id=SELLER2_USCC),
        fapiao(
            [machine_line(amount="-1000.00", tax="-130.00", gross="-1130.00", quantity="-2")],
            number=NUMBER,
            blue="N",
            red_original="26312000000000700099",
            red_confirmation="31012026112000000017",
        ),
    ]
    for inv in others:
        assert (await process(services, einvoice_xml(inv)))[1] == "queued", inv
    other_tenant = await submit(services, einvoice_xml(company(number=NUMBER)), tenant="u")
    await run_process(services)
    assert await state(services.store, other_tenant) == "queued"


async def test_a_fapiao_rejected_by_the_rules_can_be_sent_corrected(services: Services) -> None:
    wrong = einvoice_xml(company(number=NUMBER, buyer_name="Lion City Tradng Pte. Ltd."))
    _, rejected_state = await process(services, wrong)
    assert rejected_state == "rejected"
    _, corrected_state = await process(services, einvoice_xml(company(number=NUMBER)))
    assert corrected_state == "queued"
    assert (await process(services, einvoice_xml(company(number=NUMBER))))[1] == "refused"


async def test_a_held_fapiao_blocks_until_an_officer_refuses_it(services: Services) -> None:
    """Held by the export gate, it would be sent by a release: the same fapiao again is
    refused naming the hold. Refused by the compliance officer, it was never sent: the
    corrected submission goes through (and is held again, by the same counts)."""
    assert (await process(services, einvoice_xml(with_contact("Tan", number=NUMBER))))[1] == (
        "queued"
    )
    held_body = einvoice_xml(with_contact("Lim", number="26312000000000700002"))
    held, held_state = await process(services, held_body)
    assert held_state == "held"
    again, again_state = await process(services, held_body)
    assert again_state == "refused"
    event = await last_event(services.store, again)
    assert event.detail is not None and event.detail["earlier"] == {
        **event.detail["earlier"], "id": held, "state": "held",
    }  # fmt: skip
    ledger = LedgerStore(services.store.connector)
    assert len(await ledger.list_holds()) == 1
    await ledger.refuse(held, "Officer Li", "no contract filed", principal="cli:test")
    _, resubmitted_state = await process(services, held_body)
    assert resubmitted_state == "held"


async def test_an_idempotent_replay_returns_the_first_submission(services: Services) -> None:
    body = einvoice_xml(company(number=NUMBER))
    first, created = await services.submissions.submit(
        "t", body, content_type="application/xml", idempotency_key="k1"
    )
    await run_process(services)
    again, created_again = await services.submissions.submit(
        "t", body, content_type="application/xml", idempotency_key="k1"
    )
    assert (created, created_again) == (True, False)
    assert again.id == first.id
    assert await state(services.store, first.id) == "queued"
    assert await services.store.claim_jobs("w", kinds={"process"}) == []


async def test_two_replicas_finishing_the_same_fapiao_send_it_once(
    store_url: str, tmp_path: Path
) -> None:
    """Two services over one database (two replicas), each running the process job of one
    submission of the same fapiao at the same time, several times over: each time exactly
    one is queued and the other refused."""
    first = await open_services(settings_for(store_url, tmp_path / "one"))
    second = await open_services(settings_for(store_url, tmp_path / "two"))
    try:
        await first.store.create_tenant("T", tenant_id="t")
        for n in range(4):
            body = einvoice_xml(company(number=f"2631200000000080000{n}"))
            ids = [await submit(first, body), await submit(first, body)]
            jobs = await first.store.claim_jobs("w1", kinds={"process"}, limit=2)
            assert len(jobs) == 2
            kinds = [first.kinds.get("process"), second.kinds.get("process")]
            await asyncio.gather(
                *(k.run(job, "w1") for k, job in zip(kinds, jobs, strict=True) if k is not None)
            )
            states = sorted([await state(first.store, i) for i in ids])
            assert states == ["queued", "refused"], n
        ledger = LedgerStore(first.store.connector)
        assert len(await ledger.entries()) == 4
    finally:
        await second.close()
        await first.close()


@pytest.mark.postgres
async def test_the_register_waits_for_a_concurrent_registration(
    pg_url: str, tmp_path: Path
) -> None:
    """PostgreSQL, the race made certain: another transaction has registered the fapiao and
    not committed yet; a finishing job's registration waits for it, then reads it and is
    refused. Without the wait both would pass (each reads before the other commits)."""
    services = await open_services(settings_for(pg_url, tmp_path))
    try:
        store = services.store
        await store.create_tenant("T", tenant_id="t")
        body = einvoice_xml(company(number=NUMBER))
        ids = [await submit(services, body), await submit(services, body)]
        (job,) = [
            j
            for j in await store.claim_jobs("w", kinds={"process"}, limit=2)
            if j.submission_id == ids[1]
        ]
        document = SentDocument(SELLER_USCC, NUMBER, "invoice")
        params = claim_params(Claim(ids[0], "t", document), store.clock())
        async with await psycopg.AsyncConnection.connect(pg_url) as other:
            await other.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%(lock_key)s, 0))", params
            )
            await other.execute(REGISTER, params)
            waiting = asyncio.create_task(
                store.finish_processing(job.id, "w", claim=Claim(ids[1], "t", document))
            )
            await asyncio.sleep(0.5)
            assert not waiting.done()  # it waits for the other registration
            await other.commit()
            with pytest.raises(AlreadySent) as refused:
                await asyncio.wait_for(waiting, 10)
        earlier = refused.value.earlier
        assert earlier is not None and earlier.submission_id == ids[0]
        assert await deliveries(store, ids[1]) == 0
    finally:
        await services.close()


REGISTER = (
    "INSERT INTO sent_documents (submission_id, tenant_id, seller_id, number, document_type,"
    " created_at) VALUES (%(submission_id)s, %(tenant_id)s, %(seller_id)s, %(number)s,"
    " %(document_type)s, %(now)s)"
)
"""The row :func:`~gateway.store.sent_documents.claim_sent` adds, written by hand."""
