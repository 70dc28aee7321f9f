"""OFD fapiao (zip): 数电票 custom tags and legacy embedded XML. (Being written.)"""

from __future__ import annotations

from gateway.errors import UnknownFormatError
from gateway.ingest.types import IngestLimits, ParsedInvoice


def detect_ofd(data: bytes, limits: IngestLimits) -> str:
    """The OFD kind of a zip input."""
    return "fapiao-ofd"


def parse_ofd(data: bytes, limits: IngestLimits) -> ParsedInvoice:
    """Parse an OFD fapiao."""
    raise UnknownFormatError("OFD parsing is not available yet", rule="ofd.unsupported")
