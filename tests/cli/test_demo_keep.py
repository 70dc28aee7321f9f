"""``lingang demo --keep`` says where its data and each document's outputs are; without
``--keep`` it says how to keep them (item 21 of the hardening issue)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE = "fapiao/samples/xml/invoice-precheck_official-gd-special.xml"
"""A reference sample whose buyer the demo directory sends to Hong Kong (HTTPS)."""
SINGAPORE = Path(__file__).resolve().parents[2] / "gateway" / "samples" / "exempt-services.xml"
"""A bundled sample for a Singapore buyer (0195, PINT SG over Peppol AS4)."""


def _demo(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LINGANG_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "gateway", "demo", "--timeout", "120", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_demo_keep_shows_the_outputs(artefacts_home: Path, reference: Path) -> None:
    result = _demo(artefacts_home, "--keep", str(reference / SAMPLE), str(SINGAPORE))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    found = re.search(r"data directory kept: (\S+)", result.stdout)
    assert found is not None, result.stdout[-2000:]
    home = Path(found.group(1))
    try:
        outputs = home / "outputs" / Path(SAMPLE).stem
        assert f"outputs of each document: {home / 'outputs'}" in result.stdout
        assert (outputs / "signed.xml").is_file() or any(outputs.glob("*.xml"))
        assert (home / "gateway.db").is_file()
        assert "invoice-precheck_official-gd-special.xml: fapiao-xml" in result.stdout
        assert "    warning [uscc.check-digit] seller: USCC" in result.stdout, "each one named"
        peppol = home / "outputs" / SINGAPORE.stem
        receipt = (peppol / "as4-receipt.xml").read_bytes()
        assert b"Receipt" in receipt and b"RefToMessageId" in receipt
        received = (peppol / "received-by-access-point.xml").read_bytes()
        assert b"StandardBusinessDocumentHeader" in received
        assert b"urn:peppol:pint:billing-1@sg-1" in received
        assert not (outputs / "as4-receipt.xml").exists(), "the HK document went over HTTPS"
        assert f"Peppol test PKI: {home / 'peppol-pki'}" in result.stdout
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.slow
def test_demo_without_keep_says_how_to_keep(artefacts_home: Path, reference: Path) -> None:
    result = _demo(artefacts_home, str(reference / SAMPLE))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "run it again with --keep" in result.stdout


@pytest.mark.slow
def test_demo_that_cannot_start_gives_no_advice_about_its_outputs(tmp_path: Path) -> None:
    result = _demo(tmp_path / "no-artefacts", str(SINGAPORE))
    assert result.returncode != 0, result.stdout[-2000:]
    assert "lingang artefacts import" in result.stderr, result.stderr[-2000:]
    assert "run it again with --keep" not in result.stdout, "it produced nothing to look at"
