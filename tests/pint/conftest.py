"""Fixtures for the PINT tests: three platforms (a Chinese carrier platform, Hong Kong,
Singapore), the official envelope schema and transport documents from the DCSA template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.pint.schema import EnvelopeSchema, load_schema
from gateway.testing.pint import SCHEMA, DemoPlatform, platform, transport_document


@pytest.fixture(scope="session")
def schema(reference: Path) -> EnvelopeSchema:
    return load_schema(reference / SCHEMA)


@pytest.fixture(scope="session")
def platforms() -> dict[str, DemoPlatform]:
    """``A`` (AEOT, Ed25519, issues for COSCO), ``B`` (IQAX, ES256), ``C`` (SGTD, PS256)."""
    return {
        "A": platform("AEOT", "ed25519", "SHANGHAI-EXPORTER", carrier=True),
        "B": platform("IQAX", "p256", "HK-TRADER"),
        "C": platform("SGTD", "rsa", "SG-IMPORTER"),
    }


@pytest.fixture
def document(reference: Path, request: pytest.FixtureRequest) -> dict[str, Any]:
    return transport_document(reference, f"LG{abs(hash(request.node.name)) % 10**8:08d}")
