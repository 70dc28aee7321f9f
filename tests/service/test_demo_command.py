"""`lingang demo` runs the whole flow and exits 0 (real subprocess, real sockets): the
Singapore buyers' invoices go over Peppol AS4 through the loopback SML, SMP and receiving
access point, the others over HTTPS to the Hong Kong counterpart."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PINT_SG_INVOICE = (
    "peppol-doctype-wildcard::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
    "##urn:peppol:pint:billing-1@sg-1::2.1"
)
"""PINT SG's invoice document type (PEPPOL-FACTS §1; PINT-SG bis.pdf §5.1.2)."""


def _block(stdout: str, sample: str) -> str:
    """The lines step 6 prints for one sample."""
    found = re.search(rf"\n  {re.escape(sample)} → .*?(?=\n\n)", stdout, re.S)
    assert found is not None, stdout[-3000:]
    return found.group(0)


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
    assert "no compliance officer" not in result.stdout + result.stderr, (
        "no raw JSON log line in the demo output"
    )
    assert "shown once" not in result.stdout, "the key is never shown"
    assert re.search(
        r"delivered \d+\.\d+s after the first submission; the stages took", result.stdout
    )
    singapore = _block(result.stdout, "exempt-services.xml")
    assert "delivery queued on peppol (peppol:0195)" in singapore
    assert "delivered by peppol" in singapore
    assert (
        "official rules applied: ubl-2.1 2.1: UBL-Invoice-2.1.xsd; pint-sg 1.4.1: "
        "PINT-UBL-validation-preprocessed.xslt, PINT-jurisdiction-aligned-rules.xslt"
    ) in singapore
    assert re.search(
        r"endpoint https://127\.0\.0\.1:\d+/as4 \(peppol-transport-as4-v2_0\)", singapore
    )
    assert re.search(r"AS4 MessageId \w+\.peppol@lingang", singapore)
    assert re.search(r"AS4 receipt: signed by CN=PSG000002,[^\n]*, verified", singapore)
    assert (
        "receiving AP got the SBDH: 0199:5493001KJTIIGC8Y1S09 → 0195:SGUEN199912345A" in singapore
    )
    assert f"document type {PINT_SG_INVOICE}" in singapore
    assert "process cenbii-procid-ubl::urn:peppol:bis:billing" in singapore
    assert "payload (checked as received): valid against pint-sg" in singapore
    assert "payload: byte for byte the document the gateway validated" in singapore
    assert "PROBLEM" not in result.stdout
    hong_kong = _block(result.stdout, "multi-rate-discount.xml")
    assert "delivered by hk" in hong_kong and "AS4" not in hong_kong
    for other_format in ("services.ofd", "platform-export.json"):
        block = _block(result.stdout, other_format)
        assert "delivered by peppol" in block and "payload (checked as received): valid" in block
    asked = re.search(r"over Peppol AS4: 4; the SMP was asked (\d+) time\(s\)", result.stdout)
    assert asked is not None and 3 <= int(asked.group(1)) <= 4, "Lion City's 2nd may be cached"
    assert "the receiving access point kept 4 distinct message(s)" in result.stdout
    assert "over HTTPS: 2; the Hong Kong counterpart accepted 2 distinct message(s)" in (
        result.stdout
    )


@pytest.mark.slow
def test_demo_that_runs_out_of_time_says_which_document_and_what_to_do(
    artefacts_home: Path,
) -> None:
    sample = Path(__file__).resolve().parents[2] / "gateway" / "samples" / "red-letter.xml"
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "demo", "--timeout", "0.01", str(sample)],
        env={**os.environ, "LINGANG_HOME": str(artefacts_home)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert re.search(
        r"red-letter\.xml: still \w+ after 0\.01s; on a busy machine give it longer \(--timeout\)",
        result.stdout,
    ), result.stdout[-2000:]
    assert "demo: NOT all documents were delivered exactly once" in result.stdout
