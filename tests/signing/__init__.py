"""Tests of gateway.signing: XAdES signing, verification, trust, revocation and interop."""
