"""`lingang demo` runs the whole flow and exits 0 (real subprocess, real sockets)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_demo_delivers_everything(artefacts_home: Path) -> None:
    env = {**os.environ, "LINGANG_HOME": str(artefacts_home)}
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "demo", "--timeout", "120"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "demo: OK" in result.stdout
    assert "replayed (same Idempotency-Key)" in result.stdout
    assert "receipt: message" in result.stdout
