"""The ``lingang`` command.

Each sub-command lives in its own module in this package and exposes
``register(subparsers) -> None``, which adds its parser and sets ``handler`` to a function
taking the parsed arguments and returning the exit code. Modules are discovered, so adding a
command never means editing this file.

Exit codes: 0 success, 1 the input was rejected or the document has fatal findings,
2 usage error (argparse's own), 3 an internal error.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import pkgutil
import signal
import sys
from collections.abc import Sequence

from gateway import __version__
from gateway.cli._help import explain
from gateway.cli._io import UsageError
from gateway.errors import LingangError


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every discovered sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="lingang", description="Lingang Gateway: cross-border trade documents."
    )
    parser.add_argument("--version", action="version", version=f"lingang {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    explain(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    given = list(sys.argv[1:] if argv is None else argv)
    args, unknown = parser.parse_known_args(given)
    if unknown:
        _refuse_unknown(parser, given, unknown)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(handler(args))
    except UsageError as exc:
        print(f"lingang {args.command}: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except LingangError as exc:
        print(f"lingang {args.command}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return _reader_gone()
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        print(f"lingang {args.command}: cannot use{where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _reader_gone() -> int:
    """The reader of our output went away (``lingang parse f.xml | head``): stop quietly, as
    a command killed by SIGPIPE does (exit 128 + 13), instead of 'cannot use: Broken pipe'.
    What is still buffered for stdout goes nowhere, so the interpreter's own flush at exit
    does not complain about the pipe again."""
    sink = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(sink, sys.stdout.fileno())
    finally:
        os.close(sink)
    return 128 + signal.SIGPIPE


def _refuse_unknown(parser: argparse.ArgumentParser, given: list[str], unknown: list[str]) -> None:
    """Exit 2 naming the arguments no parser took, with the usage of the (sub-)command they
    were given to and, for a mistyped option, the one meant (``--too`` → ``--to``)."""
    command = parser
    for word in given:
        actions = [a for a in command._actions if isinstance(a, argparse._SubParsersAction)]
        if not actions or word not in actions[0].choices:
            continue
        command = actions[0].choices[word]
    options = [o for a in command._actions for o in a.option_strings if o.startswith("--")]
    hints = []
    for word in unknown:
        close = difflib.get_close_matches(word.split("=", 1)[0], options, n=1, cutoff=0.6)
        if word.startswith("-") and close:
            hints.append(f"{word.split('=', 1)[0]}: did you mean {close[0]}?")
    message = f"unrecognized arguments: {' '.join(unknown)}"
    command.error("; ".join([message, *hints]))


if __name__ == "__main__":
    sys.exit(main())
