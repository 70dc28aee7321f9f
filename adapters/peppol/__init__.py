"""Peppol: the SBDH envelope, the AS4 codec (both ways), SML/SMP discovery and the
``peppol`` delivery adapter (a sending access point, corner 2)."""

from adapters.peppol.adapter import PeppolAdapter

__all__ = ["PeppolAdapter"]
