"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from gateway.validation import Validator
    from gateway.validation.schematron import SchematronEngine

REPO = Path(__file__).resolve().parent.parent

os.environ.setdefault("LINGANG_JVM_WARM_RUNS", "3")
"""Gateways started by the tests warm the JVM engine's JIT only briefly (speed is not measured
in tests; ``bench/`` does that)."""

pytest_plugins = ["tests.pg"]
"""A real PostgreSQL per test process: fixtures ``pg_server``, ``pg_url``, ``pg_empty_url``."""


def reference_root() -> Path:
    """The official reference data: ``$LINGANG_REFERENCE`` or ``../shared/reference``."""
    explicit = os.environ.get("LINGANG_REFERENCE")
    return Path(explicit) if explicit else (REPO.parent / "shared" / "reference").resolve()


def in_ci() -> bool:
    """Whether this run is CI (``.ci/run`` sets ``CI=true``): nothing may skip there."""
    return bool(os.environ.get("CI"))


def require_tool(name: str) -> str:
    """The path of the command-line tool ``name``. Without it the test is skipped on a
    developer's machine, and fails in CI (``tests/run.sh`` installs every tool it needs)."""
    found = shutil.which(name)
    if found is None:
        message = f"{name} is not installed"
        if in_ci():
            pytest.fail(f"{message}: CI runs every interoperability test (install it)")
        pytest.skip(message)
    return found


def require_jvm() -> None:
    """Skip the test on a developer's machine without the JVM Schematron engine (a JDK and
    Saxon-HE); fail in CI, where ``tests/run.sh`` installs both."""
    from gateway.validation import EngineOptions, jvm

    try:
        jvm.host_command(1, jvm.default_work_dir(), EngineOptions())
    except jvm.JvmUnavailable as exc:
        if in_ci():
            raise
        pytest.skip(f"JVM engine unavailable: {exc}")


_SKIPPED: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember every skipped test (with xdist, the reports reach the controlling process)."""
    if report.skipped and not hasattr(report, "wasxfail"):
        _SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skip is a failure: the run fails, naming every skipped test."""
    if in_ci() and _SKIPPED and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if in_ci() and _SKIPPED:
        terminalreporter.write_line(
            f"CI: {len(_SKIPPED)} test(s) skipped, which fails a CI run: "
            + ", ".join(sorted(_SKIPPED)[:20]),
            red=True,
        )


@pytest.fixture(scope="session")
def reference() -> Path:
    """The official reference folder. In CI it is always there; tests that read it never skip
    there, and skip only on a machine without it (``CI`` unset)."""
    root = reference_root()
    if not root.is_dir():
        if in_ci():
            raise RuntimeError(f"reference data missing at {root}")
        pytest.skip(f"reference data not found at {root}")
    return root


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL for each backend: a SQLite file under ``tmp_path``, a real PostgreSQL
    database (``pg_url``). A module defining its own ``store_url`` overrides this one."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/gateway.db"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(scope="session")
def artefacts_home(reference: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the official artefacts installed, for ``Validator.default()``.

    Imports from the reference mirror into ``$LINGANG_HOME`` when set (``tests/run.sh`` sets it
    and has usually imported already, so this is a quick hash check), else into a temporary
    folder, which then becomes ``$LINGANG_HOME`` for the rest of the process.
    """
    from gateway.artefacts import import_mirror

    explicit = os.environ.get("LINGANG_HOME")
    home = Path(explicit) if explicit else tmp_path_factory.mktemp("lingang-home")
    import_mirror(reference, home)
    os.environ["LINGANG_HOME"] = str(home)
    return home


@pytest.fixture(scope="session", params=["saxonche", "jvm"])
def schematron_engine(request: pytest.FixtureRequest) -> SchematronEngine:
    """Each Schematron engine in turn: both must give the official results.

    The JVM engine needs Java and Saxon-HE (``tests/run.sh`` installs them); without them it
    is skipped, except in CI, where that is an error.
    """
    from gateway.validation import jvm
    from gateway.validation.options import EngineOptions
    from gateway.validation.schematron import JvmEngine, SaxonCEngine

    if request.param == "saxonche":
        return SaxonCEngine()
    options = EngineOptions(engine="jvm", jvm_warm_runs=3)
    try:
        jvm.host(options)
    except jvm.JvmUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"JVM engine unavailable: {exc}")
    return JvmEngine(options)


@pytest.fixture(scope="session")
def engine_validator(artefacts_home: Path, schematron_engine: SchematronEngine) -> Validator:
    """A validator on the official artefacts using ``schematron_engine``."""
    from gateway.validation import Validator

    return Validator(artefacts_home, schematron_engine)
