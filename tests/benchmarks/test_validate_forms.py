"""``bench.validate --forms``: a short real run, each form in its own process (and JVM)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import validate
from tests.conftest import require_jvm


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["saxonche", "jvm"])
def test_forms_take_turns_in_blocks_and_document_by_document(
    engine: str, artefacts_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four documents per profile in blocks of two, then one by one: both rows have a rate
    for each form, per round, and no document is reported fatal; on the JVM, the JIT's
    share of the CPU time is read from each form's own JVM."""
    if engine == "jvm":
        require_jvm()
    monkeypatch.setattr(validate, "RESULTS", tmp_path)
    args = ["--forms", "--engines", engine, "--docs", "4", "--single-docs", "4"]
    args += ["--warm-docs", "2", "--jvm-warm-docs", "2", "--rounds", "2", "--block", "2"]
    assert validate.main(args) == 0
    (saved,) = tmp_path.glob("validate-forms-*.json")
    forms = json.loads(saved.read_text(encoding="utf-8"))["forms"]
    for profile in validate.PROFILES:
        row = forms[f"{engine} {profile}"]
        assert row["block"] == 2 and row["fatal"] == {"official": 0, "fast": 0}
        for figures in (row, row["per_document"], row["without_jit"]):
            assert len(figures["ratio_rounds"]) == 2
            assert figures["official_docs_per_cpu_s"] > 0 and figures["fast_docs_per_cpu_s"] > 0
        shares = row["jit_share"].values()
        assert all(0 <= share < 1 for share in shares)
        assert (engine == "jvm") == any(share > 0 for share in shares)


def test_a_form_process_that_cannot_start_stops_the_run_with_its_reason(
    artefacts_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(validate, "RESULTS", tmp_path)
    monkeypatch.setenv("LINGANG_SAXON_JAR", str(tmp_path / "no-such.jar"))
    args = ["--forms", "--engines", "jvm", "--docs", "2", "--single-docs", "2", "--rounds", "1"]
    assert validate.main(args) == 2
    said = capsys.readouterr().err
    assert "form's process could not start" in said and "no-such.jar" in said
    assert not list(tmp_path.glob("validate-forms-*.json"))
