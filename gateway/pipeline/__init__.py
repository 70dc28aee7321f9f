"""The document pipeline: submission, the table of stages, and the delivery step.

``Pipeline.submit`` makes a submission durable and queues its processing job;
a worker runs :meth:`Pipeline.process` (the stages in :mod:`gateway.pipeline.stages`) and
:meth:`Pipeline.deliver` (the routed adapter). See :mod:`gateway.pipeline.orchestrator`.
"""

from __future__ import annotations

from gateway.pipeline.orchestrator import PROCESS_KIND, Pipeline, SubmissionState

__all__ = ["PROCESS_KIND", "Pipeline", "SubmissionState"]
