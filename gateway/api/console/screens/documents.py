"""The documents list: filter by state, profile, receiver, number and date; newest first,
paged."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from aiohttp import web

from gateway.api.console.context import Screen, console, signed_in
from gateway.api.console.page import render
from gateway.jobs.submissions import SubmissionState
from gateway.mapping.profiles import PROFILE_SPECS
from gateway.store.console import HELD_STATE, DocumentFilter

routes = web.RouteTableDef()
PAGE_SIZE = 50
STATES = (*(s.value for s in SubmissionState), HELD_STATE)
_ENDPOINT = re.compile(r"[A-Za-z0-9._-]{1,32}:[\x21-\x7e]{1,200}")
_NUMBER = re.compile(r"[^\x00-\x20\x7f-\x9f]{1,100}")
"""A document number as typed: a fapiao's 20 digits, an eBL's reference."""
_CURSOR = re.compile(r"(\d{4}-\d\d-\d\dT[0-9:.+]+)~([0-9A-Za-z_-]{1,64})")


@routes.get("/documents")
async def documents(request: web.Request) -> web.Response:
    tenant, _ = signed_in(request)
    query = request.query
    state = query.get("state") if query.get("state") in STATES else None
    profile = query.get("profile") if query.get("profile") in PROFILE_SPECS else None
    receiver_text = query.get("receiver", "").strip()
    receiver = receiver_text if _ENDPOINT.fullmatch(receiver_text) else None
    number_text = query.get("number", "").strip()
    number = number_text if _NUMBER.fullmatch(number_text) else None
    since = _day(query.get("from", ""))
    until = _day(query.get("until", ""))
    found = DocumentFilter(
        state=state,
        profile=profile,
        receiver=receiver,
        number=number,
        since=since,
        until=until + timedelta(days=1) if until and until.date() < date.max else None,
    )
    before = _cursor(query.get("before", ""))
    unusable = [
        name
        for name, text, value in (
            ("receiver", receiver_text, receiver),
            ("number", number_text, number),
        )
        if text and value is None
    ]
    rows = []
    if not unusable:  # a filter that cannot match is said so, not dropped to list everything
        rows = await console(request).reads.find_documents(
            tenant.id, found, limit=PAGE_SIZE + 1, before=before
        )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_cursor = f"{rows[-1].created_at.isoformat()}~{rows[-1].id}" if more else ""
    return render(
        request,
        "documents.html",
        rows=rows,
        states=STATES,
        profiles=list(PROFILE_SPECS),
        chosen={
            "state": state or "",
            "profile": profile or "",
            "receiver": receiver_text[:210],
            "number": number_text[:100],
            "from": since.date().isoformat() if since else "",
            "until": until.date().isoformat() if until else "",
        },
        next_cursor=next_cursor,
        paged=before is not None,
        unusable=unusable,
    )


def _day(text: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(text.strip()), time(), tzinfo=UTC)
    except ValueError:
        return None


def _cursor(text: str) -> tuple[datetime, str] | None:
    match = _CURSOR.fullmatch(text)
    if match is None:
        return None
    try:
        at = datetime.fromisoformat(match[1])
    except ValueError:
        return None
    return (at.astimezone(UTC), match[2]) if at.tzinfo else None


SCREEN = Screen(name="documents", routes=routes, menu_path="/documents", order=10)
