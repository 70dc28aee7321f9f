"""Official validation artefacts: the pinned manifest, installing and locating them.

The files themselves are never part of the repository: ``schemas/artefacts.json`` pins each
set (name, version, upstream source, every file's SHA-256) and ``lingang artefacts import`` /
``lingang artefacts sync`` install them into ``<data home>/artefacts/<set>/<version>/``.
"""

from gateway.artefacts.manifest import ArtefactFile, ArtefactSet, Manifest, load_manifest
from gateway.artefacts.store import (
    INSTALL_HINT,
    InstallResult,
    SetStatus,
    artefacts_root,
    import_mirror,
    require_files,
    set_root,
    set_status,
    status,
)
from gateway.artefacts.sync import sync

__all__ = [
    "INSTALL_HINT",
    "ArtefactFile",
    "ArtefactSet",
    "InstallResult",
    "Manifest",
    "SetStatus",
    "artefacts_root",
    "import_mirror",
    "load_manifest",
    "require_files",
    "set_root",
    "set_status",
    "status",
    "sync",
]
