"""Benchmark only (``bench.gate_e2e``): with ``LINGANG_BENCH_GATE=off`` in its environment, a
Python process started with this folder on ``PYTHONPATH`` runs the invoice flow without its
``policy`` stage, so its outcomes carry no gate decision and are finished by
``Store.finish_processing`` instead of the export ledger. The gateway itself has no such
switch: this file is never on the path of a deployed gateway."""

from __future__ import annotations

import os

if os.environ.get("LINGANG_BENCH_GATE") == "off":
    from gateway.flows.invoice_out import INVOICE_OUT

    object.__setattr__(
        INVOICE_OUT, "stages", tuple(s for s in INVOICE_OUT.stages if s.name != "policy")
    )
