"""Header references (BT-10 … BT-13, BT-26, BG-24) from the submission, the partner and the 备注.

Order of sources for each: the submission's metadata, then the partner directory, then what
the fapiao's remark states. BT-10 (buyer reference) is what the buyer routes by; it is never
made up. When neither BT-10 nor BT-13 is known and the profile demands one of them
(PEPPOL-EN16931-R003, its PINT SG twin), BT-13 is ``NA`` — the value Peppol documents for "no
purchase order" — and a warning says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace

from gateway.errors import FieldError
from gateway.mapping.profiles import ProfileSpec
from gateway.mapping.remark import RemarkFacts
from gateway.mapping.submission import Submission
from gateway.model import Attachment, Invoice
from gateway.partners import Partner

NOT_AVAILABLE = "NA"


def apply_references(
    inv: Invoice,
    spec: ProfileSpec,
    partner: Partner,
    submission: Submission,
    remark: RemarkFacts,
    confirmation: str | None,
    *,
    sent_invoice_dates: Mapping[str, tuple[str, ...]] | None = None,
) -> list[str]:
    """Set BT-10 … BT-13 and the supporting-document references; returns the warnings.

    ``sent_invoice_dates``: issue dates (ISO) of invoices the tenant sent through the gateway,
    by number; they date a credit note's preceding invoice when the submission does not."""
    warnings: list[str] = []
    inv.contract_ref = submission.contract_reference or remark.contract or inv.contract_ref
    inv.project_ref = submission.project_reference or remark.project or inv.project_ref
    inv.order_ref = (
        submission.order_reference or partner.order_reference or remark.order or inv.order_ref
    )
    warnings += _remark_overridden(
        ("contract", "BT-12", remark.contract, inv.contract_ref),
        ("project", "BT-11", remark.project, inv.project_ref),
        ("purchase order", "BT-13", remark.order, inv.order_ref),
    )
    inv.buyer_reference = (
        submission.buyer_reference or partner.buyer_reference or inv.buyer_reference
    )
    if inv.buyer_reference is None:
        if inv.order_ref:
            warnings.append(
                f"no buyer reference (BT-10) known; the purchase order {inv.order_ref} (BT-13) "
                "is the buyer's routing reference"
            )
        elif spec.requires_buyer_reference:
            inv.order_ref = NOT_AVAILABLE
            warnings.append(
                "no buyer reference (BT-10) or purchase order (BT-13) known: BT-13 is 'NA' "
                f"(required by {spec.name}); send buyer_reference with the submission or add it "
                "to the [[partners]] entry"
            )
        else:
            warnings.append(
                "no buyer reference (BT-10) or purchase order (BT-13) known: the buyer may not "
                "be able to route the invoice"
            )
    warnings += _preceding_invoice_date(inv, submission)
    warnings += _sent_invoice_date(inv, sent_invoice_dates or {})
    for number in remark.customs_declarations:
        inv.attachments.append(
            Attachment(id=number, description="Customs export declaration (出口报关单)")
        )
    confirmation = confirmation or remark.confirmation
    if confirmation and inv.is_credit_note:
        inv.attachments.append(
            Attachment(
                id=confirmation,
                description="Red-letter fapiao confirmation form (红字发票信息确认单)",
            )
        )
    return warnings


def _remark_overridden(*facts: tuple[str, str, str | None, str | None]) -> list[str]:
    """A warning for each reference the fapiao's remark states that the invoice does not
    quote, because the submission or the directory gave another one: the document would
    contradict its legal source without anyone being told. Each fact is (what, business term,
    the remark's value, the value used)."""
    return [
        f"the fapiao's remark names {what} {stated!r}, the invoice quotes {used!r} ({term}) "
        "from the submission or the partner directory; check which one the buyer expects"
        for what, term, stated, used in facts
        if stated and used and stated != used
    ]


def _preceding_invoice_date(inv: Invoice, submission: Submission) -> list[str]:
    """BT-26 from the submission: the issue date of the invoice a credit note credits.

    A red-letter fapiao prints the blue invoice's number (BT-25) but not its date (FORMAT.md
    §7); the exporter knows it. A date later than the credit note's own is refused (no credit
    note credits an invoice issued after it); on an invoice, or a credit note naming no
    preceding invoice (BT-26 needs BT-25, BR-55), the date is ignored with a warning.
    """
    issued = submission.preceding_invoice_date
    if issued is None:
        return []
    if not inv.is_credit_note or not inv.preceding_invoices:
        what = "an invoice" if not inv.is_credit_note else "a credit note naming no invoice"
        return [
            f"preceding_invoice_date {issued} ignored: the document is {what} (BT-26 dates "
            "the preceding invoice, BT-25, of a credit note)"
        ]
    if issued > inv.issue_date:
        raise FieldError(
            f"preceding_invoice_date {issued} is after the credit note's own issue date "
            f"{inv.issue_date}: the invoice it credits ({inv.preceding_invoices[0].number}) "
            "cannot be issued later",
            field="metadata.preceding_invoice_date",
            rule="mapping.preceding-invoice-date",
        )
    first, *rest = inv.preceding_invoices
    inv.preceding_invoices = [replace(first, issue_date=issued), *rest]
    number = first.number
    if _digital_number(number) and number[:2] != f"{issued.year % 100:02d}":
        return [
            f"preceding_invoice_date {issued}: the fapiao number {number} starts with "
            f"{number[:2]}, its issue year's last two digits (FORMAT.md §4), not "
            f"{issued.year % 100:02d}; check the date"
        ]
    return []


def _sent_invoice_date(inv: Invoice, sent: Mapping[str, tuple[str, ...]]) -> list[str]:
    """BT-26 from the store: the issue date of the invoice a credit note credits, when the
    tenant sent that invoice through this gateway and nothing else dated it.

    The red-letter fapiao prints only the blue invoice's number (FORMAT.md §7); the blue
    invoice's own record carries its date. A recorded date after the credit note's own is not
    used (a warning says so): it cannot be the credited invoice's. When the tenant's records
    hold several dates for that number, none is chosen and a warning names them, so that the
    client can send ``preceding_invoice_date``.
    """
    if not inv.is_credit_note or not inv.preceding_invoices:
        return []
    first, *rest = inv.preceding_invoices
    if first.issue_date is not None:
        return []
    recorded = sorted(set(_iso_dates(sent.get(first.number, ()))))
    if len(recorded) > 1:
        found = ", ".join(day.isoformat() for day in recorded)
        return [
            f"preceding invoice {first.number} (BT-25) has {len(recorded)} different issue dates "
            f"in the invoices this tenant sent through the gateway ({found}): BT-26 is left "
            "empty; send preceding_invoice_date to date the invoice this credit note credits"
        ]
    if not recorded:
        return []
    (issued,) = recorded
    if issued > inv.issue_date:
        return [
            f"the invoice {first.number} this tenant sent through the gateway is dated {issued}, "
            f"after this credit note ({inv.issue_date}): its date is not used for BT-26"
        ]
    inv.preceding_invoices = [replace(first, issue_date=issued), *rest]
    return [
        f"preceding invoice {first.number} dated {issued} (BT-26) from the invoice this tenant "
        "sent through the gateway: the red-letter fapiao prints the number only (FORMAT.md §7)"
    ]


def _iso_dates(texts: tuple[str, ...]) -> list[dt.date]:
    """The ISO dates among ``texts`` (any other text is left out)."""
    days: list[dt.date] = []
    for text in texts:
        try:
            days.append(dt.date.fromisoformat(text))
        except ValueError:
            continue
    return days


def _digital_number(number: str) -> bool:
    """Whether ``number`` is a 数电 invoice number (20 digits, the first two its issue year's,
    FORMAT.md §4): a legacy code + number, also 20 digits, starts with 0 or 1 (pilots of 数电
    began in 2021, so a year below 21 is never one)."""
    return len(number) == 20 and number.isdigit() and int(number[:2]) >= 21
