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
  signed answer (or the control tracking registry) says who holds it — or an envelope that
  comes back continuing the chain sent (the receiver took it and passed it on): the
  registry then settles the transfer as accepted, and the job only fetches the receiver's
  signed ``DUPE`` to keep as its acknowledgement.
"""

from __future__ import annotations

import json
import logging

from adapters.base import Envelope, Receipt
from gateway.delivery.registry import AdapterRegistry
from gateway.errors import PermanentDeliveryError, TransientDeliveryError
from gateway.jobs import JobResult, Recorded
from gateway.store import Job, StateChange, Store
from gateway.store.ebl import TRANSFER, EblRegistry, Outbound

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
        if transfer.state == "accepted" and transfer.response is None:
            return await self._acknowledge(job, worker_id, transfer)
        if transfer.state != "sending":
            await self.store.complete_job(job.id, worker_id, None)
            return Recorded()
        receipt = await self._deliver(job, transfer)
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

    async def _deliver(self, job: Job, transfer: Outbound) -> Receipt:
        """Run the transfer's envelope exchange once (the adapter returns the signed answer)."""
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
        return await self.adapters.get(job.adapter).deliver(envelope)

    async def _acknowledge(self, job: Job, worker_id: str, transfer: Outbound) -> JobResult:
        """A transfer settled as accepted before its answer came (the eBL came back along
        its chain while the answer was lost): the same envelope again asks the receiver for
        its signed answer (``DUPE``), kept as the transfer's acknowledgement. Any other
        signed answer changes nothing: the title moved on with the envelope that settled it."""
        receipt = await self._deliver(job, transfer)
        code = str(receipt.details.get("responseCode", ""))
        if code in ACCEPTED:
            await self.registry.acknowledge(
                transfer.id,
                response_code=code,
                response=receipt.body.decode("ascii", "replace"),
                job_id=job.id,
                worker_id=worker_id,
            )
        else:
            log.warning(
                "a settled eBL transfer was answered %s", code or "without a code",
                extra={"transfer": transfer.id},
            )  # fmt: skip
            await self.store.complete_job(job.id, worker_id, None)
        return Recorded()

    def dead_event(self, job: Job, reason: str, *, retryable: bool) -> StateChange | None:
        return None
