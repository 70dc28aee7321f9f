"""Payment instructions (BG-16 / BG-17): where the buyer pays, and only on an invoice.

The fapiao prints the seller's bank (开户行, a name) and account number (账号); EN 16931 wants
the account (BT-84), the account *holder* (BT-85: the seller, not the bank) and the bank's BIC
(BT-86). The exporter's directory entry may add a BIC for the printed account and one account
per currency: an invoice is paid into the account registered for its currency. A credit note
is paid by the seller, so it never presents the seller's account as the place to pay.
"""

from __future__ import annotations

import re

from gateway.model import Invoice, PaymentInstructions
from gateway.partners import Exporter

CREDIT_TRANSFER = "30"
"""UNCL4461 30: credit transfer."""
_BIC = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")


def payment_instructions(
    inv: Invoice, printed: PaymentInstructions | None, exporter: Exporter | None
) -> tuple[PaymentInstructions | None, list[str]]:
    """BG-16 for the mapped invoice ``inv`` (currency and type code already final)."""
    warnings: list[str] = []
    if inv.is_credit_note:
        return None, warnings
    registered = exporter.account_for(inv.currency) if exporter is not None else None
    if registered is not None:
        return (
            PaymentInstructions(
                means_code=CREDIT_TRANSFER,
                account_id=registered.account,
                account_name=registered.holder or inv.seller.name,
                provider_id=registered.bic,
                provider_name=registered.bank,
            ),
            warnings,
        )
    if printed is None or not printed.account_id:
        if inv.currency != "CNY" and exporter is not None and exporter.accounts:
            warnings.append(
                f"no {inv.currency} account registered for the exporter: the invoice names no "
                "account to pay into (add [[exporters.accounts]] with currency = "
                f"{inv.currency!r})"
            )
        return None, warnings
    bank = printed.provider_name or printed.provider_id
    bic = exporter.bic if exporter is not None else None
    if printed.provider_id and _BIC.match(printed.provider_id):
        bic, bank = printed.provider_id, printed.provider_name
    if inv.currency != "CNY":
        warnings.append(
            f"the invoice is in {inv.currency} but the only account known is the one printed on "
            f"the fapiao ({printed.account_id}, held in CNY as far as the fapiao says): add an "
            f"[[exporters.accounts]] entry for {inv.currency}"
        )
    return (
        PaymentInstructions(
            means_code=printed.means_code or CREDIT_TRANSFER,
            means_text=printed.means_text,
            remittance_info=printed.remittance_info,
            account_id=printed.account_id,
            account_name=inv.seller.name,
            provider_id=bic,
            provider_name=bank,
        ),
        warnings,
    )
