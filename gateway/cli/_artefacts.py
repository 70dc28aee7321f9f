"""Before a command validates: are the official artefacts of *this* profile installed?

A command that validates checks the profile it is about to use and, when its artefacts are
missing, stops with one message that names the profile, the data home it looked in, the
command that installs them, and another data home that has them if there is one (the set-up
scripts import into ``var/*-home`` when ``$LINGANG_HOME`` says so).
"""

from __future__ import annotations

from pathlib import Path

from gateway.cli._io import UsageError
from gateway.errors import ArtefactError
from gateway.settings import HOME_ENV, Settings
from gateway.validation import Validator
from gateway.validation.profiles import DOCUMENT_TYPES, PROFILE_TABLE

MIRROR = Path("../shared/reference")
"""Where the offline mirror sits beside a clone (the README's layout)."""


def require_artefacts(profile: str, doc_type: str | None = None, home: Path | None = None) -> None:
    """Raise :class:`UsageError` (exit 2) unless ``profile``'s artefacts are installed for
    ``doc_type`` (a root element's name; default: the profile's first, ``Invoice`` for UBL,
    ``CrossIndustryInvoice`` for CII)."""
    home = home or Settings.load().artefacts_home
    if doc_type is None:
        spec = PROFILE_TABLE.get(profile)
        doc_type = next(iter(spec.rules), "Invoice") if spec is not None else "Invoice"
    try:
        Validator(home).artefact_paths(profile, doc_type)
    except ArtefactError as exc:
        raise UsageError(missing_message(profile, doc_type, home)) from exc


def missing_message(profile: str, doc_type: str, home: Path) -> str:
    """What is missing and the one command that fixes it."""
    sets = needed_sets(profile, doc_type)
    mirror = str(MIRROR) if MIRROR.is_dir() else "<mirror folder>"
    lines = [
        f"the official artefacts for profile {profile!r} ({', '.join(sets)}) are not installed "
        f"in the data home {home} (${HOME_ENV}, else ~/.lingang).",
        f"Install them with: lingang artefacts import {mirror}   (or: lingang artefacts sync)",
    ]
    other = other_home_with(sets, home)
    if other is not None:
        lines.append(f"They are installed in {other}: run with {HOME_ENV}={other}")
    return "\n".join(lines)


def needed_sets(profile: str, doc_type: str) -> list[str]:
    """The artefact sets ``profile`` uses for ``doc_type`` (XSD set first)."""
    spec = PROFILE_TABLE.get(profile)
    dtype = next((t for t in DOCUMENT_TYPES if t.name == doc_type), None)
    names = [dtype.xsd_set] if dtype is not None else []
    if spec is not None:
        names += [rule.set_name for rule in spec.rules.get(doc_type, ())]
    return list(dict.fromkeys(names))


def other_home_with(sets: list[str], home: Path) -> Path | None:
    """A data home under ``./var`` or ``~/.lingang`` holding all of ``sets``, if any."""
    candidates = [*sorted(Path("var").glob("*-home")), Path.home() / ".lingang"]
    for candidate in candidates:
        if candidate.resolve() == home.resolve():
            continue
        if all((candidate / "artefacts" / name).is_dir() for name in sets):
            return candidate.resolve()
    return None
