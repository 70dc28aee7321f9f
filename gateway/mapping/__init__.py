"""Mapping a parsed fapiao onto an EN 16931 invoice for one of the four target profiles."""

from gateway.mapping.mapper import Mapped, ParsedLike, map_invoice, map_with_warnings
from gateway.mapping.profiles import PROFILE_SPECS, ProfileSpec, profile_spec

__all__ = [
    "PROFILE_SPECS",
    "Mapped",
    "ParsedLike",
    "ProfileSpec",
    "map_invoice",
    "map_with_warnings",
    "profile_spec",
]
