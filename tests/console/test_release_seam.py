"""Held documents: the console lists them and, when the gateway has a decider (the export
gate's ``services.holds``), lets a compliance officer's session release or refuse them,
recording the officer's name, the basis or reason and the officer's key; a session signed in
with the tenant's submitting key sees them listed and cannot decide (403)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from gateway.api import api_runner, create_app
from gateway.service import Services
from tests.console.conftest import LiveConsole, csrf_of, signed_in


@dataclass
class RecordingHolds:
    """Stands in for the export gate at the far edge: records each decision."""

    decided: list[tuple[str, ...]] = field(default_factory=list)

    async def release(
        self, tenant_id: str, submission_id: str, *, officer: str, basis: str, principal: str
    ) -> None:
        self.decided.append(("release", tenant_id, submission_id, officer, basis, principal))

    async def refuse(
        self, tenant_id: str, submission_id: str, *, officer: str, reason: str, principal: str
    ) -> None:
        self.decided.append(("refuse", tenant_id, submission_id, officer, reason, principal))


class WithHolds:
    """The gateway's services plus ``holds`` (as the export gate will add them)."""

    def __init__(self, services: Services, holds: RecordingHolds) -> None:
        self._services = services
        self.holds = holds

    def __getattr__(self, name: str) -> Any:
        return getattr(self._services, name)


async def held_document(live: LiveConsole) -> str:
    submission, _ = await live.services.submissions.submit(
        live.tenant_a.id,
        b"<x/>",
        content_type="application/xml",
        filename="held.xml",
        metadata={},
        idempotency_key=None,
    )
    await live.store.record_event(submission.id, "held", reason="export gate: licence needed")
    return submission.id


async def test_without_a_releaser_held_documents_are_listed_without_release(
    quiet: LiveConsole,
) -> None:
    """A gateway whose services carry no ``holds`` (the gate always gives one; this is the
    seam's other side) lists held documents and offers no release."""
    quiet.services.holds = None
    doc = await held_document(quiet)
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        async with session.get(f"{quiet.base}/console/stuck") as response:
            page = await response.text()
        assert doc in page and "/release" not in page
        token = csrf_of(page)
        async with session.post(
            f"{quiet.base}/console/stuck/{doc}/release", data={"csrf": token, "basis": "x"}
        ) as response:
            assert response.status == 404


async def test_with_a_gate_an_officer_decides_and_a_submitter_cannot(quiet: LiveConsole) -> None:
    doc = await held_document(quiet)
    other = await held_document(quiet)
    officer_key, officer = await quiet.store.issue_api_key(
        quiet.tenant_a.id, label="Li Wei", role="officer"
    )
    holds = RecordingHolds()
    runner = api_runner(create_app(WithHolds(quiet.services, holds)))  # type: ignore[arg-type]
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    gated = LiveConsole(
        f"http://127.0.0.1:{port}",
        quiet.services,
        quiet.store,
        quiet.tenant_a,
        quiet.tenant_b,
        quiet.key_a,
        quiet.key_b,
    )
    release = f"{gated.base}/console/stuck/{doc}/release"
    try:
        submitter = await signed_in(gated, gated.key_a)
        async with submitter:
            async with submitter.get(f"{gated.base}/console/stuck") as response:
                page = await response.text()
            assert doc in page and "/release" not in page and 'id="officer-only"' in page
            decision = {"csrf": csrf_of(page), "officer": "Me", "basis": "my own say-so"}
            async with submitter.post(release, data=decision) as response:
                assert response.status == 403
            refusal = {"csrf": csrf_of(page), "officer": "Me", "reason": "x"}
            async with submitter.post(release.replace("release", "refuse"), data=refusal) as r:
                assert r.status == 403
        session = await signed_in(gated, officer_key)
        async with session:
            async with session.get(f"{gated.base}/console/stuck") as response:
                page = await response.text()
            assert f"/console/stuck/{doc}/release" in page
            assert f"/console/stuck/{doc}/refuse" in page and 'name="officer"' in page
            async with session.post(
                release,
                data={
                    "csrf": csrf_of(page),
                    "officer": "Li Wei",
                    "basis": "licence 2026-118 checked",
                },
            ) as response:
                assert response.status == 200
                assert "已放行" in await response.text()
            async with session.post(
                f"{gated.base}/console/stuck/{other}/refuse",
                data={"csrf": csrf_of(page), "officer": "Li Wei", "reason": "no licence"},
            ) as response:
                assert response.status == 200
                assert "已拒绝出境" in await response.text()
            async with session.post(
                release, data={"officer": "Li Wei", "basis": "no token"}
            ) as response:
                assert response.status == 403
    finally:
        await runner.cleanup()
    principal = f"api-key:{officer.id}"
    assert holds.decided == [
        ("release", quiet.tenant_a.id, doc, "Li Wei", "licence 2026-118 checked", principal),
        ("refuse", quiet.tenant_a.id, other, "Li Wei", "no licence", principal),
    ]


async def test_a_held_document_shows_the_gates_reason(quiet: LiveConsole) -> None:
    """The officer decides on the reason the export gate gave, with its policy version."""
    import datetime as dt

    from gateway.store import JobSpec
    from gateway.store.ledger import ExportRecord, Verdict
    from gateway.store.ledger_export import insert_hold

    doc = await held_document(quiet)
    record = ExportRecord("91310115MA1FL8K22H", "SG", "0195:X", "1", "ab" * 32, ("personal",))
    why = "export gate: negative list sg-contacts: needs an approval <FTZ item 7>"
    verdict = Verdict(False, reason=why, policy_version="ftz-2026-1", article="negative")
    now = dt.datetime.now(dt.UTC)
    await quiet.store.connector.write(
        insert_hold(doc, quiet.tenant_a.id, record, verdict, JobSpec("deliver"), now)
    )
    session = await signed_in(quiet, quiet.key_a)
    async with session, session.get(f"{quiet.base}/console/stuck") as response:
        page = await response.text()
    assert "negative list sg-contacts: needs an approval &lt;FTZ item 7&gt;" in page
    assert "政策版本 ftz-2026-1" in page


async def test_another_tenants_hold_is_a_404_to_an_officer(quiet: LiveConsole) -> None:
    """The real gate (``HeldDocuments``): tenant B's officer deciding tenant A's held document,
    or anyone deciding an id that holds nothing, gets the not-found page (404), as in the API
    and for every other console id; nothing is decided."""
    import datetime as dt

    from gateway.store import JobSpec
    from gateway.store.ledger import ExportRecord, LedgerStore, Verdict
    from gateway.store.ledger_export import insert_hold

    doc = await held_document(quiet)
    record = ExportRecord("91310115MA1FL8K22H", "SG", "0195:X", "1", "ab" * 32, ("personal",))
    verdict = Verdict(False, reason="needs an approval", policy_version="v1", article="negative")
    now = dt.datetime.now(dt.UTC)
    await quiet.store.connector.write(
        insert_hold(doc, quiet.tenant_a.id, record, verdict, JobSpec("deliver"), now)
    )
    officer_b, _ = await quiet.store.issue_api_key(quiet.tenant_b.id, role="officer")
    officer_a, _ = await quiet.store.issue_api_key(quiet.tenant_a.id, role="officer")
    decision = {"officer": "Li Wei", "basis": "licence", "reason": "no licence"}
    for key, target in ((officer_b, doc), (officer_a, "0" * 32)):
        session = await signed_in(quiet, key)
        async with session:
            async with session.get(f"{quiet.base}/console/stuck") as response:
                token = csrf_of(await response.text())
            for action in ("release", "refuse"):
                async with session.post(
                    f"{quiet.base}/console/stuck/{target}/{action}",
                    data={"csrf": token, **decision},
                    allow_redirects=False,
                ) as response:
                    assert response.status == 404, (action, target)
    ledger = LedgerStore(quiet.store.connector, clock=quiet.store.clock)
    held = await ledger.list_holds(tenant_id=quiet.tenant_a.id)
    assert [h.submission_id for h in held] == [doc]


async def test_a_failed_release_is_decided_again_not_retried_from_the_console(
    quiet: LiveConsole,
) -> None:
    """A dead ``release`` job is listed with the dead letters, but its document is sent only
    on an officer's new decision: the row says so instead of offering a retry, and a retry
    posted anyway revives nothing (the page says it cannot be retried)."""
    from gateway.store import JobSpec, JobState

    ident = await held_document(quiet)
    for job in await quiet.store.claim_jobs("w"):
        await quiet.store.complete_job(job.id, "w", None)
    await quiet.store.enqueue_job(ident, JobSpec("release"))
    (job,) = await quiet.store.claim_jobs("w")
    await quiet.store.fail_job(job.id, "w", "StoreError: away", retryable=False, retry_after=None)
    session = await signed_in(quiet, quiet.key_a)
    async with session:
        async with session.get(f"{quiet.base}/console/stuck") as response:
            page = await response.text()
        dead = page.split('id="dead-letters"')[1].split("</table>")[0]
        assert ident in dead and 'class="decide-again"' in dead and "retry-dead" not in dead
        async with session.post(
            f"{quiet.base}/console/documents/{ident}/retry?back=stuck",
            data={"csrf": csrf_of(page)},
            allow_redirects=False,
        ) as response:
            assert response.headers["Location"].endswith("/stuck?notice=not_retryable")
    (still,) = await quiet.store.list_jobs(submission_id=ident, state=JobState.DEAD)
    assert still.kind == "release"
