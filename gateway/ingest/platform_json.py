"""STA 乐企 platform JSON. (Being written.)"""

from __future__ import annotations

from gateway.errors import UnknownFormatError
from gateway.ingest.types import IngestLimits, ParsedInvoice


def parse_platform_json(data: bytes, limits: IngestLimits) -> ParsedInvoice:
    """Parse a platform JSON fapiao."""
    raise UnknownFormatError("platform JSON parsing is not available yet", rule="json.unsupported")
