"""``lingang convert``: output, validation, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.read import read_ubl

REPO = Path(__file__).resolve().parents[2]
PARTNERS = REPO / "tests" / "data" / "partners.toml"


def _sample(reference: Path) -> Path:
    return reference / "fapiao" / "samples" / "xml" / "invoice-precheck_official-gd-special.xml"


@pytest.mark.xdist_group("engc-validator")
def test_convert_writes_a_valid_document(
    reference: Path, artefacts_home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.xml"
    code = main(
        [
            "convert",
            str(_sample(reference)),
            "--to",
            "bis3",
            "--partners",
            str(PARTNERS),
            "-o",
            str(out),
        ]
    )
    assert code == 0
    inv = read_ubl(out.read_bytes())
    assert inv.profile == "bis3" and inv.buyer.endpoint is not None


def test_convert_to_stdout_without_validation(
    reference: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    code = main(
        [
            "convert",
            str(_sample(reference)),
            "--to",
            "cii",
            "--partners",
            str(PARTNERS),
            "--no-validate",
        ]
    )
    assert code == 0
    assert b"CrossIndustryInvoice" in capsysbinary.readouterr().out


def test_convert_uses_partner_profile_by_default(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xml"
    code = main(
        [
            "convert",
            str(_sample(reference)),
            "--partners",
            str(PARTNERS),
            "-o",
            str(out),
            "--no-validate",
        ]
    )
    assert code == 0
    assert read_ubl(out.read_bytes()).profile == "pint"


def test_unknown_buyer_is_rejected_with_exit_one(
    reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    partners = tmp_path / "p.toml"
    partners.write_text(
        '[[partners]]\nbuyer_name = "x"\nendpoint = "0088:4035811991021"\n', encoding="utf-8"
    )
    code = main(["convert", str(_sample(reference)), "--to", "bis3", "--partners", str(partners)])
    assert code == 1
    assert "[[partners]]" in capsys.readouterr().err


def test_missing_files_and_bad_profile_are_usage_errors(tmp_path: Path) -> None:
    assert main(["convert", str(tmp_path / "none.xml"), "--partners", str(PARTNERS)]) == 2
    sample = tmp_path / "s.xml"
    sample.write_bytes(b"<EInvoice/>")
    assert main(["convert", str(sample), "--partners", str(tmp_path / "none.toml")]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["convert", str(sample), "--to", "ubl", "--partners", str(PARTNERS)])
    assert exc.value.code == 2


@pytest.mark.xdist_group("engc-validator")
def test_fatal_findings_exit_one_with_the_report_on_stderr(
    reference: Path, artefacts_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = PARTNERS.read_text(encoding="utf-8").replace(
        'endpoint = "0088:4035811991021"', 'endpoint = "9999:NOT-AN-EAS"'
    )
    partners = tmp_path / "partners.toml"
    partners.write_text(text, encoding="utf-8")
    out = tmp_path / "out.xml"
    code = main(
        [
            "convert",
            str(_sample(reference)),
            "--to",
            "bis3",
            "--partners",
            str(partners),
            "-o",
            str(out),
        ]
    )
    assert code == 1
    assert not out.exists(), "a failed conversion writes nothing"
    assert "fatal" in capsys.readouterr().err.lower()
