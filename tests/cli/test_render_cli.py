"""``lingang render``: HTML and PDF out, clear exits for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli import main
from tests.readable.page_text import page_text

SAMPLES = Path(__file__).resolve().parents[2] / "gateway/samples"


def test_html_to_a_file_with_a_report(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps(
            {
                "profile": "pint-sg",
                "valid": True,
                "findings": [
                    {
                        "rule_id": "SG-R010",
                        "flag": "warning",
                        "location": "/Invoice",
                        "text": "t",
                        "source": "pint-sg",
                    }
                ],
            }
        ),
        "utf-8",
    )
    out = tmp_path / "page.html"
    code = main(
        [
            "render",
            str(SAMPLES / "multi-rate-discount.xml"),
            "--report",
            str(report),
            "-o",
            str(out),
        ]
    )
    assert code == 0
    page = out.read_text("utf-8")
    assert "发票号码 / Invoice number" in page_text(page) and "SG-R010" in page


def test_pdf(tmp_path: Path) -> None:
    out = tmp_path / "page.pdf"
    assert (
        main(["render", str(SAMPLES / "platform-export.json"), "--format", "pdf", "-o", str(out)])
        == 0
    )
    assert out.read_bytes().startswith(b"%PDF")


def test_html_to_stdout(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["render", str(SAMPLES / "red-letter.xml")]) == 0
    assert "红字发票".encode() in capsysbinary.readouterr().out


def test_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01 nothing")
    assert main(["render", str(junk)]) == 1
    assert "no renderer" in capsys.readouterr().err
    assert main(["render", str(tmp_path / "missing.xml")]) == 2
    notjson = tmp_path / "r.json"
    notjson.write_text("{", "utf-8")
    assert main(["render", str(SAMPLES / "red-letter.xml"), "--report", str(notjson)]) == 2
    assert "--report" in capsys.readouterr().err
    assert main(["render", str(SAMPLES / "red-letter.xml"), "-o", str(tmp_path / "no/x.html")]) == 2
