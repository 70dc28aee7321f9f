"""Alternated runs of one store benchmark against two checkouts (``--baseline DIR``).

Each run is a fresh process that imports ``gateway`` and ``adapters`` from the checkout being
measured and everything else (the benchmark itself and what it imports from ``bench``) from
this one, so both sides run the same measured sequence over their own gateway. ``python -m``
would put the working directory first on the path, and with it this checkout's ``gateway``
for both sides; the script is run by its path instead, with a folder holding only links to
the measured checkout's packages ahead of this checkout on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gateway", "adapters")
Result = dict[str, Any]


def add_run_options(
    parser: argparse.ArgumentParser, docs: int, warm: int, concurrency: int
) -> None:
    """The options every store benchmark takes (with its own defaults)."""
    parser.add_argument("--docs", type=int, default=docs)
    parser.add_argument("--warm", type=int, default=warm)
    parser.add_argument("--concurrency", type=int, default=concurrency)
    parser.add_argument("--path", choices=("gate", "plain"), default="gate")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", help="another checkout to compare with (alternated runs)")
    parser.add_argument("--json", action="store_true", help="print one run's result as JSON")


def alternated_runs(
    script: Path, args: argparse.Namespace, report: Callable[[str, Result], None]
) -> dict[str, list[Result]]:
    """``args.runs`` runs of ``script --json`` per checkout, baseline first, alternated;
    ``report(label, result)`` after each."""
    command = [sys.executable, str(script), "--json", "--docs", str(args.docs)]
    command += ["--warm", str(args.warm), "--concurrency", str(args.concurrency)]
    command += ["--path", args.path]
    trees = {"baseline": Path(args.baseline).resolve(), "current": ROOT}
    runs: dict[str, list[Result]] = {label: [] for label in trees}
    with tempfile.TemporaryDirectory(prefix="lingang-checkouts-") as folder:
        fronts = {label: _packages_of(tree, Path(folder) / label) for label, tree in trees.items()}
        for n in range(args.runs):
            for label in trees:
                env = {**os.environ, "PYTHONPATH": f"{fronts[label]}{os.pathsep}{ROOT}"}
                done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
                result = json.loads(done.stdout.strip().splitlines()[-1])
                runs[label].append(result)
                report(f"run {n + 1} {label}", result)
    return runs


def print_ratios(runs: dict[str, list[Result]], figures: Sequence[str]) -> None:
    """Median of this checkout ÷ median of the baseline, per figure."""
    for key in figures:
        current = statistics.median(r[key] for r in runs["current"])
        print(
            f"current ÷ baseline {key}: {current / statistics.median(r[key] for r in runs['baseline']):.2f}"
        )


def _packages_of(tree: Path, folder: Path) -> Path:
    """A folder with links to ``tree``'s own packages only."""
    folder.mkdir()
    for name in PACKAGES:
        (folder / name).symlink_to(tree / name, target_is_directory=True)
    return folder
