"""Mapping a parsed fapiao onto an EN 16931 invoice for one of the four target profiles.

``map_invoice`` / ``map_with_warnings`` do the mapping; ``convert`` runs parse → map → render
in one call (the pipeline and ``lingang convert`` share it).
"""

from gateway.mapping.convert import ConvertResult, convert, convert_parsed
from gateway.mapping.mapper import Mapped, ParsedLike, map_invoice, map_with_warnings
from gateway.mapping.profiles import PROFILE_SPECS, ProfileSpec, profile_spec

__all__ = [
    "PROFILE_SPECS",
    "ConvertResult",
    "Mapped",
    "ParsedLike",
    "ProfileSpec",
    "convert",
    "convert_parsed",
    "map_invoice",
    "map_with_warnings",
    "profile_spec",
]
