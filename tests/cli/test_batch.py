"""``lingang convert`` / ``validate`` over many files in one run (item 16 of the hardening issue).

A batch runs in a process pool, shows a progress bar on a terminal, prints a summary table
with the file name on every line, writes only the documents that passed, and writes a JSON
report with an HTML rendering next to it.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.cli._batch import FileResult, ProgressBar, render_html

REPO = Path(__file__).resolve().parents[2]
PARTNERS = REPO / "tests" / "data" / "partners.toml"
SAMPLES = REPO / "gateway" / "samples"


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(SAMPLES / "export-zero-rate.xml", folder / "a.xml")
    shutil.copy(SAMPLES / "exempt-services.xml", folder / "sub" / "b.xml")
    (folder / "broken.xml").write_text("<broken", encoding="utf-8")
    return folder


def test_convert_a_folder_in_a_pool(
    inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], artefacts_home: Path
) -> None:
    out, report = tmp_path / "out", tmp_path / "report.json"
    code = main(
        [
            "convert",
            str(inputs),
            "--partners",
            str(PARTNERS),
            "--out-dir",
            str(out),
            "--report",
            str(report),
            "--jobs",
            "2",
        ]
    )
    assert code == 1
    text = capsys.readouterr().out
    assert "3 files: " in text and ", 1 failed" in text  # the mapper may warn (e.g. no BT-10)
    failed = [line for line in text.splitlines() if line.startswith("failed")]
    assert failed and all("broken.xml" in line for line in failed)
    assert sorted(p.name for p in out.iterdir()) == ["a.xml", "b.xml"]
    data = json.loads(report.read_text(encoding="utf-8"))
    statuses = {Path(f["file"]).name: f["status"] for f in data["files"]}
    assert statuses["broken.xml"] == "failed"
    assert {statuses["a.xml"], statuses["b.xml"]} <= {"ok", "warnings"}
    page = report.with_suffix(".html").read_text(encoding="utf-8")
    assert "broken.xml" in page and "&lt;broken&gt;" in page


def test_validate_many_files_lists_rule_location_and_text(
    tmp_path: Path,
    reference: Path,
    capsys: pytest.CaptureFixture[str],
    artefacts_home: Path,
) -> None:
    good = reference / "openpeppol-peppol-bis-invoice-3/rules/examples/base-example.xml"
    bad = tmp_path / "bad.xml"
    bad.write_bytes(good.read_bytes().replace(b"<cbc:ID>Snippet1</cbc:ID>", b"", 1))
    report = tmp_path / "r.json"
    code = main(["validate", str(good), str(bad), "--jobs", "1", "--report", str(report)])
    text = capsys.readouterr().out
    assert code == 1, text
    assert "2 files: 1 ok, 0 with warnings, 1 failed" in text or "1 with warnings" in text
    fatal_lines = [line for line in text.splitlines() if "bad.xml:" in line]
    assert fatal_lines, text
    page = report.with_suffix(".html").read_text(encoding="utf-8")
    assert "<table>" in page and "bad.xml" in page


def test_a_batch_convert_needs_an_out_dir(inputs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", str(inputs), "--partners", str(PARTNERS)]) == 2
    assert "--out-dir" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_draws_on_a_terminal_only() -> None:
    terminal, pipe = _Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        bar = ProgressBar(4, stream)
        for _ in range(4):
            bar.step()
        bar.close()
    assert "\r[" in terminal.getvalue() and "4/4" in terminal.getvalue()
    assert pipe.getvalue() == ""


def test_the_html_report_escapes_everything() -> None:
    result = FileResult.from_findings(
        "<script>x</script>.xml",
        "bis3",
        [{"rule_id": "BR-01", "flag": "fatal", "location": "/a", "text": "<b>&"}],
    )
    page = render_html([result], "t")
    assert "<script>" not in page and "&lt;b&gt;&amp;" in page and "BR-01" in page


def test_a_batch_applies_meta_and_strict_to_every_file(
    tmp_path: Path, reference: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Once ``--meta`` and ``--strict`` were read for one file only: a batch dropped them
    without a word, so ``--meta buyer_reference=…`` reached none of its invoices and a
    non-conformant fapiao went out under ``--strict``."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLES / "export-zero-rate.xml", folder / "a.xml")
    shutil.copy(SAMPLES / "exempt-services.xml", folder / "b.xml")
    batch = ["convert", str(folder), "--partners", str(PARTNERS), "--no-validate", "--jobs", "1"]
    out = tmp_path / "out"
    assert main([*batch, "--meta", "buyer_reference=PO-4711", "--out-dir", str(out)]) == 0
    for name in ("a.xml", "b.xml"):
        assert b"PO-4711" in (out / name).read_bytes(), name
    # the official sample's USCCs fail their check digit: a warning, refused with --strict
    shutil.copy(
        reference / "fapiao/samples/xml/invoice-precheck_official-gd-special.xml",
        folder / "c.xml",
    )
    strict = tmp_path / "strict"
    assert main([*batch, "--strict", "--out-dir", str(strict)]) == 1
    failed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("failed")]
    assert len(failed) == 1 and "c.xml" in failed[0] and "uscc" in failed[0], failed
    assert sorted(p.name for p in strict.iterdir()) == ["a.xml", "b.xml"]


def test_a_meta_key_the_mapper_does_not_read_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--meta buyer_refrence=X`` (a typo) and ``--meta profile=bis3`` were dropped, so the
    invoice went out without the reference or in the partner's profile."""
    sample = SAMPLES / "export-zero-rate.xml"
    base = ["convert", str(sample), "--partners", str(PARTNERS), "--no-validate"]
    for meta, words in (("buyer_refrence=X", "buyer_reference"), ("profile=bis3", "--to")):
        for where in (["-o", str(tmp_path / "x.xml")], ["--out-dir", str(tmp_path / "d")]):
            assert main([*base, "--meta", meta, *where]) == 2, (meta, where)
            err = capsys.readouterr().err
            assert words in err and "Traceback" not in err, err
    assert not (tmp_path / "x.xml").exists()


@pytest.mark.parametrize("command", ["convert", "validate"])
@pytest.mark.parametrize("jobs", ["0", "-3", "two"])
def test_a_jobs_count_below_one_is_refused_naming_the_option(
    command: str, jobs: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--jobs 0`` ran one process per CPU (0 taken as "not given") and ``--jobs -3`` one
    process, both without a word; both are a usage error now."""
    with pytest.raises(SystemExit) as done:
        main([command, str(tmp_path / "a.xml"), str(tmp_path / "b.xml"), "--jobs", jobs])
    assert done.value.code == 2
    assert (
        f"argument --jobs: '{jobs}' is not a whole number of at least 1" in capsys.readouterr().err
    )
