"""``lingang validate`` on a fapiao names it and the command that takes it.

A finance clerk validating the fapiao itself (rather than what ``convert`` wrote) was told
"no validation profile for root element {None}EInvoice", and for an OFD "document to
validate is not well-formed: Start tag expected".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "gateway" / "samples"


@pytest.mark.parametrize(
    ("sample", "form"), [("red-letter.xml", "数电票 XML"), ("services.ofd", "数电票 OFD")]
)
def test_a_fapiao_is_named_with_the_command_that_takes_it(
    sample: str, form: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(SAMPLES / sample)
    assert main(["validate", path]) == 2
    err = capsys.readouterr().err
    assert f"{path} is a fapiao ({form}), not a UBL or CII document" in err
    assert f"lingang convert {path} --partners" in err
    assert "root element" not in err and "not well-formed" not in err


def test_json_output_carries_the_same_refusal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(SAMPLES / "red-letter.xml"), "--json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is False and out["error"]["rule"] == "validate.fapiao"


def test_a_batch_names_each_fapiao_in_its_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "checks.json"
    status = main(
        [
            "validate",
            str(SAMPLES / "red-letter.xml"),
            str(SAMPLES / "exempt-services.xml"),
            "--report",
            str(report),
            "--jobs",
            "1",
        ]
    )
    assert status == 1
    capsys.readouterr()
    text = report.read_text(encoding="utf-8")
    assert text.count("is a fapiao (数电票 XML), not a UBL or CII document") == 2, text
