"""``lingang serve`` on an address it cannot listen on says which setting chooses it.

Before, a port in use ended in 'cannot use: error while attempting to bind on address
('127.0.0.1', 8080): address already in use', naming neither ``--port`` nor ``[server] port``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.settings import Settings


def test_a_port_in_use_is_a_usage_error_naming_the_settings(tmp_path: Path) -> None:
    config = tmp_path / "lingang.toml"
    config.write_text(
        f'data_dir = "{tmp_path}"\n[pipeline]\nvalidate = false\nsign = false\n'
        '[adapters.drop]\ntype = "folder"\npath = "out"\n[routing]\ndefault = "drop"\n',
        encoding="utf-8",
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "gateway",
                "serve",
                "--config",
                str(config),
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}: another process is listening there" in done.stderr
    assert "--port, [server] port or LINGANG_PORT" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["serve", "--port", "70000"], "--port must be a port number (0 to 65535), got 70000"),
        (["serve", "--port", "-5"], "--port must not be negative, got -5"),
        (["serve", "--log-level", "LOUD"], "--log-level must be one of DEBUG, INFO, WARNING"),
        (["worker", "--count", "-1"], "--count must not be negative, got -1"),
        (["worker", "--concurrency", "-3"], "--concurrency must not be negative, got -3"),
        (["worker", "--count", "0"], "--count must be at least 1, got 0"),
        (["worker", "--concurrency", "0"], "--concurrency must be at least 1, got 0"),
        (["serve", "--concurrency", "0"], "--concurrency must be at least 1, got 0"),
    ],
)
def test_a_flag_is_checked_as_the_key_it_overrides(
    argv: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The file's keys and the environment's variables were checked, the flags overriding
    them not: ``--port 70000`` and ``--log-level LOUD`` ended in a traceback
    (OverflowError from bind, ValueError from logging) after the services had started, and
    ``--count -1`` or ``--concurrency -3`` started one worker with one slot, silently."""
    config = tmp_path / "lingang.toml"
    config.write_text(
        f'data_dir = "{tmp_path}"\n[pipeline]\nvalidate = false\nsign = false\n'
        '[adapters.drop]\ntype = "folder"\npath = "out"\n[routing]\ndefault = "drop"\n',
        encoding="utf-8",
    )
    assert main([*argv, "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert words in err
    assert "(it overrides " in err


@pytest.mark.parametrize(
    ("setting", "env"),
    [("[worker]\ncount = 0\n", {}), ("", {"LINGANG_WORKERS": "0"})],
)
def test_a_worker_process_refuses_no_workers_from_the_file_or_environment(
    setting: str,
    env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``[worker] count = 0`` (or ``LINGANG_WORKERS=0``) started `lingang worker` with one
    worker, silently (``max(1, count)``): it names the setting now and exits 2. To
    `lingang serve` 0 keeps its meaning, no in-process workers (the API only)."""
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    config = tmp_path / "lingang.toml"
    config.write_text(
        f'data_dir = "{tmp_path}"\n{setting}[pipeline]\nvalidate = false\nsign = false\n'
        '[adapters.drop]\ntype = "folder"\npath = "out"\n[routing]\ndefault = "drop"\n',
        encoding="utf-8",
    )
    assert Settings.load(config).worker.count == 0  # `lingang serve`'s API only
    assert main(["worker", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "[worker] count (LINGANG_WORKERS) must be at least 1 for `lingang worker`, got 0" in err
    assert "Traceback" not in err
