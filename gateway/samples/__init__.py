"""The project's own fictitious sample fapiao (package data), used by ``lingang demo``.

Regenerate with ``python -m gateway.samples.build``; the data lives in
:mod:`gateway.samples.catalogue`. No file here is copied from, or carries values of, any real
invoice.
"""

from __future__ import annotations

from pathlib import Path

SAMPLE_SUFFIXES = (".xml", ".json", ".ofd")


def samples_dir() -> Path:
    """The folder holding the shipped samples."""
    return Path(__file__).resolve().parent


def sample_paths() -> list[Path]:
    """Every shipped sample file, sorted by name."""
    return sorted(p for p in samples_dir().iterdir() if p.suffix in SAMPLE_SUFFIXES)
