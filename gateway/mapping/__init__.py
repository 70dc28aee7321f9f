"""Mapping a parsed fapiao onto an EN 16931 invoice for one of the target profiles.

:func:`map_parsed` is the one entry point (partner and profile lookup, strict checks, mapping);
``map_invoice`` / ``map_with_warnings`` map with a partner already found. One-call parse → map
→ render lives above both, in :mod:`gateway.convert` (the renderers import
:mod:`gateway.mapping.profiles`).
"""

from gateway.mapping.document import MappedDocument, choose_profile, map_parsed
from gateway.mapping.mapper import Mapped, ParsedLike, map_invoice, map_with_warnings
from gateway.mapping.profiles import (
    DETACHED_SIGNATURE_PROFILES,
    PROFILE_NAMES,
    PROFILE_SPECS,
    ProfileSpec,
    profile_spec,
)
from gateway.mapping.submission import METADATA_KEYS, Submission

__all__ = [
    "DETACHED_SIGNATURE_PROFILES",
    "METADATA_KEYS",
    "PROFILE_NAMES",
    "PROFILE_SPECS",
    "Mapped",
    "MappedDocument",
    "ParsedLike",
    "ProfileSpec",
    "Submission",
    "choose_profile",
    "map_invoice",
    "map_parsed",
    "map_with_warnings",
    "profile_spec",
]
