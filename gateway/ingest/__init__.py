"""Ingest: detect and parse Chinese e-fapiao into the canonical invoice.

Inputs (``../shared/reference/fapiao/FORMAT.md``): 数电票 XML (root ``EInvoice``), 数电票 OFD
(custom tags → page text), legacy VAT e-invoice OFD (embedded ``original_invoice.xml``) and
STA 乐企 platform JSON (pinyin keys); a download bundle (zip with the XML / OFD / PDF of one
invoice) is read through its XML. Every reader only *locates* values into one neutral
record (:mod:`gateway.ingest.record`); :mod:`gateway.ingest.build` applies the tax logic once.

Public API::

    parsed = parse(data, "auto")          # ParsedInvoice
    parsed.invoice                        # canonical Invoice, faithful to the source
    parsed.facts, parsed.warnings         # FapiaoFacts, [ParseWarning]
    detect(data)                          # "fapiao-xml" | "fapiao-ofd" | "fapiao-ofd-legacy" | "fapiao-json"

Faithful, not strict: what can be read is read and anything odd becomes a :class:`ParseWarning`
(``code`` below); only what the invoice cannot exist without (number, date, totals, line
amounts and rates), or what states one of them two ways (a field given twice with different
values, ``fapiao.repeated``; a line's tax against its rate, ``fapiao.tax-case``; a gross
recomputed against the amount in words, ``fapiao.gross-words``), or a value no issued fapiao
prints (a quantity or unit price beyond its 25 characters, ``fapiao.number-length``), raises a
:class:`~gateway.errors.FieldError` naming the source path.

=================================  ==========================================================
warning codes                      meaning
=================================  ==========================================================
``uscc.check-digit``               GB 32100 check character wrong (``uscc.org-code-check``:
                                   the GB 11714 check inside it); ``uscc.format``,
                                   ``party.id-format``: not a well-formed id
``sta.*``                          a tax-bureau issuing rule or arithmetic tolerance
                                   (see :mod:`gateway.ingest.checks`): ``sta.line-tax-tolerance``,
                                   ``sta.total-tax-tolerance``, ``sta.number-year`` …
``xsd``                            a finding of the project's own schema
                                   (``schemas/fapiao-einvoice.xsd``), element path + expectation
``fapiao.*``                       read with a caveat: red inferred, gross recomputed, amount in
                                   words differs, text in a number field ignored …
``red.no-blue-reference``          a red-letter fapiao that names no blue invoice
``ofd.*``                          OFD only: CustomDatas disagree with the tags, columns that do
                                   not line up, net taken from CustomDatas …
=================================  ==========================================================

The STA specification's XML example (a *template*: field labels where values belong) parses:
its structure is valid; every label in a value field is reported (``xsd`` and
``party.id-format`` / ``fapiao.number``) and then ignored or kept as text — never turned into a
number or a reference.
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
