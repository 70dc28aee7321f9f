"""``lingang artefacts sync`` against a real HTTP server on 127.0.0.1 serving a mirror."""

from __future__ import annotations

import dataclasses
import functools
import re
import shutil
import socket
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gateway.artefacts import Manifest, load_manifest, status, sync
from gateway.cli import main
from gateway.errors import ArtefactError


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(folder: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def mirror_url(reference: Path) -> Iterator[str]:
    yield from _serve(reference)


def test_sync_from_http_mirror_installs_everything_once(mirror_url: str, tmp_path: Path) -> None:
    total = sum(len(s.files) for s in load_manifest().sets)
    result = sync(tmp_path, mirror_url=mirror_url)
    assert len(result.installed) == total
    assert all(s.intact for s in status(tmp_path))
    assert not sync(tmp_path, mirror_url=mirror_url).installed


def test_unreachable_source_fails_clearly(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ArtefactError, match=r"cannot reach .*lingang artefacts import"):
        sync(tmp_path, names=["sbdh"], mirror_url=f"http://127.0.0.1:{port}", timeout=5)


def test_missing_file_on_server_is_an_http_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for url in _serve(tmp_path / "empty"):
        with pytest.raises(ArtefactError, match="HTTP 404"):
            sync(tmp_path / "home", names=["peppol-envelope"], mirror_url=url)


def test_tampered_download_is_refused(reference: Path, tmp_path: Path) -> None:
    folder = "phax-peppol-commons/envelope-xsd"
    shutil.copytree(reference / folder, tmp_path / "mirror" / folder)
    target = next((tmp_path / "mirror" / folder).glob("*.xsd"))
    target.chmod(0o644)
    target.write_bytes(target.read_bytes() + b"\n")
    for url in _serve(tmp_path / "mirror"):
        with pytest.raises(
            ArtefactError, match=rf"integrity check failed .*{re.escape(target.name)}"
        ):
            sync(tmp_path / "home", names=["peppol-envelope"], mirror_url=url)
    assert not (tmp_path / "home" / "artefacts" / "peppol-envelope").exists()


def _with_archive(manifest: Manifest, name: str, url: str) -> Manifest:
    sets = tuple(
        dataclasses.replace(s, archive=url) if s.name == name else s for s in manifest.sets
    )
    return Manifest(sets)


def test_set_published_as_zip_is_taken_from_the_archive(reference: Path, tmp_path: Path) -> None:
    """PINT-SG comes upstream as a zip bundle: members are matched by path, then hash-checked."""
    served = tmp_path / "served"
    served.mkdir()
    source = reference / "openpeppol-pint-sg-1.4.1"
    with zipfile.ZipFile(served / "bundle.zip", "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in source.rglob("*.xslt"):
            bundle.write(path, "pint-sg-resources/" + path.relative_to(source).as_posix())
    for url in _serve(served):
        manifest = _with_archive(load_manifest(), "pint-sg", f"{url}/bundle.zip")
        result = sync(tmp_path / "home", manifest=manifest, names=["pint-sg"])
    assert len(result.installed) == 4
    state = next(s for s in status(tmp_path / "home", manifest) if s.aset.name == "pint-sg")
    assert state.intact


def test_cli_sync(
    mirror_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LINGANG_HOME", str(tmp_path))
    assert main(["artefacts", "sync", "--mirror-url", mirror_url, "--set", "cen-ubl"]) == 0
    assert "1 files installed" in capsys.readouterr().out


def test_archive_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    (served / "bundle.zip").write_bytes(b"this is not a zip")
    for url in _serve(served):
        manifest = _with_archive(load_manifest(), "pint", f"{url}/bundle.zip")
        with pytest.raises(ArtefactError, match="is not a zip"):
            sync(tmp_path / "home", manifest=manifest, names=["pint"])


def test_archive_member_of_the_wrong_size_is_refused(reference: Path, tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / "bundle.zip", "w") as bundle:
        for path in (reference / "openpeppol-pint-1.1.3").rglob("*.xslt"):
            rel = path.relative_to(reference / "openpeppol-pint-1.1.3").as_posix()
            bundle.writestr(rel, path.read_bytes() + b" ")
    for url in _serve(served):
        manifest = _with_archive(load_manifest(), "pint", f"{url}/bundle.zip")
        with pytest.raises(ArtefactError, match=r"no file .* of the pinned size"):
            sync(tmp_path / "home", manifest=manifest, names=["pint"])
