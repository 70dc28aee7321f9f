"""One-shot commands and their store: a store that is not there, a server that is down.

A mistyped ``LINGANG_HOME`` made ``lingang tenants list`` answer "no tenants" and
``lingang ledger verify`` "ledger ok: 0 entries" about a store created that instant (and left
behind); a PostgreSQL server that was down cost half a minute and a dozen pool warnings
before the one line that said so.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.cli import main

READERS = [
    ["tenants", "list"],
    ["ledger", "verify"],
    ["ledger", "report", "--year", "2026"],
    ["policy", "holds"],
    ["received", "--unclaimed"],
    ["retry", "--list"],
    ["partners", "show", "--tenant", "Acme"],
    ["idempotency", "expire"],
    ["prune", "--dry-run"],
]


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_a_reading_command_refuses_a_store_that_is_not_there(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "typo-home"
    url = f"sqlite:///{home}/gateway.db"

    assert main([*command, "--database", url]) == 2

    err = capsys.readouterr().err
    assert f"no store at {home / 'gateway.db'}" in err
    assert "LINGANG_HOME" in err and "lingang migrate" in err
    assert "Traceback" not in err
    assert not home.exists(), "nothing is made by a command that only reads"


def test_the_data_home_a_reading_command_uses_is_not_made_either(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "mistyped"
    monkeypatch.setenv("LINGANG_HOME", str(home))
    monkeypatch.delenv("LINGANG_CONFIG", raising=False)
    monkeypatch.delenv("LINGANG_STORE_URL", raising=False)

    assert main(["ledger", "verify"]) == 2
    assert f"no store at {home / 'gateway.db'}" in capsys.readouterr().err
    assert not home.exists()


def test_tenants_create_still_makes_the_store_and_list_then_reads_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/new/gateway.db"
    assert main(["tenants", "create", "Acme", "--database", url]) == 0
    assert main(["tenants", "list", "--database", url]) == 0
    assert "Acme" in capsys.readouterr().out


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_postgresql_down_is_one_line_at_once(tmp_path: Path) -> None:
    url = f"postgresql://lingang@127.0.0.1:{_closed_port()}/lingang"
    env = {**os.environ, "LINGANG_HOME": str(tmp_path)}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "tenants", "list", "--database", url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    took = time.monotonic() - started

    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("lingang tenants: cannot connect to PostgreSQL:")
    assert "refused" in lines[0]
    assert took < 20, f"took {took:.1f}s: the pool's 30 s wait is for `lingang serve`"
