"""One way to read and write in every command: stdin as ``-``, outputs only on success.

Item 15 of the hardening issue: ``convert -o`` wrote the file when the command failed; ``-o``
to a missing folder or to a folder ended in a traceback; ``parse``/``validate`` did not read
``-``; a bad ``--format`` exited 1 in one command and 2 in another.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import main

REPO = Path(__file__).resolve().parents[2]
PARTNERS = REPO / "tests" / "data" / "partners.toml"


@pytest.fixture
def sample(reference: Path) -> Path:
    return reference / "fapiao/samples/xml/invoice-precheck_official-gd-special.xml"


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_a_rejected_conversion_leaves_the_old_output_untouched(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.xml"
    out.write_bytes(b"previous result")
    empty = tmp_path / "partners.toml"
    empty.write_text("", encoding="utf-8")
    code = main(["convert", str(sample), "--partners", str(empty), "-o", str(out), "--no-validate"])
    assert code == 1
    assert out.read_bytes() == b"previous result"
    err = capsys.readouterr().err
    assert "rejected" in err and "None" not in err
    assert list(tmp_path.glob(".out.xml.*")) == []


@pytest.mark.parametrize("where", ["missing/out.xml", "."])
def test_an_unwritable_output_is_a_usage_error_before_any_work(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    target = tmp_path / where
    code = main(["convert", str(sample), "--partners", str(PARTNERS), "-o", str(target)])
    assert code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and str(target).rstrip("/.") in err


def test_a_successful_conversion_writes_atomically(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xml"
    code = main(
        ["convert", str(sample), "--partners", str(PARTNERS), "-o", str(out), "--no-validate"]
    )
    assert code == 0
    assert b"<Invoice" in out.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["out.xml"]


def test_parse_and_validate_read_stdin(
    sample: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    reference: Path,
    artefacts_home: Path,
) -> None:
    _stdin(monkeypatch, sample.read_bytes())
    assert main(["parse", "-"]) == 0
    assert '"source_format"' in capsys.readouterr().out
    example = reference / "openpeppol-peppol-bis-invoice-3/rules/examples/base-example.xml"
    _stdin(monkeypatch, example.read_bytes())
    assert main(["validate", "-"]) == 0
    capsys.readouterr()
    _stdin(monkeypatch, b"<not-xml")
    assert main(["validate", "-"]) in {1, 2}
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("command", ["parse", "convert"])
def test_a_bad_format_is_a_usage_error_everywhere(
    command: str, sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = ["--partners", str(PARTNERS)] if command == "convert" else []
    with pytest.raises(SystemExit) as caught:
        main([command, str(sample), "--format", "pdf", *extra])
    assert caught.value.code == 2
    assert "invalid choice: 'pdf'" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["parse", "validate", "convert"])
def test_a_folder_or_missing_input_is_a_usage_error(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = ["--partners", str(PARTNERS)] if command == "convert" else []
    for given in (tmp_path, tmp_path / "absent.xml"):
        assert main([command, str(given), *extra]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        folder_batch = command == "convert" and given == tmp_path
        assert ("--out-dir" if folder_batch else str(given)) in err


def test_sign_refuses_an_enveloped_signature_on_a_peppol_document(
    tmp_path: Path, reference: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 18: signing a Peppol document enveloped made it invalid without a word."""
    pki = tmp_path / "pki"
    assert main(["keys", "test-pki", str(pki)]) == 0
    source = reference / "openpeppol-peppol-bis-invoice-3/rules/examples/base-example.xml"
    key = ["--key", str(pki / "signer-ec.key.pem"), "--cert", str(pki / "signer-ec.pem")]
    out = tmp_path / "signed.xml"
    capsys.readouterr()
    assert main(["sign", str(source), *key, "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "--detached" in err and "PEPPOL-EN16931-R008" in err and "bis3" in err
    assert not out.exists()
    assert main(["sign", str(source), *key, "--detached", "-o", str(out)]) == 0
    assert main(["sign", str(source), *key, "--force", "-o", str(out)]) == 0


def test_hostile_options_get_a_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by an audit: each raised out of ``main`` (decimal.InvalidOperation, lxml's
    UnicodeEncodeError / ValueError, RecursionError)."""
    repo = Path(__file__).resolve().parents[2]
    sample = repo / "gateway" / "samples" / "export-zero-rate.xml"
    partners = repo / "tests" / "data" / "partners.toml"
    convert = ["convert", str(sample), "--partners", str(partners), "--no-validate"]
    for meta in ("exchange_rate=1e400", "buyer_reference=a\udcedb", "buyer_reference=a\x01b"):
        assert main([*convert, "--meta", meta]) != 0, meta
        assert "Traceback" not in capsys.readouterr().err
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert main(["render", str(sample), "--report", str(deep)]) != 0
    assert "not JSON" in capsys.readouterr().err


@pytest.mark.parametrize("profile", ["cii", "bis3-cii", "bis3"])
def test_convert_validates_each_syntax_with_its_own_artefacts(
    sample: Path, tmp_path: Path, profile: str, artefacts_home: Path
) -> None:
    """The artefacts checked before validating are the output's own (a CII document's, a
    credit note's), not always a UBL invoice's: `--to cii` used to stop before any work."""
    out = tmp_path / f"out.{profile}.xml"
    code = main(
        ["convert", str(sample), "--partners", str(PARTNERS), "--to", profile, "-o", str(out)]
    )
    assert code == 0
    assert out.stat().st_size > 0


def test_a_batch_to_cii_checks_the_cii_artefacts(
    sample: Path, tmp_path: Path, artefacts_home: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.xml").write_bytes(sample.read_bytes())
    out = tmp_path / "out"
    code = main(
        ["convert", str(folder), "--partners", str(PARTNERS), "--to", "cii", "--out-dir", str(out)]
    )
    assert code == 0
    assert [p.name for p in out.iterdir()] == ["a.xml"]


def test_a_mistyped_option_is_named_with_the_sub_commands_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--too`` for ``--to``: exit 2 with the usage of the command it was given to (argparse
    alone printed the top-level ``lingang COMMAND ...`` usage) and the option meant."""
    with pytest.raises(SystemExit) as done:
        main(["convert", "in.xml", "--too", "pint-sg", "--partners", "p.toml"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "usage: lingang convert" in err
    assert "lingang convert: error: unrecognized arguments: --too pint-sg" in err
    assert "--too: did you mean --to?" in err
    with pytest.raises(SystemExit) as nested:
        main(["peppol", "lookup", "0195:X", "--smp-trst", "ca.pem"])
    assert nested.value.code == 2
    err = capsys.readouterr().err
    assert "lingang peppol lookup: error: unrecognized arguments: --smp-trst ca.pem" in err
    assert "did you mean --smp-trust?" in err


def test_a_reader_that_goes_away_ends_the_command_quietly(sample: Path) -> None:
    """``lingang parse f.xml | head -1``: the pipe closed before the command wrote is no
    'cannot use: Broken pipe' on stderr (exit 2, as for an unreadable input): the command
    stops quietly with the status a SIGPIPE gives (141)."""
    reader, writer = os.pipe()
    os.close(reader)  # gone before the command writes its first byte
    try:
        done = subprocess.run(
            [sys.executable, "-m", "gateway", "parse", str(sample)],
            stdout=writer,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    finally:
        os.close(writer)
    assert done.returncode == 141, done.stderr
    assert done.stderr == b""
