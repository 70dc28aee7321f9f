"""The first use after the set-up: a missing artefact says which profile, where, and the fix.

Item 13 of the hardening issue: after the README's set-up, plain ``lingang convert`` /
``validate`` failed because the set-up imported into ``var/*-home`` while the CLI looked in
``~/.lingang``, and the message named ``bis3`` when ``pint-sg`` was asked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main

EXAMPLE = "openpeppol-peppol-bis-invoice-3/rules/examples/base-example.xml"


def test_missing_artefacts_name_the_profile_the_home_and_the_fix(
    tmp_path: Path,
    reference: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LINGANG_HOME", str(tmp_path / "var/demo-home"))
    assert main(
        ["artefacts", "import", str(reference), "--set", "ubl-2.1", "--set", "pint-sg"]
    ) in {0, 1}
    empty = tmp_path / "empty-home"
    monkeypatch.setenv("LINGANG_HOME", str(empty))
    capsys.readouterr()

    assert main(["validate", str(reference / EXAMPLE), "--profile", "pint-sg"]) == 2
    err = capsys.readouterr().err
    assert "profile 'pint-sg'" in err and "bis3" not in err
    assert f"data home {empty}" in err
    assert "lingang artefacts import" in err and "lingang artefacts sync" in err
    assert f"LINGANG_HOME={tmp_path / 'var/demo-home'}" in err
    assert "Traceback" not in err
