"""The ``transfer`` kind: run an eBL envelope transfer until the receiver signs an answer.

The job points at an outbound transfer of the eBL registry (``submission_id`` = its id), locked
with the envelope it sends. The adapter (``dcsa_pint``) runs the PINT exchange and returns the
verified signed answer; this kind records it with the job's completion in one transaction,
fenced by the lease:

* ``RECE`` / ``DUPE``: the eBL is ``transferred`` (this platform has no control left);
* ``BENV`` / ``BSIG`` / ``DISE``: the transfer is over, the eBL is ``held`` again;
* ``INCD`` / ``MDOC``: not final — the attempt fails and the job runs again (the adapter
  has already sent again the documents an ``MDOC`` listed and finished again, a few times);
* no signed answer (network, 5xx, unsigned error): the adapter raises a transient error and
  the loop retries; the eBL stays locked (``sending``) however long that takes, since only a
  signed answer (or the control tracking registry) says who holds it.
"""

from __future__ import annotations

import json
import logging

from adapters.base import Envelope
from gateway.delivery.registry import AdapterRegistry
from gateway.errors import PermanentDeliveryError, TransientDeliveryError
from gateway.jobs import JobResult, Recorded
from gateway.store import Job, StateChange, Store
from gateway.store.ebl import TRANSFER, EblRegistry

log = logging.getLogger("lingang.delivery")

ACCEPTED = frozenset({"RECE", "DUPE"})
NOT_FINAL = frozenset({"INCD", "MDOC"})


class TransferKind:
    """Sends outbound eBL envelope transfers (job kind ``transfer``)."""

    name = TRANSFER

    def __init__(self, store: Store, adapters: AdapterRegistry) -> None:
        self.registry = EblRegistry.of(store)
        self.store = store
        self.adapters = adapters

    async def run(self, job: Job, worker_id: str) -> JobResult:
        transfer = await self.registry.outbound(job.submission_id)
        if transfer is None:
            raise PermanentDeliveryError(
                f"no outbound transfer {job.submission_id}", field="transfer"
            )
        if transfer.state != "sending":
            await self.store.complete_job(job.id, worker_id, None)
            return Recorded()
        attachments = {}
        for checksum in transfer.documents:
            found = await self.registry.document(checksum)
            if found is None:
                raise PermanentDeliveryError(
                    f"supporting document {checksum} is gone", field="documents"
                )
            attachments[checksum] = found[1]
        envelope = Envelope(
            message_id=job.message_id,
            body=json.dumps(transfer.envelope, separators=(",", ":")).encode("utf-8"),
            content_type="application/json",
            receiver=transfer.platform,
            document_kind="bill-of-lading",
            attachments=attachments,
            attempt=job.attempts,
        )
        receipt = await self.adapters.get(job.adapter).deliver(envelope)
        code = str(receipt.details.get("responseCode", ""))
        if code in NOT_FINAL or not code:
            raise TransientDeliveryError(
                f"{transfer.platform} answered {code or 'nothing'}: {receipt.details.get('reason', '')}"
            )
        await self.registry.finish_transfer(
            transfer.id,
            accepted=code in ACCEPTED,
            response_code=code,
            response=receipt.body.decode("ascii", "replace"),
            job_id=job.id,
            worker_id=worker_id,
        )
        log.info("eBL transfer finished", extra={"transfer": transfer.id, "code": code})
        return Recorded()

    def dead_event(self, job: Job, reason: str, *, retryable: bool) -> StateChange | None:
        return None
