"""Installed artefacts: where they live, importing them from a mirror, checking them.

Layout: ``<data home>/artefacts/<set>/<version>/<path>``. Every file is checked against the
manifest's SHA-256 before it is installed; a file already installed with the right hash is
skipped, so a repeated import is quick. Files are written atomically and durably (temporary
file, fsync, rename, folder fsync).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gateway.artefacts.manifest import ArtefactFile, ArtefactSet, Manifest, load_manifest
from gateway.errors import ArtefactError
from gateway.private_files import fsync_path

INSTALL_HINT = "install them with `lingang artefacts import <mirror>` or `lingang artefacts sync`"


def artefacts_root(home: Path) -> Path:
    """The folder holding every installed set."""
    return home / "artefacts"


def set_root(aset: ArtefactSet, home: Path) -> Path:
    """Where ``aset`` is (or would be) installed."""
    return artefacts_root(home) / aset.name / aset.version


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def file_matches(path: Path, entry: ArtefactFile) -> bool:
    """Whether ``path`` exists with the pinned size and hash."""
    try:
        if path.stat().st_size != entry.size:
            return False
        return sha256_bytes(path.read_bytes()) == entry.sha256
    except OSError:
        return False


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically and durably: a temporary file in the same
    folder is written and ``fsync``-ed, renamed over ``target``, and the folder ``fsync``-ed
    (with every folder this call had to create, and the one holding it). After a crash or a
    power cut ``target`` holds its old content or ``data``, never a part or nothing, and a
    set reported installed stays installed."""
    _make_folders_durably(target.parent)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_path(target.parent)


def _make_folders_durably(folder: Path) -> None:
    """Create ``folder`` and its missing parents, ``fsync``-ing the folder that holds each
    one made (a new folder's name is an entry in its parent, lost in a power cut until the
    parent is synced)."""
    missing: list[Path] = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir(exist_ok=True)
        fsync_path(made.parent)


def check_content(aset: ArtefactSet, entry: ArtefactFile, data: bytes, origin: str) -> None:
    """Refuse ``data`` unless it has the pinned size and hash; the error names the file."""
    actual = sha256_bytes(data)
    if len(data) != entry.size or actual != entry.sha256:
        raise ArtefactError(
            f"integrity check failed for {aset.key} file {entry.path} from {origin}: "
            f"sha256 {actual} ({len(data)} bytes), manifest pins {entry.sha256} "
            f"({entry.size} bytes); refusing to install it",
            field=entry.path,
            rule="artefacts.sha256",
        )


@dataclass
class InstallResult:
    """What an import or sync did."""

    installed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people."""
        return f"{len(self.installed)} files installed, {len(self.skipped)} already up to date"


def import_mirror(
    mirror: Path,
    home: Path,
    manifest: Manifest | None = None,
    names: Iterable[str] | None = None,
) -> InstallResult:
    """Install every set (or those in ``names``) from an offline mirror.

    The mirror is read fully and every file checked before anything of a set is written, so a
    corrupt mirror leaves no half-installed set behind.
    """
    manifest = manifest or load_manifest()
    if not mirror.is_dir():
        raise ArtefactError(f"artefact mirror {mirror} is not a folder", field=str(mirror))
    wanted = set(names) if names else None
    chosen = [
        aset
        for aset in manifest.sets
        if wanted is None or aset.name in wanted or aset.key in wanted
    ]
    _check_mirror_holds(mirror, chosen)
    result = InstallResult()
    for aset in chosen:
        _import_set(aset, mirror / aset.mirror, set_root(aset, home), result)
    return result


def _check_mirror_holds(mirror: Path, sets: list[ArtefactSet]) -> None:
    """Refuse a mirror without the folder of each set to import: a set already installed is
    otherwise skipped without reading the mirror at all, and any folder — a typo, the
    wrong one — was reported "already up to date"."""
    absent = [aset for aset in sets if not (mirror / aset.mirror).is_dir()]
    if not absent:
        return
    if len(absent) == len(sets):
        example = ", ".join(f"{aset.mirror}/" for aset in sets[:2])
        raise ArtefactError(
            f"{mirror} holds none of the pinned artefact sets: it is not a reference mirror "
            f"(one holds folders such as {example}; e.g. ../shared/reference)",
            field=str(mirror),
            rule="artefacts.not-a-mirror",
        )
    missing = ", ".join(f"{aset.key} ({aset.mirror}/)" for aset in absent)
    raise ArtefactError(
        f"{mirror} lacks the artefact sets {missing}; import the others with --set",
        field=str(mirror),
        rule="artefacts.not-a-mirror",
    )


def _import_set(aset: ArtefactSet, source: Path, target: Path, result: InstallResult) -> None:
    pending: list[tuple[ArtefactFile, bytes]] = []
    for entry in aset.files:
        dest = target / entry.path
        if file_matches(dest, entry):
            result.skipped.append(f"{aset.key}/{entry.path}")
            continue
        origin = source / entry.path
        try:
            data = origin.read_bytes()
        except OSError as exc:
            raise ArtefactError(
                f"mirror lacks {aset.key} file {entry.path} (looked at {origin})",
                field=entry.path,
                rule="artefacts.missing",
            ) from exc
        check_content(aset, entry, data, str(origin))
        pending.append((entry, data))
    for entry, data in pending:
        write_atomically(target / entry.path, data)
        result.installed.append(f"{aset.key}/{entry.path}")


@dataclass(frozen=True)
class SetStatus:
    """Installation state of one set."""

    aset: ArtefactSet
    root: Path
    missing: tuple[str, ...]
    corrupt: tuple[str, ...]

    @property
    def installed(self) -> bool:
        """Every file is present (whatever its content)."""
        return not self.missing

    @property
    def intact(self) -> bool:
        """Every file is present with its pinned hash."""
        return not self.missing and not self.corrupt


def set_status(aset: ArtefactSet, home: Path) -> SetStatus:
    """Check every file of ``aset`` in the data directory."""
    root = set_root(aset, home)
    missing: list[str] = []
    corrupt: list[str] = []
    for entry in aset.files:
        path = root / entry.path
        if not path.is_file():
            missing.append(entry.path)
        elif not file_matches(path, entry):
            corrupt.append(entry.path)
    return SetStatus(aset, root, tuple(missing), tuple(corrupt))


def status(home: Path, manifest: Manifest | None = None) -> list[SetStatus]:
    """The state of every set in the manifest."""
    manifest = manifest or load_manifest()
    return [set_status(aset, home) for aset in manifest.sets]


def require_files(
    name: str,
    version: str | None,
    paths: Iterable[str],
    home: Path,
    manifest: Manifest | None = None,
) -> list[Path]:
    """Installed paths of the given files of one set, each checked against its hash.

    Raises :class:`ArtefactError` naming the set, the missing or corrupt files, and the command
    that installs them.
    """
    manifest = manifest or load_manifest()
    aset = manifest.get(name, version)
    root = set_root(aset, home)
    found: list[Path] = []
    problems: list[str] = []
    for rel in paths:
        entry = aset.file(rel)
        path = root / rel
        if not path.is_file():
            problems.append(f"{rel} (missing)")
        elif not file_matches(path, entry):
            problems.append(f"{rel} (sha256 mismatch)")
        found.append(path)
    if problems:
        raise ArtefactError(
            f"official artefact set {aset.key} is not usable in {root}: "
            f"{', '.join(problems)}; {INSTALL_HINT}",
            field=aset.key,
            rule="artefacts.missing",
        )
    return found
