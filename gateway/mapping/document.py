"""``map_parsed``: the one mapping entry point (the flow's ``map`` stage, ``convert`` and the CLI).

It finds the buyer's partner entry and the exporter, chooses the profile, applies the strict
input checks and maps; rendering and validation are the caller's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.errors import FieldError, MissingFactError
from gateway.mapping.checks import input_conformance
from gateway.mapping.mapper import map_with_warnings
from gateway.mapping.parties import printed_buyer_id, printed_seller_id
from gateway.mapping.profiles import profile_spec
from gateway.mapping.submission import Submission
from gateway.model import Invoice
from gateway.partners import Exporter, Partner, PartnerDirectory

if TYPE_CHECKING:
    from gateway.ingest.types import ParsedInvoice


NO_BUYER = (
    "the fapiao names no buyer: 购买方名称 (BuyerName) is empty and no 购买方纳税人识别号 "
    "(BuyerIdNum) is printed. Every fapiao carries the buyer's name (FORMAT.md: BuyerName "
    "required) and so must the invoice (EN 16931 BR-07, BT-44), and the partner directory "
    "finds the buyer by it: the seller has to issue a fapiao that names the buyer"
)
"""Why a fapiao without a buyer is refused: no [[partners]] entry could match it, so the
directory's usual advice (add an entry) would send the user the wrong way."""


@dataclass(frozen=True, slots=True)
class MappedDocument:
    """A fapiao mapped for one profile, with everything the later stages need to know."""

    invoice: Invoice
    """The invoice prepared for :attr:`profile` (render it with ``gateway.render.render``)."""
    profile: str
    partner: Partner
    """The buyer's directory entry."""
    exporter: Exporter | None
    warnings: list[str]
    """Parser warnings (``code: message``) then mapper warnings, as text for people."""


def choose_profile(
    partner: Partner, profile: str | None, default_profile: str | None, buyer: str
) -> str:
    """``profile``, else the partner's preferred one, else the default; checked to exist."""
    chosen = profile or partner.profile or default_profile
    if chosen is None:
        raise MissingFactError(
            f"target profile for buyer {buyer!r}: pass --to (or `profile` in the submission "
            "metadata), add `profile` to its [[partners]] entry, or configure a default",
            field="partners.profile",
        )
    profile_spec(chosen)
    return chosen


def map_parsed(
    parsed: ParsedInvoice,
    directory: PartnerDirectory,
    *,
    profile: str | None = None,
    default_profile: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    strict: bool = False,
    sent_invoice_dates: Mapping[str, tuple[str, ...]] | None = None,
) -> MappedDocument:
    """Map a parsed fapiao for its buyer.

    ``profile`` is the explicit choice (submission metadata ``profile`` or ``--to``); without
    it the partner's preferred profile, then ``default_profile``, else a
    :class:`~gateway.errors.MissingFactError` naming ``partners.profile``.

    ``metadata`` is the submission's metadata as the client sent it; the mapper reads these
    keys (others are ignored; a malformed value is a ``FieldError`` naming ``metadata.<key>``):

    * ``exchange_rate`` — CNY per one unit of the invoice currency, for this invoice (decimal
      text). Wins over the partner's standing rate; against the rate the fapiao's remark
      states, the more precise of two agreeing rates is used and a conflict is refused (rule
      ``fx.conflict``); a rate more than 10 % from the partner's standing rate is refused
      (rule ``fx.standing-rate``).
    * ``currency`` — the invoice currency (BT-5, ISO 4217) for this invoice, instead of the
      partner's ``currency``.
    * ``buyer_reference`` — BT-10, the reference the buyer routes by.
    * ``order_reference`` — BT-13, the buyer's purchase order.
    * ``contract_reference`` — BT-12.
    * ``project_reference`` — BT-11.

    ``strict`` turns the input's schema findings and non-conformant identifiers into a
    ``FieldError`` (rule ``strict.input``); without it they are loud warnings.

    ``sent_invoice_dates`` are the issue dates (ISO) of invoices the tenant sent through the
    gateway, by number (the job looks them up): a credit note's preceding invoice (BT-25)
    that neither the fapiao nor ``preceding_invoice_date`` dates is dated from them (BT-26)
    when they hold one date for it, and a warning names them when they hold several.
    """
    source = parsed.invoice
    submission = Submission.from_metadata(metadata)
    warnings = input_conformance(parsed.warnings, strict=strict)
    buyer_id = printed_buyer_id(source.buyer)
    if not (source.buyer.name or "").strip() and not buyer_id:
        raise FieldError(NO_BUYER, field="BuyerName", rule="mapping.buyer-named")
    partner = directory.find_partner(source.buyer.name, buyer_id)
    chosen = choose_profile(partner, profile, default_profile, source.buyer.name)
    exporter = directory.find_exporter(printed_seller_id(source.seller))
    mapped = map_with_warnings(
        parsed,
        partner,
        exporter,
        chosen,
        submission=submission,
        sent_invoice_dates=sent_invoice_dates,
    )
    return MappedDocument(
        invoice=mapped.invoice,
        profile=chosen,
        partner=partner,
        exporter=exporter,
        warnings=warnings + mapped.warnings,
    )
