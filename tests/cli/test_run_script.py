"""``tests/run.sh`` without root: it names the missing Debian packages instead of failing in
``sudo`` or ``apt-get`` (item 22 of the hardening issue)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

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
