"""What is stuck and why: dead-lettered deliveries (retry) and held documents (release).

Release is a seam: the export gate (another feature) holds documents and releases them. When
the services carry a ``holds`` object with :class:`ReleasesHeld`'s ``release``, the console
offers it, recording who released and on what basis; until then held documents are listed
and the page says release is not available here.
"""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from gateway.api.console.context import PREFIX, Screen, console, signed_in
from gateway.api.console.forms import field
from gateway.api.console.page import redirect, render
from gateway.api.context import services
from gateway.api.disclosure import delivery_error

routes = web.RouteTableDef()
MAX_BASIS = 1000


class ReleasesHeld(Protocol):
    """What the console needs from the export gate to release a held document."""

    async def release(self, tenant_id: str, submission_id: str, *, who: str, basis: str) -> None:
        """Release the document; raises a ``LingangError`` when it cannot be released."""
        ...


def releaser(request: web.Request) -> ReleasesHeld | None:
    """The gate's releaser when the gateway has one."""
    holds = getattr(services(request), "holds", None)
    return holds if holds is not None and hasattr(holds, "release") else None


@routes.get("/stuck")
async def stuck(request: web.Request) -> web.Response:
    tenant, _ = signed_in(request)
    reads = console(request).reads
    dead = await reads.dead_letters(tenant.id)
    held = await reads.held_documents(tenant.id)
    notice = request.query.get("notice", "")
    return render(
        request,
        "stuck.html",
        dead=[
            {"item": d, "error": delivery_error(d.job.last_error, d.job.retryable)} for d in dead
        ],
        held=held,
        can_release=releaser(request) is not None,
        notice=notice if notice in ("retried", "not_retryable", "released") else "",
    )


@routes.post("/stuck/{id}/release")
async def release(request: web.Request) -> web.Response:
    tenant, _ = signed_in(request)
    gate = releaser(request)
    if gate is None:
        raise web.HTTPNotFound()
    basis = field(request, "basis", limit=MAX_BASIS)
    if not basis:
        raise redirect(f"{PREFIX}/stuck")
    await gate.release(tenant.id, request.match_info["id"], who=tenant.name, basis=basis)
    raise redirect(f"{PREFIX}/stuck?notice=released")


SCREEN = Screen(name="stuck", routes=routes, menu_path="/stuck", order=30)
