"""``tests/run.sh`` without root: it names the missing Debian packages instead of failing in
``sudo`` or ``apt-get`` (item 22 of the hardening issue)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_missing_packages_without_root_are_named(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dirname", "ls"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    (bin_dir / "id").write_text("#!/bin/sh\necho 1000\n")
    (bin_dir / "id").chmod(0o755)
    bash = shutil.which("bash")
    assert bash is not None
    done = subprocess.run(
        [bash, str(REPO / "tests/run.sh")],
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "missing Debian packages:" in done.stderr and "xmlsec1" in done.stderr
    assert "sudo apt-get install" in done.stderr


def _clone_without_shared(tmp_path: Path) -> Path:
    """The CI entry point and the test command in a clone with nothing beside it."""
    clone = tmp_path / "clone"
    for script in (".ci/run", "tests/run.sh"):
        (clone / script).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / script, clone / script)
    return clone


def _ci_run(clone: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash")
    assert bash is not None
    return subprocess.run(
        [bash, str(clone / ".ci/run")],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_ci_on_a_clone_without_shared_stops_naming_it(tmp_path: Path) -> None:
    """``.ci/run`` (CI=true) stops before installing anything and names ``../shared``."""
    clone = _clone_without_shared(tmp_path)
    done = _ci_run(clone, tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "../shared is missing" in done.stderr
    assert "../shared/reference" in done.stderr
    assert not (clone / ".venv").exists()


def test_ci_with_shared_but_no_reference_names_the_reference(tmp_path: Path) -> None:
    clone = _clone_without_shared(tmp_path)
    (tmp_path / "shared").mkdir()
    done = _ci_run(clone, tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "../shared/reference is missing" in done.stderr
    assert not (clone / ".venv").exists()


HOST_FILES = (
    "/usr/share/java/Saxon-HE.jar",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/lib/softhsm/libsofthsm2.so",
)


def test_the_test_command_checks_the_formatting_too(tmp_path: Path) -> None:
    """CI's lint is ``ruff check``, ``ruff format --check`` and ``mypy``; ``tests/run.sh``, the
    README's test command and what ``.ci/run`` runs, ran only the first and the last, so a
    change it passed could fail CI on its formatting. Here every tool it calls is a stub that
    logs its arguments, and the run must reach ``ruff format --check`` over the same folders
    as ``ruff check``, before the tests."""
    missing = [f for f in HOST_FILES if not Path(f).exists()]
    if missing or not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")):
        pytest.skip(f"tests/run.sh would install Debian packages here: {missing}")
    clone = tmp_path / "clone"
    (clone / "tests/node").mkdir(parents=True)
    shutil.copy(REPO / "tests/run.sh", clone / "tests/run.sh")
    for name in ("package.json", "package-lock.json"):
        shutil.copy(REPO / "tests/node" / name, clone / "tests/node" / name)
    (clone / "var/node/node_modules/@trustvc/trustvc").mkdir(parents=True)
    shutil.copy(REPO / "tests/node/package-lock.json", clone / "var/node/package-lock.json")
    log = tmp_path / "calls.log"
    stub = f'#!/bin/sh\necho "$(basename "$0") $*" >> {log}\n'
    bin_dir, venv_bin = tmp_path / "bin", clone / ".venv/bin"
    bin_dir.mkdir()
    venv_bin.mkdir(parents=True)
    for folder, names in (
        (bin_dir, ("xmlsec1", "openssl", "javac", "chromium", "npm")),
        (venv_bin, ("python", "lingang", "ruff", "mypy")),
    ):
        for name in names:
            (folder / name).write_text(stub)
            (folder / name).chmod(0o755)
    bash = shutil.which("bash")
    assert bash is not None
    done = subprocess.run(
        [bash, str(clone / "tests/run.sh")],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    calls = log.read_text().splitlines()
    folders = "gateway adapters tests bench"
    assert f"ruff check {folders}" in calls
    assert f"ruff format --check {folders}" in calls, calls
    assert calls.index(f"ruff format --check {folders}") < next(
        i for i, call in enumerate(calls) if call.startswith("python -m pytest")
    )
