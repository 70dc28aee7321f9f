"""Header references (BT-10 … BT-13, BG-24) from the submission, the partner and the 备注.

Order of sources for each: the submission's metadata, then the partner directory, then what
the fapiao's remark states. BT-10 (buyer reference) is what the buyer routes by; it is never
made up. When neither BT-10 nor BT-13 is known and the profile demands one of them
(PEPPOL-EN16931-R003, its PINT SG twin), BT-13 is ``NA`` — the value Peppol documents for "no
purchase order" — and a warning says so.
"""

from __future__ import annotations

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
) -> list[str]:
    """Set BT-10 … BT-13 and the supporting-document references; returns the warnings."""
    warnings: list[str] = []
    inv.contract_ref = submission.contract_reference or remark.contract or inv.contract_ref
    inv.project_ref = submission.project_reference or remark.project or inv.project_ref
    inv.order_ref = (
        submission.order_reference or partner.order_reference or remark.order or inv.order_ref
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
