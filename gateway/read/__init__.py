"""Readers: standard documents (UBL) back into the canonical model, for inbound documents."""

from gateway.read.ubl import read_ubl

__all__ = ["read_ubl"]
