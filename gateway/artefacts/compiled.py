"""Compiled forms of installed artefacts, built once per artefact content and kept.

A compiled form (our faster XSLT of an official Schematron, see
:mod:`gateway.validation.fastrules`) is derived from one installed file by a builder. It is
stored under ``<data home>/compiled/<kind>/<sha256 of the source>.<suffix>``: the name is
the hash of the artefact's bytes as they are now, so an artefact whose content changes (a new
release imported, a file replaced) gets a new compiled form on first use, never a stale one.
``kind`` names the builder and its version; a new builder version builds everything anew.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path

from gateway.artefacts.store import write_atomically

_LOCK = threading.Lock()


def compiled_root(home: Path) -> Path:
    """The folder holding every compiled form of the artefacts in ``home``."""
    return home / "compiled"


def compiled_form(
    source: Path, kind: str, build: Callable[[bytes], bytes], home: Path, suffix: str = "xslt"
) -> Path:
    """The compiled form of ``source`` made by ``build``: built now unless one already
    exists for the file's current content; its path."""
    data = source.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    target = compiled_root(home) / kind / f"{digest}.{suffix}"
    with _LOCK:
        if not target.is_file():
            write_atomically(target, build(data))
    return target
