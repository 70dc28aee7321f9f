"""The job layer: one claim loop, job kinds registered by name, retry and breakers.

=====================  ==============================================================
module                 what it holds
=====================  ==============================================================
``loop``               :class:`Worker` (the one claim loop) and :class:`WorkerPool`
``kinds``              the :class:`JobKind` seam and the :class:`JobKinds` registry
``submissions``        submit / manual retry / orphan recovery, submission states
``process``            the ``process`` kind: a flow on a submission, result in one transaction
``handoff``            hand-offs: at ingest, and the stored outputs a hand-off carries
``runner``             where flows run: a thread, or stage processes
``retry``, ``breaker``  backoff with jitter; the per-endpoint circuit breaker
=====================  ==============================================================

The ``deliver`` and ``receive`` kinds live with the adapters' side, in :mod:`gateway.delivery`.
"""

from __future__ import annotations

from gateway.jobs.breaker import CircuitBreaker
from gateway.jobs.handoff import HandedOutputs, IngestHandOffs, ReceivedSubmissions
from gateway.jobs.kinds import Completed, JobKind, JobKinds, JobResult, Recorded
from gateway.jobs.loop import Worker, WorkerPool, default_worker_id, is_retryable
from gateway.jobs.process import DeliveryPlan, DeliveryPlanner, ProcessKind
from gateway.jobs.retry import RetryPolicy
from gateway.jobs.runner import FlowRunner, ProcessFlowRunner, ThreadFlowRunner
from gateway.jobs.submissions import PROCESS, Submissions, SubmissionState, process_job

__all__ = [
    "PROCESS",
    "CircuitBreaker",
    "Completed",
    "DeliveryPlan",
    "DeliveryPlanner",
    "FlowRunner",
    "HandedOutputs",
    "IngestHandOffs",
    "JobKind",
    "JobKinds",
    "JobResult",
    "ProcessFlowRunner",
    "ProcessKind",
    "ReceivedSubmissions",
    "Recorded",
    "RetryPolicy",
    "SubmissionState",
    "Submissions",
    "ThreadFlowRunner",
    "Worker",
    "WorkerPool",
    "default_worker_id",
    "is_retryable",
    "process_job",
]
