"""``lingang bench``: list the benchmarks of a checkout's ``bench/`` folder, or run one.

The harness is part of the repository, not of the installed package (it needs the tests'
fixtures, baselines and peers), so this command looks for ``bench/`` in the working folder:
``lingang bench`` lists each benchmark with the first line of its description, ``lingang
bench NAME [ARGS...]`` runs it exactly as ``python -m bench.NAME ARGS...`` would (its own
``--help`` says what it measures and takes). Results go where each benchmark writes them
(``bench/results/``).
"""

from __future__ import annotations

import argparse
import ast
import runpy
import sys
from pathlib import Path

from gateway.cli._io import UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "bench",
        help="list or run the benchmarks of the checkout's bench/ folder",
        description="Run from a checkout of the repository: without NAME, list the "
        "benchmarks; with it, run python -m bench.NAME with the remaining arguments.",
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="the benchmark to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its own arguments")
    parser.add_argument(
        "--root", type=Path, default=Path.cwd(), help="the checkout (default: this folder)"
    )
    parser.set_defaults(handler=run)


def benchmarks(folder: Path) -> dict[str, str]:
    """Each runnable benchmark of ``folder`` (a module with a ``__main__`` block) and the first
    line of its docstring, read without importing it."""
    found: dict[str, str] = {}
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        source = path.read_text(encoding="utf-8")
        if "__main__" not in source:
            continue
        doc = ast.get_docstring(ast.parse(source)) or ""
        found[path.stem] = doc.strip().splitlines()[0] if doc.strip() else ""
    return found


def run(args: argparse.Namespace) -> int:
    root = Path(args.root).resolve()
    folder = root / "bench"
    if not (folder / "__init__.py").is_file():
        raise UsageError(
            f"no bench/ folder in {root}: the benchmarks live in the repository; run this "
            "from a checkout (or give --root)"
        )
    known = benchmarks(folder)
    if args.name is None:
        width = max(map(len, known), default=0)
        for name, summary in known.items():
            print(f"{name.ljust(width)}  {summary}")
        return 0
    if args.name not in known:
        raise UsageError(f"no benchmark {args.name!r}; one of: {', '.join(known)}")
    saved_path, saved_argv = list(sys.path), list(sys.argv)
    sys.path.insert(0, str(root))
    sys.argv = [f"bench.{args.name}", *args.args]
    try:
        runpy.run_module(f"bench.{args.name}", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    finally:
        sys.path[:], sys.argv[:] = saved_path, saved_argv
    return 0
