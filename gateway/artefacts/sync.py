"""Download the pinned artefact sets from their upstream locations.

Each file is fetched from its manifest URL (or, for a set published as a zip, the zip is
fetched once and the files are taken out of it), checked against its pinned SHA-256 and only
then installed. ``mirror_url`` replaces the upstream locations by an HTTP mirror laid out like
``../shared/reference`` (``<mirror_url>/<set mirror folder>/<path>``). A set with files that
have no upstream URL (derived files, e.g. DCSA's JSON Schemas generated from its OpenAPI
YAML) is installed only from a mirror; a plain ``sync`` skips it and says so.
"""

from __future__ import annotations

import io
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

from gateway.artefacts.manifest import ArtefactFile, ArtefactSet, Manifest, load_manifest
from gateway.artefacts.store import (
    InstallResult,
    check_content,
    file_matches,
    set_root,
    write_atomically,
)
from gateway.errors import ArtefactError

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
"""Hosts fetched directly even when an HTTP proxy is configured (local mirrors, tests)."""

MAX_DOWNLOAD = 64 * 1024 * 1024
"""Largest single download accepted (a file or a set's zip), in bytes."""


def fetch(url: str, timeout: float, limit: int = MAX_DOWNLOAD) -> bytes:
    """GET ``url``; :class:`ArtefactError` with a clear message when it cannot be had."""
    if not url.startswith(("https://", "http://")):
        raise ArtefactError(f"refusing to download from a non-HTTP URL: {url}")
    request = urllib.request.Request(url, headers={"User-Agent": "lingang-artefacts/1"})
    host = urllib.parse.urlsplit(url).hostname or ""
    handlers = [urllib.request.ProxyHandler({})] if host in _LOOPBACK else []
    try:
        with urllib.request.build_opener(*handlers).open(request, timeout=timeout) as response:
            data: bytes = response.read(limit + 1)
    except urllib.error.HTTPError as exc:
        raise ArtefactError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ArtefactError(
            f"cannot reach {url} ({reason}); without network access install the artefacts "
            "from an offline mirror with `lingang artefacts import <mirror>`"
        ) from exc
    if len(data) > limit:
        raise ArtefactError(f"download of {url} exceeds {limit} bytes; refused")
    return data


def _mirror_url(base: str, aset: ArtefactSet, entry: ArtefactFile) -> str:
    return f"{base.rstrip('/')}/{quote(aset.mirror)}/{quote(entry.path)}"


def _from_archive(aset: ArtefactSet, archive: bytes, entry: ArtefactFile) -> bytes:
    """Take ``entry`` out of the set's zip, matched by path suffix, size-checked first."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
            for info in bundle.infolist():
                name = info.filename.replace("\\", "/")
                if name == entry.path or name.endswith("/" + entry.path):
                    if info.file_size != entry.size:
                        break
                    with bundle.open(info) as member:
                        return member.read(entry.size + 1)
    except zipfile.BadZipFile as exc:
        raise ArtefactError(f"the archive of {aset.key} ({aset.archive}) is not a zip") from exc
    raise ArtefactError(
        f"the archive of {aset.key} has no file {entry.path} of the pinned size",
        field=entry.path,
        rule="artefacts.missing",
    )


def _download_set(
    aset: ArtefactSet, home: Path, mirror_url: str | None, timeout: float
) -> tuple[list[tuple[ArtefactFile, bytes]], list[str]]:
    root = set_root(aset, home)
    todo = [e for e in aset.files if not file_matches(root / e.path, e)]
    skipped = [f"{aset.key}/{e.path}" for e in aset.files if e not in todo]
    if not todo:
        return [], skipped
    if mirror_url is None and aset.archive:
        archive = fetch(aset.archive, timeout)
        got = [(e, _from_archive(aset, archive, e)) for e in todo]
    else:
        urls = []
        for entry in todo:
            url = _mirror_url(mirror_url, aset, entry) if mirror_url else entry.url
            if url is None:
                raise ArtefactError(f"manifest gives no URL for {aset.key} file {entry.path}")
            urls.append(url)
        with ThreadPoolExecutor(max_workers=8) as pool:
            bodies = list(pool.map(lambda u: fetch(u, timeout), urls))
        got = list(zip(todo, bodies, strict=True))
    for entry, data in got:
        check_content(aset, entry, data, mirror_url or aset.archive or str(entry.url))
    return got, skipped


def sync(
    home: Path,
    manifest: Manifest | None = None,
    names: Iterable[str] | None = None,
    mirror_url: str | None = None,
    timeout: float = 30.0,
) -> InstallResult:
    """Download and install every set (or those in ``names``) not yet installed intact."""
    manifest = manifest or load_manifest()
    wanted = set(names) if names else None
    result = InstallResult()
    for aset in manifest.sets:
        if wanted is not None and aset.name not in wanted and aset.key not in wanted:
            continue
        if mirror_url is None and not aset.archive and any(e.url is None for e in aset.files):
            result.skipped.append(f"{aset.key} (mirror only: lingang artefacts import)")
            continue
        got, skipped = _download_set(aset, home, mirror_url, timeout)
        result.skipped.extend(skipped)
        for entry, data in got:
            write_atomically(set_root(aset, home) / entry.path, data)
            result.installed.append(f"{aset.key}/{entry.path}")
    return result
