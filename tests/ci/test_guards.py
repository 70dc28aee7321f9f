"""Tests of the tests: the "skip locally, fail in CI" guards really fail in CI.

Each case runs one guarded test in a child pytest with the thing it needs taken away: with
``CI=true`` (what ``.ci/run`` sets) the run must fail and name what is missing; without it the
same test is skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_pytest(node: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One test node in a child pytest, with ``env`` over a copy of this environment minus
    ``CI`` (so the parent's own CI setting does not leak in)."""
    child = {k: v for k, v in os.environ.items() if k != "CI"}
    child.update(env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", node],
        cwd=REPO,
        env=child,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


XMLSEC1_NODE = "tests/signing/test_interop.py::test_xmlsec1_cli_rejects_tampering"
REFERENCE_NODE = "tests/conformance/test_official_examples.py::test_pint_sg_has_sixteen_examples"


@pytest.mark.parametrize("ci", [True, False], ids=["ci", "local"])
def test_xmlsec1_missing(tmp_path: Path, ci: bool) -> None:
    """Without xmlsec1 on ``PATH`` the interop test errors in CI and skips locally."""
    env = {"PATH": str(tmp_path)}
    if ci:
        env["CI"] = "true"
    done = run_pytest(XMLSEC1_NODE, env)
    output = done.stdout + done.stderr
    if ci:
        assert done.returncode != 0, output
        assert "xmlsec1 is not installed" in output
        assert "1 error" in output
    else:
        assert done.returncode == 0, output
        assert "1 skipped" in output


@pytest.mark.parametrize("ci", [True, False], ids=["ci", "local"])
def test_reference_missing(tmp_path: Path, ci: bool) -> None:
    """Without the reference folder an official-case test errors in CI and skips locally."""
    env = {"LINGANG_REFERENCE": str(tmp_path / "no-reference")}
    if ci:
        env["CI"] = "true"
    done = run_pytest(REFERENCE_NODE, env)
    output = done.stdout + done.stderr
    if ci:
        assert done.returncode != 0, output
        assert "reference data missing" in output
    else:
        assert done.returncode == 0, output
        assert "1 skipped" in output


@pytest.mark.parametrize("ci", [True, False], ids=["ci", "local"])
def test_any_skip_fails_a_ci_run(ci: bool) -> None:
    """Whatever the reason, a skipped test fails the run in CI and is named."""
    done = run_pytest("tests/ci/sample_skip.py", {"CI": "true"} if ci else {})
    output = done.stdout + done.stderr
    assert "1 skipped" in output
    if ci:
        assert done.returncode == 1, output
        assert "tests/ci/sample_skip.py::test_skips" in output
    else:
        assert done.returncode == 0, output
