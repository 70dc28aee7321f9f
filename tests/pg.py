"""A real PostgreSQL server for the tests (pytest plugin, registered in ``tests/conftest.py``).

Fixtures:

``pg_server`` (session)
    A throw-away server: ``initdb`` into a temporary folder, started on ``127.0.0.1`` and
    a free port with ``fsync=off``, stopped and deleted at the end of the session. Each
    pytest-xdist worker gets its own. As root, the server runs as the ``postgres`` OS user
    (``initdb`` refuses root). ``$LINGANG_TEST_PG_URL`` (a superuser URL) uses an existing
    server instead.
``pg_url``
    A fresh database per test, already migrated to the current schema (cloned from a
    template database migrated once per session).
``pg_empty_url``
    A fresh, empty database per test (for migration tests).

Without PostgreSQL binaries the tests that need it are skipped, except in CI (``$CI`` set),
where that is an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

TEMPLATE = f"lingang_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
"""The migrated template database (one per xdist worker, should they share a server)."""

# The store conformance suite lives in the package; let pytest explain its failed asserts.
pytest.register_assert_rewrite("gateway.store.testing")


@dataclass
class PgServer:
    """Where the test server listens and how to reach it as superuser."""

    host: str
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url(), autocommit=True)

    def create_database(self, template: str = "template1") -> str:
        name = f"test_{uuid.uuid4().hex[:16]}"
        with self.admin() as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def find_pg_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<v>/bin`` with ``initdb`` and ``pg_ctl`` (or
    ``$PG_BIN``, or whatever ``initdb`` is on ``PATH``)."""
    explicit = os.environ.get("PG_BIN")
    if explicit:
        return Path(explicit)
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    found.sort(key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalServer:
    """Runs ``initdb`` and ``pg_ctl`` in a temporary folder, as ``postgres`` when root."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        # As root, pytest's own temp folders are private to root; /tmp is reachable by all.
        self.root = Path(
            tempfile.mkdtemp(prefix="lingang-pg-", dir="/tmp" if self.as_root else None)
        )
        self.data = self.root / "data"
        self.sockets = self.root / "sock"
        self.user = "lingang"
        self.port = 0
        self.durable = False

    def _run(self, *args: str) -> None:
        command = [str(a) for a in args]
        if self.as_root:
            command = [*self._as_postgres(), *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{command} failed:\n{result.stdout}\n{result.stderr}\n{tail}")

    @staticmethod
    def _as_postgres() -> list[str]:
        """A command prefix that runs the rest as the ``postgres`` OS user."""
        if shutil.which("runuser"):
            return ["runuser", "-u", "postgres", "--"]
        return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]

    def start(self, *, durable: bool = False) -> PgServer:
        """Start the server. Tests run without ``fsync`` (nothing there needs to survive the
        machine); ``durable`` keeps PostgreSQL's defaults (fsync, synchronous commit, full
        page writes), for benchmarks set against SQLite's ``synchronous=FULL``."""
        self.sockets.mkdir()
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            for path in (self.root, self.sockets):
                os.chown(path, pw.pw_uid, pw.pw_gid)
        self._run(
            self.bindir / "initdb", "-D", str(self.data), "-U", self.user, "-A", "trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        self.durable = durable
        for attempt in range(5):
            self.port = free_port()
            try:
                self._start_server()
                break
            except RuntimeError:
                if attempt == 4:
                    raise
                time.sleep(0.2)
        return PgServer("127.0.0.1", self.port, self.user)

    def _start_server(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets} -c max_connections=200"
        )
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            self.bindir / "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
            "-o", options, "-w", "-t", "120", "start",
        )  # fmt: skip

    def shut_down(self) -> None:
        """Stop the server as an operator would (``pg_ctl stop -m fast``: sessions are
        ended), keeping its data for :meth:`start_again`."""
        self._run(self.bindir / "pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def start_again(self) -> None:
        """Start the server :meth:`shut_down` stopped, on the same port."""
        self._start_server()

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run(self.bindir / "pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def _server_from_env(url: str) -> PgServer:
    info = psycopg.conninfo.conninfo_to_dict(url)
    return PgServer(
        str(info.get("host", "127.0.0.1")), int(info.get("port", 5432)), str(info["user"])
    )


def _migrate_template(server: PgServer) -> None:
    from gateway.store.postgres import PostgresStore

    async def migrate() -> None:
        store = await PostgresStore.open(server.url(TEMPLATE))
        try:
            await store.migrate()
        finally:
            await store.close()

    with server.admin() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    asyncio.run(migrate())


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A running PostgreSQL server for this test process (see the module docstring)."""
    external = os.environ.get("LINGANG_TEST_PG_URL")
    if external:
        yield _server_from_env(external)
        return
    bindir = find_pg_bin()
    if bindir is None:
        if os.environ.get("CI"):
            raise RuntimeError("PostgreSQL binaries (initdb, pg_ctl) not found")
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found")
    local = LocalServer(bindir)
    try:
        server = local.start()
        yield server
    finally:
        local.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer) -> str:
    """The name of a database migrated to the current schema, used as a clone template."""
    _migrate_template(pg_server)
    return TEMPLATE


@pytest.fixture
def pg_url(pg_server: PgServer, pg_template: str) -> Iterator[str]:
    """URL of a fresh, migrated database, dropped after the test."""
    name = pg_server.create_database(pg_template)
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_database(name)


@pytest.fixture
def pg_empty_url(pg_server: PgServer) -> Iterator[str]:
    """URL of a fresh, empty database, dropped after the test."""
    name = pg_server.create_database()
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_database(name)
