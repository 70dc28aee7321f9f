"""An access point's duties towards what it receives over Peppol.

* **Record** every received transmission for the monthly reports
  (:class:`~gateway.delivery.peppol_recording.PeppolRecorder`).
* **Answer with Message Level Status**: after the inbound flow and the hand-over to the local
  system, build the MLS (``AP`` handed over and acknowledged by the local system, ``AB``
  kept for collection, ``RE`` rejected or undeliverable), decide from the SBDH's
  ``MLS_TYPE``/``MLS_TO`` whether and to whom it goes (default ``FAILURE_ONLY`` to ``0242:`` +
  the sending access point's SPIS id), and submit it as flow ``peppol-out`` — validated with
  ``peppol-mls-1.0.1`` and sent through the ordinary delivery path. Once per received message.
  An ``MLS_TO`` that is no SPIS participant is not followed (the MLS goes to the sending
  access point, and the verdict's ``mls_to_ignored`` says why); the received document is
  processed all the same.
* **Correlate a received MLS** with the document we sent, by the SBDH InstanceIdentifier it
  names: the status is added to that submission's history (its state is unchanged) and the
  MLS kept as its output ``mls``; the received MLS becomes a received document of that
  submission's tenant. An MLS is never answered.

  Only the receiving end of that document may report on it. The MLS specification makes the
  MLS a message from C3 to C2: C3 sends it over AS4 as the access point it is (its
  certificate's seat id), and names itself as the MLS sending party (``cac:SenderParty``,
  its SPIS id under scheme ``0242``; SCH-MLS-09/11). So an MLS is taken only when both are
  the access point the document went to (the C3 seat kept with the transmission), compared
  as service providers (the seat's six digits = the SPIS main id). Any other MLS — from
  another access point, naming another sending party, or not received over Peppol AS4 at
  all — is ignored: logged with its rule (:class:`MlsNotFromReceiver`), nothing recorded,
  the document's history and outputs untouched.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.delivery.peppol_recording import PeppolRecorder, peppol_facts
from gateway.delivery.peppol_reports import ensure_tenant
from gateway.errors import FieldError, InputError, LingangError
from gateway.flows import FlowOutcome
from gateway.flows.peppol_out import PEPPOL_OUT
from gateway.jobs import Submissions
from gateway.read.mls import ReceivedMls, read_mls
from gateway.render.mls import (
    DOCUMENT_TYPE_ID,
    SPIS_SCHEME,
    MlsDocument,
    MlsStatus,
    MlsTarget,
    mls_target,
    render_mls,
    spis_id,
    spis_participant,
    status_from_findings,
)
from gateway.store import InboundMessage, Store
from gateway.store.peppol_reporting import PeppolReportingStore, Transmission

log = logging.getLogger("lingang.peppol.mls")

MLS_PROFILE = "peppol-mls"
MLS_OUTPUT = "mls"
SYNTAX_ERRORS = ("unknown-format", "unsafe-input", "input")
MLS_CODE = "mls_code"
"""Metadata of an MLS submission: the status code it carries (``AP``, ``AB``, ``RE``)."""
MLS_REASON = "mls_reason"
"""Metadata of an MLS submission: its status reason (``rejected: delivery failure`` …)."""


@dataclass(frozen=True, slots=True)
class MlsNotFromReceiver:
    """Why a received MLS is not taken as the status of the document it names: ``rule``
    ``mls.not-over-peppol``, ``mls.sending-access-point`` or ``mls.sender-party``."""

    rule: str
    reason: str


def check_mls_sender(
    mls: ReceivedMls, facts: Mapping[str, Any] | None, sent: Transmission
) -> MlsNotFromReceiver | None:
    """``None`` when ``mls`` came from the access point ``sent`` went to (see the module
    docstring); else why not. ``facts``: the Peppol facts of the received MLS's transmission
    (``c2_seat``: the seat of the access point that signed it)."""
    receiver = sent.c3_seat
    if facts is None or not str(facts.get("c2_seat") or ""):
        return MlsNotFromReceiver(
            "mls.not-over-peppol",
            "the MLS did not arrive over Peppol AS4, so the access point that sent it is "
            f"unknown; only {receiver}, which received the document, may report on it",
        )
    sending_ap = str(facts["c2_seat"])
    if not _same_provider(sending_ap, receiver):
        return MlsNotFromReceiver(
            "mls.sending-access-point",
            f"the MLS was sent by the access point {sending_ap}, but the document it names "
            f"went to {receiver}",
        )
    if not _same_provider(mls.sender_spis, receiver):
        return MlsNotFromReceiver(
            "mls.sender-party",
            f"the MLS names {SPIS_SCHEME}:{mls.sender_spis} as its sending party "
            f"(cac:SenderParty), not the access point the document went to ({receiver})",
        )
    return None


def _same_provider(seat_or_spis: str, seat: str) -> bool:
    """Whether two seat ids / SPIS ids name one service provider (SPIS main ids equal: a
    seat's six digits, an SPIS id before its ``-`` suffix); forms neither is compared as
    they are."""
    try:
        return _spis_main(seat_or_spis) == _spis_main(seat)
    except FieldError:
        return seat_or_spis.strip().casefold() == seat.strip().casefold()


def _spis_main(seat_or_spis: str) -> str:
    return spis_id(seat_or_spis).split("-", 1)[0]


@dataclass(frozen=True, slots=True)
class _Finding:
    rule_id: str
    flag: str
    location: str
    text: str


class PeppolDuties:
    """What the ``receive`` kind does besides the inbound flow, for Peppol traffic."""

    def __init__(
        self,
        store: Store,
        *,
        seat_id: str,
        recorder: PeppolRecorder | None = None,
        tenant_id: str = "peppol-reporting",
    ) -> None:
        self.store = store
        self.seat_id = seat_id
        self.recorder = recorder
        self.tenant_id = tenant_id
        """The tenant of MLS sent for messages that belong to no tenant."""

    async def record(self, message: InboundMessage) -> None:
        """The reporting record of a received Peppol transmission (idempotent)."""
        facts = peppol_facts(message.metadata)
        if facts is not None and self.recorder is not None:
            await self.recorder.received(
                facts,
                message_id=message.message_id,
                at=message.received_at,
                tenant_id=message.tenant_id,
            )

    @staticmethod
    def is_mls(outcome: FlowOutcome) -> bool:
        """Whether the inbound flow found a Message Level Status."""
        return outcome.facts.get("profile") == MLS_PROFILE

    async def correlate(self, message: InboundMessage) -> dict[str, Any]:
        """Attach a received MLS to the submission whose SBDH InstanceIdentifier it names,
        if it came from the access point that document went to (:func:`check_mls_sender`),
        and give the received MLS to that submission's tenant (it arrived addressed to our
        own SPIS id, no tenant's): that tenant reads it among its received documents, no
        other tenant does. An MLS that names no document of ours, or is ignored, stays
        unclaimed (the operator's ``lingang received --unclaimed``)."""
        mls = read_mls(message.data)
        sent = await PeppolReportingStore(self.store.connector).sent_by_instance(mls.instance_id)
        refusal = (
            check_mls_sender(mls, peppol_facts(message.metadata), sent)
            if sent is not None
            else None
        )
        if refusal is not None:
            log.warning(
                "a Message Level Status from another than the document's receiver was ignored",
                extra={
                    "inbound_id": message.id,
                    "instance_id": mls.instance_id,
                    "rule": refusal.rule,
                    "reason": refusal.reason,
                },
            )
            return {
                "correlated": False,
                "ignored": refusal.rule,
                "reason": refusal.reason,
                "instance_id": mls.instance_id,
                "code": mls.code,
            }
        submission = (
            await self.store.get_submission_any_tenant(sent.submission_id)
            if sent is not None and sent.submission_id
            else None
        )
        if submission is None:
            log.info(
                "a Message Level Status names no document we sent",
                extra={"inbound_id": message.id, "instance_id": mls.instance_id},
            )
            return {"correlated": False, "instance_id": mls.instance_id, "code": mls.code}
        await self.store.claim_inbound(message.id, submission.tenant_id)
        seen = await self.store.list_events(submission.id)
        if any((event.detail or {}).get("inbound_id") == message.id for event in seen):
            return {"correlated": True, "submission_id": submission.id, "code": mls.code}
        await self.store.record_event(
            submission.id,
            submission.state,
            reason=f"Message Level Status {mls.code} from {SPIS_SCHEME}:{mls.sender_spis}",
            detail={"mls": mls.to_json(), "inbound_id": message.id},
        )
        await self.store.put_output(submission.id, MLS_OUTPUT, "application/xml", message.data)
        return {
            "correlated": True,
            "submission_id": submission.id,
            "instance_id": mls.instance_id,
            "code": mls.code,
        }

    async def respond(
        self,
        message: InboundMessage,
        outcome: FlowOutcome,
        *,
        handed_on: bool,
        confirmed: bool,
    ) -> dict[str, Any] | None:
        """Submit the MLS for a processed message when its SBDH asks for one; what was
        decided, or ``None`` for a message that did not come over Peppol."""
        facts = peppol_facts(message.metadata)
        if facts is None:
            return None
        status = self.status(outcome, handed_on=handed_on, confirmed=confirmed)
        scopes = facts.get("scopes")
        received_is_mls = (
            self.is_mls(outcome) or str(facts.get("doctype") or "") == DOCUMENT_TYPE_ID
        )
        target, unaddressable = _target(
            scopes if isinstance(scopes, Mapping) else {},
            status.code,
            sending_seat=str(facts.get("c2_seat") or ""),
            received_is_mls=received_is_mls,
            inbound_id=message.id,
        )
        reason = {"reason": status.description} if status.code == "RE" else {}
        if target is None:
            return {"code": status.code, "sent": False, **reason, **unaddressable}
        instance_id = str(facts.get("instance_id") or "")
        xml = render_mls(
            MlsDocument(
                mls_id=str(uuid.uuid4()),
                issued_at=self.store.clock(),
                sender_spis=spis_id(self.seat_id),
                receiver_spis=target.spis,
                instance_id=instance_id,
                status=status,
            )
        )
        tenant = message.tenant_id or self.tenant_id
        await ensure_tenant(self.store, tenant)
        submission, created = await Submissions(self.store).submit(
            tenant,
            xml,
            content_type="application/xml",
            filename=f"mls-{message.id}.xml",
            metadata={
                "receiver": target.participant,
                "sender": spis_participant(self.seat_id),
                "document_number": instance_id,
                "in_reply_to": message.id,
                MLS_CODE: status.code,
                MLS_REASON: status.description,
            },
            idempotency_key=f"mls:{message.id}",
            flow=PEPPOL_OUT.name,
        )
        if not created:
            return {**_first_answer(submission.metadata, status), "sent": True,
                    "to": target.participant, "submission_id": submission.id, **unaddressable}  # fmt: skip
        return {
            "code": status.code,
            "sent": True,
            **reason,
            "to": target.participant,
            "submission_id": submission.id,
            **unaddressable,
        }

    @staticmethod
    def status(outcome: FlowOutcome, *, handed_on: bool, confirmed: bool) -> MlsStatus:
        """The MLS status of a processed message."""
        findings: list[_Finding] = []
        report = outcome.output("report")
        if report is not None:
            for item in json.loads(report.data).get("findings", []):
                findings.append(
                    _Finding(
                        str(item.get("rule_id", "")),
                        str(item.get("flag", "")),
                        str(item.get("location", "")),
                        str(item.get("text", "")),
                    )
                )
        if outcome.error is not None and not any(f.flag == "fatal" for f in findings):
            findings.append(_error_finding(outcome.error))
        delivered = outcome.error is None and handed_on
        return status_from_findings(findings, delivered=delivered, confirmed=confirmed)


def _first_answer(metadata: Mapping[str, Any], now: MlsStatus) -> dict[str, str]:
    """The code (and reason of a rejection) of the MLS that was sent for a message before:
    one received message gets one MLS (its idempotency key), so when the ``receive`` job runs
    again (an operator's retry after a failed hand-over), the record says what its sender
    was told then, not the status this run would have given. ``now`` stands in for an MLS
    submitted before its code was kept."""
    code = str(metadata.get(MLS_CODE) or now.code)
    reason = str(metadata.get(MLS_REASON) or now.description) if code == "RE" else ""
    return {"code": code, **({"reason": reason} if reason else {})}


def _target(
    scopes: Mapping[str, str],
    code: str,
    *,
    sending_seat: str,
    received_is_mls: bool,
    inbound_id: str,
) -> tuple[MlsTarget | None, dict[str, str]]:
    """Where the MLS goes (:func:`mls_target`), and what of the SBDH could not be followed.

    An ``MLS_TO`` that is no SPIS participant (``0242:`` + an SPIS id, SCH-MLS-16) cannot
    receive an MLS: the MLS goes where it goes without ``MLS_TO``, the access point that sent
    the document (``mls_to_ignored`` says why). An MLS that cannot be addressed at all (the
    sending access point's certificate names no seat id) is not sent (``unaddressable``).
    Either way the received document is processed and kept as usual."""
    skipped: dict[str, str] = {}
    try:
        return mls_target(
            scopes, code, sending_seat=sending_seat, received_is_mls=received_is_mls
        ), skipped
    except FieldError as exc:
        if exc.field != "MLS_TO":
            log.warning(
                "no Message Level Status: the sending access point has no SPIS id",
                extra={"inbound_id": inbound_id, "reason": str(exc)},
            )
            return None, {"unaddressable": str(exc)}
        skipped["mls_to_ignored"] = str(exc)
        log.warning(
            "MLS_TO is not an SPIS participant: the MLS goes to the sending access point",
            extra={"inbound_id": inbound_id, "reason": str(exc)},
        )
    default = {kind: value for kind, value in scopes.items() if kind != "MLS_TO"}
    try:
        return mls_target(
            default, code, sending_seat=sending_seat, received_is_mls=received_is_mls
        ), skipped
    except FieldError as exc:
        return None, {**skipped, "unaddressable": str(exc)}


def _error_finding(error: LingangError) -> _Finding:
    """A rejection without a validation report (unreadable, unknown kind) as an issue:
    a syntax violation when the input could not be read, else a business rule."""
    syntax = isinstance(error, InputError) and error.code in SYNTAX_ERRORS
    return _Finding(
        "XSD" if syntax else (error.rule or error.code),
        "fatal",
        error.field or "",
        str(error),
    )
