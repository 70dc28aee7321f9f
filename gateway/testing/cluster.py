"""Gateway processes for reliability tests and the end-to-end benchmark.

:func:`write_config` writes a ``lingang.toml`` for a store, a receiving endpoint and a test
PKI; :class:`GatewayProcess` runs ``python -m gateway serve`` or ``python -m gateway worker``
with it as a real subprocess that can be killed (SIGKILL) and started again.

A process that ends without the test ending it (a crash at start-up, an engine crash) is
never taken for one the test killed: :meth:`GatewayProcess.check` raises
:class:`GatewayDied` with its exit code and the last lines of its log, and
:meth:`GatewayProcess.start` refuses to start it again silently.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from gateway.settings.sections import HOME_ENV
from gateway.testing.tls import TlsFiles

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
"""Where Linux keeps the range it takes the local ports of outgoing connections from."""

LOWEST_PORT = 20000
"""Ports below this are left to the services of the machine."""


_HANDED_OUT: set[int] = set()
"""Ports :func:`free_port` gave in this process (never given twice)."""


def ephemeral_ports() -> range:
    """The ports the kernel gives outgoing connections (Linux's default when unknown)."""
    try:
        low, high = (int(n) for n in EPHEMERAL_RANGE.read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago, outside the ephemeral range.

    A gateway that is killed and started again binds the same port each time. While it is
    down, a port from the ephemeral range can become the local end of any outgoing
    connection on the machine (a store connection, a client's retry) and the next start
    then fails with "address in use" for as long as that connection lives; the kernel never
    hands out ports below the ephemeral range that way.
    """
    candidates = range(LOWEST_PORT, ephemeral_ports().start)
    for port in random.sample(candidates, min(len(candidates), 200)):
        if port in _HANDED_OUT:  # free now, but maybe not bound yet by whom it was given
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            _HANDED_OUT.add(port)
            return port
    with socket.socket() as sock:  # no room below the range: any port the kernel has
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
    stage_pin: bool = False
    checkpoint_every: int = 100
    """``[policy] checkpoint_every``: ledger entries between signed checkpoints."""
    idle_transaction_seconds: float | None = None
    """``[store] idle_transaction_seconds`` (``None``: the default)."""

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
        *(
            [f"idle_transaction_seconds = {config.idle_transaction_seconds}"]
            if config.idle_transaction_seconds is not None
            else []
        ),
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
        f"stage_pin = {_toml(config.stage_pin)}",
        "[policy]",
        f"checkpoint_every = {config.checkpoint_every}",
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


READY_LINES = {
    "serve": re.compile(rb"lingang serve: listening on "),
    "worker": re.compile(rb"lingang worker: \d+ worker\(s\) running"),
}
"""What each command prints once it is ready (``gateway/cli/serve.py``, ``worker.py``). Not
anchored to a line start: a process killed in the middle of writing a line leaves it
unfinished, and the next start's ready line follows on the same line."""

LOG_TAIL_LINES = 40
"""How many of its last log lines a :class:`GatewayDied` message quotes."""


class GatewayDied(AssertionError):
    """A gateway process ended on its own: the test did not kill or stop it."""


FAULT_MARK = b"Fatal Python error"
"""How Python's fault handler starts its report of a crash in native code."""

FAULT_EXIT_WAIT = 10.0
"""Seconds to wait for a process whose fault handler is reporting to end."""


def describe_exit(code: int) -> str:
    """``exit code 1`` or ``signal SIGABRT`` (a negative ``Popen.returncode``)."""
    if code >= 0:
        return f"exit code {code}"
    try:
        return f"signal {signal.Signals(-code).name}"
    except ValueError:
        return f"signal {-code}"


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file (``""`` when it cannot be read)."""
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def process_environment() -> dict[str, str]:
    """The environment of a gateway process: this one's, with Python's fault handler on,
    and without ``LINGANG_HOME``, which would win over the file's ``data_dir`` (the test's
    own folder): the processes would keep their ledger anchor, subject key and outputs in
    whatever data directory the test run itself was given, shared with every other test."""
    env = {name: value for name, value in os.environ.items() if name != HOME_ENV}
    return {**env, "PYTHONFAULTHANDLER": "1"}


class GatewayProcess:
    """One ``python -m gateway <command>`` subprocess that can be killed and restarted."""

    def __init__(self, command: list[str], config_path: Path, log_path: Path) -> None:
        self.command = command
        self.config_path = config_path
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0
        self.ended_by_test = False
        """Whether the latest start was ended by :meth:`kill` or :meth:`terminate`."""
        self.started_at = 0.0
        """``time.monotonic()`` of the latest start."""
        self._log: IO[bytes] | None = None
        self._log_scanned = 0
        self._fault_seen = False

    @property
    def name(self) -> str:
        """``lingang serve`` or ``lingang worker`` (for messages)."""
        return f"lingang {' '.join(self.command)}"

    def unexpected_exit(self) -> str | None:
        """Why the latest start ended on its own — exit code, how soon, the end of its log —
        or ``None`` while it runs, before the first start, and after the test ended it.

        A crash in native code counts even when the test's own kill landed on the process
        while it was still dying: Python's fault handler (on in every start) has then written
        its report to the log, and that report is what is looked for."""
        if self.process is None:
            return None
        code = self.process.poll()
        if code is None and not self.ended_by_test and self._fault_reported():
            code = self._end_of_fault()
        if not self.ended_by_test and code is not None:
            lived = time.monotonic() - self.started_at
            return (
                f"{self.name} (start {self.starts}) ended on its own with {describe_exit(code)}, "
                f"noticed {lived:.1f}s after it started; last lines of {self.log_path}:\n"
                f"{log_tail(self.log_path)}"
            )
        if self._fault_reported():
            return (
                f"{self.name} crashed in native code (start {self.starts}): Python's fault "
                f"handler wrote {FAULT_MARK.decode()!r} to {self.log_path}; its last lines:\n"
                f"{log_tail(self.log_path)}"
            )
        return None

    def _end_of_fault(self) -> int | None:
        """The exit of a process whose fault handler has begun its report: the handler
        raises the signal again once it has written the stacks, so the process ends within
        moments and its signal, not just the report, can be named (``None`` if it is still
        running after :data:`FAULT_EXIT_WAIT` seconds)."""
        assert self.process is not None
        try:
            return self.process.wait(timeout=FAULT_EXIT_WAIT)
        except subprocess.TimeoutExpired:
            return None

    def _fault_reported(self) -> bool:
        """Whether the log holds a fault handler's report (read on from where the last look
        stopped, so a long log is read once)."""
        if self._fault_seen:
            return True
        start = max(0, self._log_scanned - len(FAULT_MARK))
        try:
            with self.log_path.open("rb") as log:
                log.seek(start)
                text = log.read()
        except OSError:
            return False
        self._log_scanned = start + len(text)
        self._fault_seen = FAULT_MARK in text
        return self._fault_seen

    def status(self, lines: int = 10) -> str:
        """Where it stands — starts, kills, running, ready — and the end of its log."""
        state = "ready" if self.ready() else "starting" if self.alive else "not running"
        return (
            f"{self.name}: {state}; {self.starts} starts, {self.kills} kills; last lines of "
            f"{self.log_path}:\n{log_tail(self.log_path, lines)}"
        )

    def check(self) -> None:
        """Raise :class:`GatewayDied` when the latest start ended on its own."""
        problem = self.unexpected_exit()
        if problem is not None:
            raise GatewayDied(problem)

    @property
    def alive(self) -> bool:
        """Whether the subprocess is running."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start it (no-op when alive). A start that ended on its own is not started
        again: :class:`GatewayDied` says how it ended. Python's fault handler is on, so a
        crash in native code (a segmentation fault) leaves the Python stacks in the log."""
        if self.alive:
            return
        self.check()
        if self._log is None:
            self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway", *self.command, "--config", str(self.config_path)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=process_environment(),
        )
        self.started_at = time.monotonic()
        self.ended_by_test = False
        self.starts += 1

    def ready(self) -> bool:
        """Whether the latest start has printed its ready line (``lingang serve: listening
        on ...`` or ``lingang worker: N worker(s) running``); a log record such as ``lease
        lost while running`` is no ready line."""
        if not self.alive:
            return False
        try:
            text = self.log_path.read_bytes()
        except OSError:
            return False
        return len(READY_LINES[self.command[0]].findall(text)) >= self.starts

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, like a power cut for this process. A process
        that already ended on its own stays reported by :meth:`check`."""
        if self.alive:
            assert self.process is not None
            self.ended_by_test = True
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.kills += 1

    def terminate(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (graceful) and wait; SIGKILL if it does not stop in ``timeout``."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.ended_by_test = True
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
