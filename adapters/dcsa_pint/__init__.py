"""DCSA PINT 3.0 platform adapter (entry point ``dcsa_pint``)."""

from adapters.dcsa_pint.adapter import PintAdapter

__all__ = ["PintAdapter"]
