"""The wheel the container image installs (``deploy/Dockerfile``: ``pip install .`` of the
files it copies) ships every data file of the code, and building it prints no deprecation or
"package would be ignored" warnings (``bash deploy/demo.sh`` shows them to a first reader).

Built for real from a copy of exactly what the Dockerfile copies, with pip's build isolation
(the build backend that ``[build-system]`` asks for)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COPIED = ("pyproject.toml", "setup.py", "README.md", "gateway", "adapters", "schemas")
"""What ``deploy/Dockerfile`` copies before ``pip install .``."""


def _tracked_data_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "gateway", "adapters"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return sorted(name for name in listed if not name.endswith(".py"))


@pytest.mark.slow
def test_the_wheel_ships_every_data_file_without_build_warnings(tmp_path: Path) -> None:
    source = tmp_path / "src"
    for name in COPIED:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(tmp_path), "."],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    log = built.stdout + built.stderr
    assert built.returncode == 0, log[-3000:]
    assert "absent from the `packages` configuration" not in log, log[-3000:]
    assert "project.license` as a TOML table is deprecated" not in log, log[-3000:]
    (wheel,) = tmp_path.glob("*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in _tracked_data_files() if name not in shipped]
    assert not missing, missing
    assert "gateway/signing/contexts/credentials-v2.json" in shipped
    for name in ("artefacts.json", "fapiao-einvoice.xsd", "openapi.json"):
        assert f"gateway/schemas/{name}" in shipped, name
