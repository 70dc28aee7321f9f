"""Fixtures of the eBL tests: the data home with the official artefacts, the DCSA inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ebl.support import all_inputs


@pytest.fixture(scope="session")
def ebl_inputs(reference: Path) -> dict[str, bytes]:
    """Every eBL-carrying DCSA example and filled conformance template."""
    return all_inputs(reference)
