"""Gateway processes for reliability tests and the end-to-end benchmark.

:func:`write_config` writes a ``lingang.toml`` for a store, a receiving endpoint and a test
PKI; :class:`GatewayProcess` runs ``python -m gateway serve`` or ``python -m gateway worker``
with it as a real subprocess that can be killed (SIGKILL) and started again.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from gateway.testing.tls import TlsFiles


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _toml(value: object) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value).lower()


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """What the gateway processes of one test share."""

    home: Path
    store_url: str
    receiver_url: str
    tls: TlsFiles
    signing_key: Path
    signing_cert: Path
    artefacts_dir: Path
    partners_file: Path
    port: int = field(default_factory=free_port)
    lease_seconds: float = 3.0
    poll_seconds: float = 0.1
    workers: int = 1
    concurrency: int = 16
    max_attempts: int = 30
    validate: bool = True
    sign: bool = True
    delivery_timeout: float = 5.0
    stage_processes: int = 0

    @property
    def base_url(self) -> str:
        """The API's base URL."""
        return f"http://127.0.0.1:{self.port}"


def write_config(config: ClusterConfig) -> Path:
    """Write ``lingang.toml`` into ``config.home`` and return its path."""
    lines = [
        f"data_dir = {_toml(str(config.home))}",
        "log_level = 'WARNING'",
        "[store]",
        f"url = {_toml(config.store_url)}",
        "[server]",
        "host = '127.0.0.1'",
        f"port = {config.port}",
        "[signing]",
        f"key = {_toml(str(config.signing_key))}",
        f"cert = {_toml(str(config.signing_cert))}",
        "[worker]",
        f"count = {config.workers}",
        f"concurrency = {config.concurrency}",
        f"lease_seconds = {config.lease_seconds}",
        f"poll_seconds = {config.poll_seconds}",
        f"max_attempts = {config.max_attempts}",
        "[pipeline]",
        f"partners = {_toml(str(config.partners_file))}",
        f"artefacts = {_toml(str(config.artefacts_dir))}",
        f"validate = {_toml(config.validate)}",
        f"sign = {_toml(config.sign)}",
        f"stage_processes = {config.stage_processes}",
        "[adapters.hk]",
        "type = 'https'",
        f"url = {_toml(config.receiver_url)}",
        f"ca = {_toml(str(config.tls.ca))}",
        f"client_cert = {_toml(str(config.tls.client_cert))}",
        f"client_key = {_toml(str(config.tls.client_key))}",
        f"timeout = {config.delivery_timeout}",
        "[routing]",
        "default = 'hk'",
    ]
    path = config.home / "lingang.toml"
    config.home.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class GatewayProcess:
    """One ``python -m gateway <command>`` subprocess that can be killed and restarted."""

    def __init__(self, command: list[str], config_path: Path, log_path: Path) -> None:
        self.command = command
        self.config_path = config_path
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0
        self._log: IO[bytes] | None = None

    @property
    def alive(self) -> bool:
        """Whether the subprocess is running."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start it (no-op when alive)."""
        if self.alive:
            return
        if self._log is None:
            self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway", *self.command, "--config", str(self.config_path)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.starts += 1

    def ready(self) -> bool:
        """Whether the latest start has printed its ready line (``lingang serve: listening``
        or ``lingang worker: ... running``)."""
        if not self.alive:
            return False
        marker = b"listening on" if self.command[0] == "serve" else b"running"
        try:
            text = self.log_path.read_bytes()
        except OSError:
            return False
        return text.count(marker) >= self.starts

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, like a power cut for this process."""
        if self.alive:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.kills += 1

    def terminate(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (graceful) and wait; SIGKILL if it does not stop in ``timeout``."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.process.returncode
