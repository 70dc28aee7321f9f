"""``lingang ebl issue / transfer / history``: success and every refusal with its exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.testing.cluster import free_port
from gateway.testing.pint import PlatformHome, platform, transport_document, write_platform_homes
from gateway.testing.tls import make_tls


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, reference: Path) -> PlatformHome:
    root = tmp_path_factory.mktemp("pintcli")
    platforms = [
        platform("AEOT", "ed25519", "SHIPPER", carrier=True),
        platform("IQAX", "p256", "BUYER"),
    ]
    return write_platform_homes(root, platforms, reference_root=reference, tls=make_tls(root / "tls"),
                                ports=[free_port(), free_port()])[0]  # fmt: skip


def lingang(home: PlatformHome, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway", "ebl", *args, "--config", str(home.config)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_issue_then_history(home: PlatformHome, reference: Path, tmp_path: Path) -> None:
    td = tmp_path / "td.json"
    td.write_text(json.dumps(transport_document(reference, "CLI0000001")))
    done = lingang(home, "issue", str(td), "--to", "AEOT:SHIPPER")
    assert done.returncode == 0, done.stderr
    assert "state=held" in done.stdout
    again = lingang(home, "issue", str(td), "--to", "AEOT:SHIPPER")
    assert again.returncode == 1 and "issued before" in again.stderr
    shown = lingang(home, "history", "CLI0000001")
    assert shown.returncode == 0, shown.stderr
    assert "ISSUE" in shown.stdout and "signature verified" in shown.stdout
    assert "state here: held; possessor: AEOT:AEOT/SHIPPER" in shown.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["issue", "missing.json", "--to", "IQAX:BUYER"], 2, "cannot use"),
        (["issue", "{bad}", "--to", "IQAX:BUYER"], 1, "is not JSON"),
        (["issue", "{td}", "--to", "nocolon"], 1, "PLATFORM:PARTY"),
        (["issue", "{schema}", "--to", "IQAX:BUYER"], 1, "$.transportDocumentTypeCode"),
        (["issue", "{td}", "--to", "ZZZZ:SOMEONE"], 1, "not a configured partner"),
        (["transfer", "NOSUCHREF", "--to", "IQAX:BUYER"], 1, "no eBL"),
        (["history", "NOSUCHREF"], 1, "no eBL"),
        (["transfer", "X", "--to", "IQAX:BUYER", "--action", "ISSUE"], 2, "invalid choice"),
    ],
)
def test_refusals(
    home: PlatformHome, reference: Path, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    files = {
        "{bad}": "not json at all",
        "{td}": json.dumps(
            transport_document(reference, f"CLIR{abs(hash(tuple(args))) % 10**6:06d}")
        ),
        "{schema}": json.dumps(
            transport_document(reference, "CLISCHEMA1", transportDocumentTypeCode="XYZ")
        ),
    }
    resolved = []
    for arg in args:
        if arg in files:
            path = tmp_path / "in.json"
            path.write_text(files[arg])
            arg = str(path)
        elif arg == "missing.json":
            arg = str(tmp_path / "missing.json")
        resolved.append(arg)
    done = lingang(home, *resolved)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert message in done.stderr
    assert "Traceback" not in done.stderr
