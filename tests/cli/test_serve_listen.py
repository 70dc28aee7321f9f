"""``lingang serve`` on an address it cannot listen on says which setting chooses it.

Before, a port in use ended in 'cannot use: error while attempting to bind on address
('127.0.0.1', 8080): address already in use', naming neither ``--port`` nor ``[server] port``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path


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
