"""``lingang parse``: JSON on stdout, warnings on stderr, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.samples import sample_paths


def _sample(name: str) -> Path:
    return next(p for p in sample_paths() if p.name == name)


def test_prints_the_canonical_invoice(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(_sample("multi-rate-discount.xml"))]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["source_format"] == "fapiao-xml"
    assert out["invoice"]["number"] == "26312000000000000102"
    assert out["invoice"]["totals"]["tax_inclusive"] == "83490.00"  # amounts as strings
    assert out["invoice"]["buyer"]["name"] == "Harbour Gate Logistics Limited"
    assert out["invoice"]["lines"][0]["item"]["name"] == "*通用设备*液压泵"  # not \\u-escaped
    assert out["facts"]["is_red"] is False and out["warnings"] == []


def test_warnings_are_printed(reference: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = reference / "fapiao/samples/xml/invoice-precheck_gaode-js-taxi.xml"
    assert main(["parse", str(path), "--format", "fapiao-xml"]) == 0
    captured = capsys.readouterr()
    codes = {w["code"] for w in json.loads(captured.out)["warnings"]}
    assert "uscc.check-digit" in codes
    assert "warning uscc.check-digit" in captured.err


@pytest.mark.parametrize("name", ["platform-export.json", "services.ofd"])
def test_other_formats(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(_sample(name))]) == 0
    assert json.loads(capsys.readouterr().out)["invoice"]["currency"] == "CNY"


def test_rejected_input_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<EInvoice><Header/></EInvoice>", encoding="utf-8")
    assert main(["parse", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "rejected" in err and "fapiao.required" in err and "InvoiceNumber" in err


def test_wrong_forced_format_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(_sample("services.ofd")), "--format", "fapiao-json"]) == 1
    assert "json" in capsys.readouterr().err


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert main(["parse", str(tmp_path / "missing.xml")]) == 2
    with pytest.raises(SystemExit) as caught:
        main(["parse", str(_sample("red-letter.xml")), "--format", "pdf"])
    assert caught.value.code == 2
