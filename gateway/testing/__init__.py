"""Test helpers that ship with the gateway (the local receiving endpoint)."""
