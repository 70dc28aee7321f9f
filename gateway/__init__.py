"""Lingang Gateway: cross-border trade documents from China to Peppol, UN/CEFACT and DCSA."""

__version__ = "0.1.0"
