"""``lingang partners``: check a directory file, make it a tenant's directory, show it.

Before this command an operator could load a tenant's directory only through
``PUT /v1/partners`` (or the console); ``check`` reads a file as the API does, ``import``
replaces the stored directory on either store, and ``show`` prints it back in the file's
shape, so ``show`` then ``import`` round-trips.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.partners.directory import PartnerDirectory
from gateway.partners.document import MAX_DIRECTORY_BYTES
from tests.api.test_api_cli_tenants import issued

DIRECTORY = Path(__file__).resolve().parents[1] / "data" / "partners.toml"


def _tenant(url: str, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tenants", "create", name, "--database", url]) == 0
    issued(capsys.readouterr().out)


def test_check_reads_the_file_as_the_api_does(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["partners", "check", str(DIRECTORY)]) == 0
    directory = PartnerDirectory.load(DIRECTORY)
    counts = f"{len(directory.partners)} partner(s), {len(directory.exporters)} exporter(s)"
    assert counts in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "text", "rule"),
    [
        ("nulls.json", '{"partners": [{"buyer_name": null}]}', "not-null"),
        ("broken.toml", "[[partners]\n", "toml"),
        ("dated.toml", '[[partners]]\nbuyer_name = "A"\nsince = 2026-01-01\n', "json-value"),
        ("twice.toml", '[[partners]]\nbuyer_id = "X"\n[[partners]]\nbuyer_id = "X"\n', "unique"),
        ("list.json", "[]", "object"),
        ("wrong.toml", 'colour = "red"\n', None),
    ],
)
def test_check_names_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, rule: str | None
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert main(["partners", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"lingang partners: {path}: ")
    if rule is not None:
        assert err.rstrip().endswith(f"({rule})"), err


def test_a_file_over_the_limit_is_refused_before_it_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.toml"
    path.write_bytes(b"#" * (MAX_DIRECTORY_BYTES + 1))
    assert main(["partners", "check", str(path)]) == 1
    assert "(max-directory-bytes)" in capsys.readouterr().err


def test_import_show_round_trip(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _tenant(store_url, "acme", capsys)
    _tenant(store_url, "globex", capsys)
    assert (
        main(["partners", "import", str(DIRECTORY), "--tenant", "acme", "--database", store_url])
        == 0
    )
    assert "directory replaced" in capsys.readouterr().out
    assert main(["partners", "show", "--tenant", "acme", "--database", store_url]) == 0
    shown = json.loads(capsys.readouterr().out)
    directory = PartnerDirectory.load(DIRECTORY)
    assert len(shown["partners"]) == len(directory.partners)
    assert len(shown["exporters"]) == len(directory.exporters)

    exported = tmp_path / "acme.json"
    exported.write_text(json.dumps(shown), encoding="utf-8")
    assert (
        main(["partners", "import", str(exported), "--tenant", "globex", "--database", store_url])
        == 0
    )
    capsys.readouterr()
    assert main(["partners", "show", "--tenant", "globex", "--database", store_url]) == 0
    assert json.loads(capsys.readouterr().out) == shown


def test_a_refused_import_leaves_the_directory_as_it_was(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _tenant(store_url, "acme", capsys)
    assert (
        main(["partners", "import", str(DIRECTORY), "--tenant", "acme", "--database", store_url])
        == 0
    )
    capsys.readouterr()
    assert main(["partners", "show", "--tenant", "acme", "--database", store_url]) == 0
    before = capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text('[[partners]]\nbuyer_name = "A"\ncountry = "Singapore"\n', encoding="utf-8")
    assert main(["partners", "import", str(bad), "--tenant", "acme", "--database", store_url]) == 1
    assert "country" in capsys.readouterr().err
    assert main(["partners", "show", "--tenant", "acme", "--database", store_url]) == 0
    assert capsys.readouterr().out == before


def test_an_unknown_tenant_is_named(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "--database", store_url]) == 0
    status = main(
        ["partners", "import", str(DIRECTORY), "--tenant", "nobody", "--database", store_url]
    )
    assert status == 1
    assert "no tenant named 'nobody'" in capsys.readouterr().err
