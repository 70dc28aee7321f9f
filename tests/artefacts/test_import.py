"""``lingang artefacts import`` and ``list``: hash-checked, idempotent, refusing corrupt files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from gateway.artefacts import import_mirror, load_manifest, require_files, set_root, status
from gateway.artefacts.store import write_atomically
from gateway.cli import main
from gateway.errors import ArtefactError


def test_import_installs_every_file_then_skips_them(reference: Path, tmp_path: Path) -> None:
    manifest = load_manifest()
    total = sum(len(s.files) for s in manifest.sets)
    first = import_mirror(reference, tmp_path)
    assert len(first.installed) == total and not first.skipped
    again = import_mirror(reference, tmp_path)
    assert not again.installed and len(again.skipped) == total
    assert all(s.intact for s in status(tmp_path))
    aset = manifest.get("cen-ubl", "1.3.16")
    installed = set_root(aset, tmp_path) / "EN16931-UBL-validation.xslt"
    assert (
        installed == tmp_path / "artefacts" / "cen-ubl" / "1.3.16" / "EN16931-UBL-validation.xslt"
    )


def _mirror_of(reference: Path, tmp_path: Path, folder: str) -> Path:
    mirror = tmp_path / "mirror"
    shutil.copytree(reference / folder, mirror / folder)
    return mirror


def test_corrupt_mirror_file_is_refused_and_named(reference: Path, tmp_path: Path) -> None:
    mirror = _mirror_of(reference, tmp_path, "phax-peppol-commons/envelope-xsd")
    target = (
        mirror
        / "phax-peppol-commons/envelope-xsd/PEPPOL-EDN-Business-Message-Envelope-1.2-2019-02-01.xsd"
    )
    target.chmod(0o644)
    target.write_bytes(target.read_bytes().replace(b"required", b"optional"))
    home = tmp_path / "home"
    with pytest.raises(ArtefactError) as caught:
        import_mirror(mirror, home, names=["peppol-envelope"])
    assert "PEPPOL-EDN-Business-Message-Envelope-1.2-2019-02-01.xsd" in str(caught.value)
    assert caught.value.rule == "artefacts.sha256"
    assert not (home / "artefacts" / "peppol-envelope").exists()


def test_missing_mirror_file_is_named(reference: Path, tmp_path: Path) -> None:
    mirror = _mirror_of(reference, tmp_path, "unece-sbdh-1.3/xsd")
    (mirror / "unece-sbdh-1.3/xsd/Partner.xsd").unlink()
    with pytest.raises(ArtefactError, match=r"sbdh/1\.3 file Partner\.xsd"):
        import_mirror(mirror, tmp_path / "home", names=["sbdh"])


def test_missing_artefact_names_set_file_and_fix(tmp_path: Path) -> None:
    with pytest.raises(ArtefactError) as caught:
        require_files(
            "pint-sg",
            "1.4.1",
            ["trn-invoice/schematron/PINT-jurisdiction-aligned-rules.xslt"],
            tmp_path,
        )
    message = str(caught.value)
    assert "pint-sg/1.4.1" in message
    assert "PINT-jurisdiction-aligned-rules.xslt (missing)" in message
    assert "lingang artefacts import" in message and "lingang artefacts sync" in message


def test_tampered_installed_file_is_reported(reference: Path, tmp_path: Path) -> None:
    import_mirror(reference, tmp_path, names=["sbdh"])
    aset = load_manifest().get("sbdh")
    (set_root(aset, tmp_path) / "Manifest.xsd").write_text("<tampered/>")
    state = next(s for s in status(tmp_path) if s.aset.name == "sbdh")
    assert state.installed and not state.intact and state.corrupt == ("Manifest.xsd",)
    with pytest.raises(ArtefactError, match=r"Manifest\.xsd \(sha256 mismatch\)"):
        require_files("sbdh", "1.3", ["Manifest.xsd"], tmp_path)
    assert import_mirror(reference, tmp_path, names=["sbdh"]).installed == ["sbdh/1.3/Manifest.xsd"]


def test_cli_import_and_list(
    reference: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LINGANG_HOME", str(tmp_path))
    assert main(["artefacts", "list"]) == 1
    assert "no (" in capsys.readouterr().out
    assert main(["artefacts", "import", str(reference)]) == 0
    assert "files installed" in capsys.readouterr().out
    assert main(["artefacts", "list"]) == 0
    out = capsys.readouterr().out
    assert "pint-sg" in out and "CORRUPT" not in out
    assert main(["artefacts", "import", str(tmp_path / "nowhere")]) == 1


def test_cli_set_that_is_no_artefact_set_is_a_usage_error(
    reference: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--set pint-gs`` (a typo) installed nothing and still said so with exit 0."""
    monkeypatch.setenv("LINGANG_HOME", str(tmp_path))
    for action in (["import", str(reference)], ["sync"]):
        assert main(["artefacts", *action, "--set", "pint-gs"]) == 2, action
        err = capsys.readouterr().err
        assert "'pint-gs' is not an artefact set" in err and "pint-sg" in err, err
    assert not (tmp_path / "artefacts").exists()
    assert main(["artefacts", "import", str(reference), "--set", "sbdh/1.3"]) == 0
    assert "6 files installed" in capsys.readouterr().out


def test_cli_list_json(
    reference: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    monkeypatch.setenv("LINGANG_HOME", str(tmp_path))
    import_mirror(reference, tmp_path, names=["cen-ubl"])
    assert main(["artefacts", "list", "--json"]) == 1
    rows = {(r["set"], r["version"]): r for r in json.loads(capsys.readouterr().out)}
    assert rows[("cen-ubl", "1.3.16")]["intact"] is True
    assert rows[("pint-sg", "1.4.1")]["installed"] is False
    assert rows[("pint-sg", "1.4.1")]["missing"]


def test_an_installed_file_is_synced_renamed_then_its_folder_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``write_atomically`` makes the file durable before it is renamed into place and the
    rename durable after: fsync(file), rename, fsync(folder); each folder it creates is
    synced into its parent. The real calls run; the spies only record which inode each
    fsync was given."""
    steps: list[tuple[str, int]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        steps.append(("fsync", os.fstat(fd).st_ino))
        real_fsync(fd)

    def replace(source: str | Path, target: str | Path) -> None:
        steps.append(("replace", os.stat(source).st_ino))
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    target = tmp_path / "new" / "deeper" / "rules.xslt"
    write_atomically(target, b"<xsl/>")
    monkeypatch.undo()
    inode = {path: path.stat().st_ino for path in (tmp_path, target.parent.parent, target.parent)}
    file_inode = target.stat().st_ino
    assert steps == [
        ("fsync", inode[tmp_path]),
        ("fsync", inode[target.parent.parent]),
        ("fsync", file_inode),
        ("replace", file_inode),
        ("fsync", inode[target.parent]),
    ]
    assert target.read_bytes() == b"<xsl/>"
    assert [p.name for p in target.parent.iterdir()] == ["rules.xslt"]


def test_a_folder_that_is_no_mirror_is_refused_even_when_everything_is_installed(
    reference: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With every set installed, any folder used to be "0 files installed, N already up to
    date" (the mirror was never read); now a folder holding no set is named as no mirror."""
    monkeypatch.setenv("LINGANG_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LINGANG_CONFIG", raising=False)
    assert main(["artefacts", "import", str(reference), "--set", "sbdh/1.3"]) == 0
    capsys.readouterr()
    wrong = tmp_path / "Downloads"
    wrong.mkdir()
    assert main(["artefacts", "import", str(wrong), "--set", "sbdh/1.3"]) == 1
    err = capsys.readouterr().err
    assert f"{wrong} holds none of the pinned artefact sets: it is not a reference mirror" in err
    assert "up to date" not in err
    partial = _mirror_of(reference, tmp_path, "unece-sbdh-1.3/xsd")
    with pytest.raises(
        ArtefactError, match=r"lacks the artefact sets .*import the others with --set"
    ):
        import_mirror(partial, tmp_path / "home")
