"""``lingang validate``: exit 0 without fatal findings, 1 with, 2 for unreadable input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli import main

EXAMPLE = "openpeppol-peppol-bis-invoice-3/rules/examples/base-example.xml"


def test_valid_document_exits_zero(
    reference: Path, artefacts_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(reference / EXAMPLE)]) == 0
    assert "Invoice under profile bis3: valid" in capsys.readouterr().out


def test_fatal_findings_exit_one_with_json(
    reference: Path, artefacts_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(
        (reference / EXAMPLE)
        .read_bytes()
        .replace(b"1656.25</cbc:PayableAmount>", b"9</cbc:PayableAmount>")
    )
    assert main(["validate", "--json", str(bad)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False and report["profile"] == "bis3"
    assert "BR-CO-16" in {f["rule_id"] for f in report["findings"]}


def test_rules_choice_official_and_fast_give_the_same_report(
    reference: Path, artefacts_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.xml"
    data = (reference / EXAMPLE).read_bytes()
    bad.write_bytes(data.replace(b"1656.25</cbc:PayableAmount>", b"9</cbc:PayableAmount>"))
    reports = {}
    for rules in ("official", "fast"):
        assert main(["validate", "--json", "--rules", rules, str(bad)]) == 1
        reports[rules] = json.loads(capsys.readouterr().out)
    assert "BR-CO-16" in {f["rule_id"] for f in reports["fast"]["findings"]}
    assert reports["fast"] == reports["official"]


def test_explicit_profile(
    reference: Path, artefacts_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--profile", "en16931-ubl", str(reference / EXAMPLE)]) == 0
    assert "profile en16931-ubl" in capsys.readouterr().out


@pytest.mark.parametrize("content", [b"<not-closed", b"<Order xmlns='urn:x'/>"])
def test_unreadable_input_exits_two(
    artefacts_home: Path, tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "in.xml"
    path.write_bytes(content)
    assert main(["validate", str(path)]) == 2
    assert "lingang validate:" in capsys.readouterr().err


def test_missing_file_exits_two(artefacts_home: Path, tmp_path: Path) -> None:
    assert main(["validate", str(tmp_path / "absent.xml")]) == 2


def test_unknown_profile_is_a_usage_error(reference: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["validate", "--profile", "nope", str(reference / EXAMPLE)])
    assert caught.value.code == 2
