"""``lingang bench``: the checkout's benchmarks listed, one run as ``python -m bench.NAME``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.cli.bench import benchmarks

REPO = Path(__file__).resolve().parents[2]


def test_lists_the_runnable_benchmarks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--root", str(REPO)]) == 0
    listed = {line.split()[0] for line in capsys.readouterr().out.splitlines()}
    assert {"validate", "e2e", "sign", "pint"} <= listed
    assert not any(name.startswith("_") for name in listed)
    assert "baseline" not in listed  # a helper module, nothing to run


def test_runs_one_with_its_own_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    argv, path = list(sys.argv), list(sys.path)
    assert main(["bench", "--root", str(REPO), "sign", "--help"]) == 0
    assert "usage: python -m bench.sign" in capsys.readouterr().out
    assert (sys.argv, sys.path) == (argv, path)


def test_unknown_benchmark_or_no_checkout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "--root", str(REPO), "no-such"]) == 2
    assert "one of: " in capsys.readouterr().err
    assert main(["bench", "--root", str(tmp_path)]) == 2
    assert "no bench/ folder" in capsys.readouterr().err


def test_descriptions_are_read_without_importing(tmp_path: Path) -> None:
    (tmp_path / "runs.py").write_text(
        '"""Measures a thing.\n\nMore."""\nraise SystemExit("imported")\n'
        'if __name__ == "__main__":\n    pass\n',
        encoding="utf-8",
    )
    (tmp_path / "helper.py").write_text('"""No main block."""\n', encoding="utf-8")
    assert benchmarks(tmp_path) == {"runs": "Measures a thing."}
