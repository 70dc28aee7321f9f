"""A stored document as a readable page: what the API's ``…/view`` and the console show.

The page is built from the submission (the original bytes), its outputs (the document in the
profile's terms, the validation report, an eBL's conversions) and the facts the flow recorded
with its ``queued`` / ``converted`` event (profile, receiver, sender, number); for an eBL, the
transfer chain this platform's eBL registry holds for its reference (every entry verified when
the registry accepted it). :mod:`gateway.readable` renders it. Rendering parses XML and runs
templates, so it runs in a thread.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from gateway.api.platforms import operated_platform
from gateway.model.title_registry import TitleToken, TokenEvent
from gateway.readable import RenderSource, registered_kinds, render_html
from gateway.signing.openattestation import unsalt
from gateway.store import Event, NotFoundError, Output, Store, Submission
from gateway.store.ebl import EblRegistry, TitleRecord
from gateway.store.title_tokens import StoredTokenRegistry

RegistryView = Callable[[TitleRecord], bool]
"""Which of the eBL registry's records a tenant may see (:func:`reads_registry`)."""

FACT_EVENTS = ("queued", "held", "delivered", "converted")
"""Events whose detail carries the flow's facts (the latest wins)."""
REPORT = "report"
SHOWN_FACTS = ("profile", "receiver", "sender", "number", "document_kind", "document_number")
TRADETRUST_OA = "tradetrust-oa"
"""The eBL flow's wrapped OpenAttestation document: its Merkle root is the title token's id."""
EBL_FLOW_FACT = "bill_kind"
"""A fact only the eBL flow records (with ``document_number``, the transport document
reference)."""


async def render_source(
    store: Store,
    submission: Submission,
    *,
    outputs: Sequence[Output] | None = None,
    events: Sequence[Event] | None = None,
    registry: RegistryView | None = None,
) -> RenderSource:
    """Everything the renderers may use about ``submission`` (already tenant-checked);
    ``outputs`` and ``events`` when the caller has read them already. With ``registry`` (the
    tenant operates this gateway's eBL platform: :func:`reads_registry`) an eBL's page shows
    what the platform's registry holds for its reference, if ``registry`` lets the tenant see
    that record (a party it acts for takes part in the eBL); nobody else sees it, since the
    registry is the platform's, not the tenant's."""
    if outputs is None:
        outputs = await store.list_outputs(submission.id)
    if events is None:
        events = await store.list_events(submission.id)
    facts: dict[str, Any] = {
        key: submission.metadata[key] for key in SHOWN_FACTS if key in submission.metadata
    }
    for event in events:
        if event.state in FACT_EVENTS and event.detail:
            facts.update({k: event.detail[k] for k in SHOWN_FACTS if event.detail.get(k)})
    facts["state"] = submission.state
    by_kind = {o.kind: o.data for o in outputs}
    kind = facts.get("document_kind")
    chain: list[str] = []
    token: TitleToken | None = None
    history: list[TokenEvent] = []
    if submission.metadata.get("kind") == "ebl" or any(
        e.detail and e.detail.get(EBL_FLOW_FACT) for e in events
    ):
        kind = "ebl"
        reference = facts.get("document_number")
        record = None if registry is None else await _registry_record(store, reference, registry)
        if record is not None:
            chain = list(record.chain)
            facts.update(title_state=record.state, possessor=record.possessor)
        token, history = await _title_token(store, by_kind.get(TRADETRUST_OA))
    return RenderSource(
        data=submission.data,
        content_type=submission.content_type,
        filename=submission.filename,
        outputs=by_kind,
        report=_report(by_kind.get(REPORT)),
        facts=facts,
        document_id=submission.id,
        kind=kind if isinstance(kind, str) and kind in registered_kinds() else None,
        title_chain=chain,
        title_token=token,
        token_history=history,
    )


async def _registry_record(
    store: Store, reference: object, visible: RegistryView
) -> TitleRecord | None:
    """What the eBL registry holds for ``reference``: the newest eBL of that reference the
    tenant may see."""
    if not isinstance(reference, str) or not reference:
        return None
    found = [r for r in await EblRegistry.of(store).find_all(reference) if visible(r)]
    return found[-1] if found else None


def reads_registry(request: web.Request, tenant_id: str) -> RegistryView | None:
    """What of the registry ``tenant_id`` may see: ``None`` unless it operates one of the
    gateway's eBL platforms (a ``dcsa_pint`` adapter naming it in ``tenants``), and then
    only the eBLs a party it acts for takes part in."""
    platform = operated_platform(request, tenant_id)
    if platform is None:
        return None
    return lambda record: platform.may_read(tenant_id, record)


async def readable_page(
    store: Store, submission: Submission, *, registry: RegistryView | None = None
) -> str:
    """The readable HTML page of ``submission`` (``registry``: see :func:`render_source`)."""
    source = await render_source(store, submission, registry=registry)
    return await asyncio.to_thread(render_html, source)


def _report(data: bytes | None) -> dict[str, Any] | None:
    if not data:
        return None
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


async def _title_token(
    store: Store, wrapped: bytes | None
) -> tuple[TitleToken | None, list[TokenEvent]]:
    """The title token of a wrapped OpenAttestation document in its own token registry (the
    ``tokenRegistry`` of its first issuer), with its history; ``(None, [])`` when the
    document is unreadable or the registry holds no such token."""
    if not wrapped:
        return None, []
    try:
        document = json.loads(wrapped)
        root = str(document["signature"]["merkleRoot"])
        issuers = unsalt(document["data"]["issuers"])
        address = str(issuers[0]["tokenRegistry"])
    except (ValueError, LookupError, TypeError):
        return None, []
    registry = StoredTokenRegistry(store.connector, store.clock, address)
    try:
        return await registry.owner(root), await registry.history(root)
    except NotFoundError:
        return None, []
