"""The pinned manifest of official artefact sets (``schemas/artefacts.json``).

Each set has a name, a version, the upstream location it comes from and every file with its
SHA-256 and size. A file is fetched from its own ``url``; a set published only as a zip has an
``archive`` URL instead, and each file is found inside that zip by its path. ``mirror`` is the
set's folder inside an offline mirror laid out like ``../shared/reference``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from gateway.errors import ArtefactError
from gateway.resources import schemas_dir

MANIFEST_NAME = "artefacts.json"


@dataclass(frozen=True, slots=True)
class ArtefactFile:
    """One pinned file of a set."""

    path: str
    """Path relative to the set root (``/`` separated)."""
    sha256: str
    size: int
    url: str | None = None
    """Where to download it; ``None`` when the set comes as an archive."""


@dataclass(frozen=True, slots=True)
class ArtefactSet:
    """A named, versioned group of official files installed together."""

    name: str
    version: str
    description: str
    source: str
    """The upstream location (repository, commit, release page)."""
    mirror: str
    """The set's folder in an offline mirror (relative to the mirror root)."""
    files: tuple[ArtefactFile, ...]
    archive: str | None = None
    """URL of a zip holding the files, for sets published only as a bundle."""

    @property
    def key(self) -> str:
        """``name/version``, the way commands and messages name a set."""
        return f"{self.name}/{self.version}"

    def file(self, path: str) -> ArtefactFile:
        """The pinned entry for ``path``; ``ArtefactError`` if the manifest lacks it."""
        for entry in self.files:
            if entry.path == path:
                return entry
        raise ArtefactError(f"artefact set {self.key} has no file {path!r} in the manifest")


@dataclass(frozen=True, slots=True)
class Manifest:
    """All pinned sets."""

    sets: tuple[ArtefactSet, ...]

    def get(self, name: str, version: str | None = None) -> ArtefactSet:
        """The set called ``name`` (the newest listed version when ``version`` is ``None``)."""
        found = [s for s in self.sets if s.name == name and version in (None, s.version)]
        if not found:
            wanted = f"{name}/{version}" if version else name
            raise ArtefactError(f"artefact set {wanted} is not in the manifest")
        return found[-1]

    def to_json(self) -> dict[str, Any]:
        """The manifest as JSON data, in the shape of ``schemas/artefacts.json``."""
        return {"manifest_version": 1, "sets": [_set_to_json(s) for s in self.sets]}


def _set_to_json(aset: ArtefactSet) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": aset.name,
        "version": aset.version,
        "description": aset.description,
        "source": aset.source,
        "mirror": aset.mirror,
    }
    if aset.archive:
        out["archive"] = aset.archive
    out["files"] = [
        {
            k: v
            for k, v in (("path", f.path), ("sha256", f.sha256), ("size", f.size), ("url", f.url))
            if v is not None
        }
        for f in aset.files
    ]
    return out


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _check_paths(aset: ArtefactSet) -> None:
    """Refuse names and paths that could write outside the set's folder."""
    for token in (aset.name, aset.version):
        if not _SAFE_NAME.match(token):
            raise ArtefactError(f"artefact manifest: unsafe set name or version {token!r}")
    for entry in aset.files:
        parts = PurePosixPath(entry.path).parts
        if not parts or entry.path.startswith("/") or ".." in parts or "\\" in entry.path:
            raise ArtefactError(f"artefact manifest: unsafe path {entry.path!r} in {aset.key}")


def manifest_from_json(data: dict[str, Any]) -> Manifest:
    """Build a :class:`Manifest` from its JSON form; ``ArtefactError`` if malformed or unsafe."""
    try:
        sets = tuple(
            ArtefactSet(
                name=str(s["name"]),
                version=str(s["version"]),
                description=str(s.get("description", "")),
                source=str(s["source"]),
                mirror=str(s["mirror"]),
                archive=s.get("archive"),
                files=tuple(
                    ArtefactFile(str(f["path"]), str(f["sha256"]), int(f["size"]), f.get("url"))
                    for f in s["files"]
                ),
            )
            for s in data["sets"]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtefactError(f"the artefact manifest is malformed: {exc!r}") from exc
    for aset in sets:
        _check_paths(aset)
    return Manifest(sets)


def load_manifest(path: Path | None = None) -> Manifest:
    """Read the manifest (default: the project's ``schemas/artefacts.json``)."""
    if path is None:
        return _default_manifest()
    try:
        return manifest_from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtefactError(f"cannot read the artefact manifest {path}: {exc}") from exc


@cache
def _default_manifest() -> Manifest:
    return load_manifest(schemas_dir() / MANIFEST_NAME)
