"""``lingang --help`` and every command's: what it does, and examples that parse.

Before, most commands' help was their option list alone (``lingang convert --help`` did not
say that it writes nothing for a fapiao that fails, ``lingang parse --help`` not that it
needs no directory), and no command showed an example.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys

import pytest

from gateway.cli import build_parser, main
from gateway.cli._help import HELP, command_parsers

PARSER = build_parser()
COMMANDS = command_parsers(PARSER)[1:]


@pytest.mark.parametrize(("path", "parser"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_says_what_it_does_and_shows_an_example(
    path: tuple[str, ...], parser: argparse.ArgumentParser
) -> None:
    text = parser.format_help()
    _, _, rest = text.partition("\n\n")
    assert not rest.startswith(("positional arguments:", "options:")), (
        f"lingang {' '.join(path)} --help says nothing of what the command does"
    )
    examples = text.split("examples:\n", 1)[1]
    assert all(line.startswith("  lingang") or "lingang " in line for line in examples.splitlines())


@pytest.mark.parametrize("path", sorted(HELP), ids=" ".join)
def test_every_example_is_a_command_line_the_parser_takes(path: tuple[str, ...]) -> None:
    known = {p for p, _ in COMMANDS}
    assert path in known, f"HELP names {path}, which is no command"
    for example in HELP[path][1]:
        words = shlex.split(example)
        words = words[words.index("lingang") + 1 :]
        if ">" in words:
            words = words[: words.index(">")]
        if words[-1:] == ["--help"] or path == ("bench",):
            continue
        parsed, unknown = PARSER.parse_known_args(words)
        assert not unknown, (example, unknown)
        assert parsed.handler is not None, example


def test_the_top_help_names_the_data_home_the_exit_codes_and_examples(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "$LINGANG_HOME, else ~/.lingang" in out
    assert "exit codes: 0 success, 1" in out and "2 a usage error" in out
    assert "examples:\n  lingang artefacts import ../shared/reference" in out


def test_a_command_help_through_the_console_script_ends_with_its_examples() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "convert", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert "examples:\n  lingang convert fapiao.xml --partners partners.toml" in done.stdout
    assert "nothing is written for a fapiao that fails" in done.stdout


def test_prune_help_says_what_stays_and_shows_a_dry_run(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["prune", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "Never deleted: the export ledger and its checkpoints" in out
    assert "examples: lingang prune --dry-run" in out
