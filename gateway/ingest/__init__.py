"""Ingest: detect and parse Chinese e-fapiao into the canonical invoice.

Inputs (``../shared/reference/fapiao/FORMAT.md``): 数电票 XML (root ``EInvoice``), 数电票 OFD
(custom tags → page text), legacy VAT e-invoice OFD (embedded ``original_invoice.xml``) and
STA 乐企 platform JSON (pinyin keys). Every reader only *locates* values into one neutral
record (:mod:`gateway.ingest.record`); :mod:`gateway.ingest.build` applies the tax logic once.

Public API::

    parsed = parse(data, "auto")          # ParsedInvoice
    parsed.invoice                        # canonical Invoice, faithful to the source
    parsed.facts, parsed.warnings         # FapiaoFacts, [ParseWarning]
    detect(data)                          # "fapiao-xml" | "fapiao-ofd" | "fapiao-ofd-legacy" | "fapiao-json"
"""

from gateway.ingest.api import FORMATS, SOURCE_FORMATS, detect, parse
from gateway.ingest.types import (
    DEFAULT_LIMITS,
    FapiaoFacts,
    IngestLimits,
    ParsedInvoice,
    ParseWarning,
)

__all__ = [
    "DEFAULT_LIMITS",
    "FORMATS",
    "SOURCE_FORMATS",
    "FapiaoFacts",
    "IngestLimits",
    "ParseWarning",
    "ParsedInvoice",
    "detect",
    "parse",
]
