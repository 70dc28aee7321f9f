"""What is stuck and why: dead-lettered deliveries (retry) and held documents (release or
refuse), each hold with the export gate's reason and the policy version that held it (what an
officer decides on).

Deciding a hold is a seam: the export gate holds documents and decides them. When the
services carry a ``holds`` object with :class:`DecidesHeld`'s ``release`` and ``refuse``,
the console offers them to a session signed in with a compliance officer's key (or any key
with ``[policy] submitter_decisions``, :func:`gateway.api.auth.may_decide_holds`), recording
the officer's name as typed, the basis or reason, and the key (``api-key:<id>``). Other
sessions see held documents listed with a note; a decision they post anyway is refused
(403). Without the seam held documents are listed and the page says release is not
available here.
"""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from gateway.api.auth import may_decide_holds, officer_refusal
from gateway.api.console.context import KEY, PREFIX, Screen, console, console_store, signed_in
from gateway.api.console.forms import field
from gateway.api.console.i18n import add_texts
from gateway.api.console.page import redirect, render
from gateway.api.context import services
from gateway.api.disclosure import delivery_error
from gateway.store.ledger import LedgerStore

routes = web.RouteTableDef()
MAX_BASIS = 1000
MAX_OFFICER = 200
NOTICES = ("retried", "not_retryable", "released", "hold_refused", "decision_incomplete")

add_texts(
    {
        "release_decided_again": (
            "放行失败：由合规官在下方重新决定",
            "the release failed: an officer decides again below",
        )
    }
)


class DecidesHeld(Protocol):
    """What the console needs from the export gate to decide a held document."""

    async def release(
        self, tenant_id: str, submission_id: str, *, officer: str, basis: str, principal: str
    ) -> None:
        """Release the document; raises a ``LingangError`` when it cannot be released."""
        ...

    async def refuse(
        self, tenant_id: str, submission_id: str, *, officer: str, reason: str, principal: str
    ) -> None:
        """Refuse the document for good; a ``LingangError`` when it cannot be refused."""
        ...


def decider(request: web.Request) -> DecidesHeld | None:
    """The gate's decider when the gateway has one."""
    holds = getattr(services(request), "holds", None)
    if holds is None or not hasattr(holds, "release") or not hasattr(holds, "refuse"):
        return None
    return holds  # type: ignore[no-any-return]


@routes.get("/stuck")
async def stuck(request: web.Request) -> web.Response:
    tenant, _ = signed_in(request)
    reads = console(request).reads
    dead = await reads.dead_letters(tenant.id)
    held = await reads.held_documents(tenant.id)
    store = console_store(request)
    holds = await LedgerStore(store.connector, clock=store.clock).list_holds(tenant_id=tenant.id)
    notice = request.query.get("notice", "")
    return render(
        request,
        "stuck.html",
        dead=[
            {"item": d, "error": delivery_error(d.job.last_error, d.job.retryable)} for d in dead
        ],
        held=held,
        holds={hold.submission_id: hold for hold in holds},
        can_release=decider(request) is not None,
        may_decide=may_decide_holds(request, request[KEY]),
        notice=notice if notice in NOTICES else "",
    )


def _officer_decision(request: web.Request, what: str, limit: int) -> tuple[DecidesHeld, str, str]:
    """The gate, the officer's name and ``what`` (basis or reason) of a decision form; 404
    without the gate, 403 for a key that may not decide, back to the page saying what is
    missing when a field is empty (a name of spaces passes the browser's ``required``)."""
    gate = decider(request)
    if gate is None:
        raise web.HTTPNotFound()
    if not may_decide_holds(request, request[KEY]):
        raise officer_refusal()
    officer = field(request, "officer", limit=MAX_OFFICER)
    text = field(request, what, limit=limit)
    if not officer or not text:
        raise redirect(f"{PREFIX}/stuck?notice=decision_incomplete")
    return gate, officer, text


@routes.post("/stuck/{id}/release")
async def release(request: web.Request) -> web.Response:
    tenant, _ = signed_in(request)
    gate, officer, basis = _officer_decision(request, "basis", MAX_BASIS)
    await gate.release(
        tenant.id,
        request.match_info["id"],
        officer=officer,
        basis=basis,
        principal=request[KEY].principal,
    )
    raise redirect(f"{PREFIX}/stuck?notice=released")


@routes.post("/stuck/{id}/refuse")
async def refuse(request: web.Request) -> web.Response:
    tenant, _ = signed_in(request)
    gate, officer, reason = _officer_decision(request, "reason", MAX_BASIS)
    await gate.refuse(
        tenant.id,
        request.match_info["id"],
        officer=officer,
        reason=reason,
        principal=request[KEY].principal,
    )
    raise redirect(f"{PREFIX}/stuck?notice=hold_refused")


SCREEN = Screen(name="stuck", routes=routes, menu_path="/stuck", order=30)
