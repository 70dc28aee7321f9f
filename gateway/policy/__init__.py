"""The cross-border data gate: classification, the export policy, minimisation.

=================  ==========================================================================
module             does
=================  ==========================================================================
``categories``     business / personal / sensitive / important; one document's findings
``classify``       every field of an outbound invoice with its category and reason
``policyfile``     the TOML policy file (negative list, positive guidance, important data)
``source``         the policy in force, re-read when its file changes
``decide``         the decision: rules, then the 2024 Provisions' defaults and thresholds
``minimise``       what the recipient does not need never leaves
``subjects``       individuals as keyed hashes for the yearly counts
``gate``           all of it as one call for the flow's ``policy`` stage
=================  ==========================================================================

Pure: no store, no clock of its own beyond the decision day. The store side (the export
ledger, the yearly counts, holds) is :mod:`gateway.store.ledger`.
"""

from gateway.policy.categories import Category, Classification, Finding
from gateway.policy.decide import ALLOWED, HELD, VOLUME, Counts, Decision, decide_volume
from gateway.policy.gate import CHINA, GateResult, run_gate
from gateway.policy.policyfile import DEFAULT_POLICY, Policy, load_policy
from gateway.policy.source import PolicySource

__all__ = [
    "ALLOWED",
    "CHINA",
    "DEFAULT_POLICY",
    "HELD",
    "VOLUME",
    "Category",
    "Classification",
    "Counts",
    "Decision",
    "Finding",
    "GateResult",
    "Policy",
    "PolicySource",
    "decide_volume",
    "load_policy",
    "run_gate",
]
