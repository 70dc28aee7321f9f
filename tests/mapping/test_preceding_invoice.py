"""A red-letter fapiao's credit note names the blue invoice it credits: BT-25 from the fapiao,
BT-26 (its issue date, which the red-letter fapiao does not print, FORMAT.md §7) from the
submission's ``preceding_invoice_date``."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import FieldError
from gateway.mapping import Submission
from gateway.validation import Validator
from tests.mapping.fidelity import NS, convert, fapiao, machine_line

BLUE = "26312000000000000102"


@pytest.fixture(scope="module")
def validator(artefacts_home: Path) -> Validator:
    return Validator.default(artefacts_home)


def _red() -> object:
    line = machine_line(amount="-1000.00", tax="-130.00", gross="-1130.00", quantity="-2")
    return fapiao(
        [line],
        number="26312000000000100131",
        issued="2026-11-20 10:15:00",
        blue="N",
        red_original=BLUE,
        red_confirmation="31012026112000000017",
    )


@pytest.mark.parametrize("profile", ["pint-sg", "bis3", "pint", "cii", "bis3-cii"])
def test_the_credited_invoice_is_dated_from_the_submission(
    validator: Validator, profile: str
) -> None:
    out = convert(_red(), profile, validator, metadata={"preceding_invoice_date": "2026-09-20"})
    assert out.fatal == []
    if profile.endswith("cii"):
        ref = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"
        ref += "ram:InvoiceReferencedDocument/"
        assert out.text(ref + "ram:IssuerAssignedID") == BLUE
        assert out.text(ref + "ram:FormattedIssueDateTime/*") == "20260920"
    else:
        ref = "cac:BillingReference/cac:InvoiceDocumentReference/"
        assert out.text(ref + "cbc:ID") == BLUE
        assert out.text(ref + "cbc:IssueDate") == "2026-09-20"
    assert not out.warned("preceding_invoice_date")


def test_without_the_date_the_reference_has_the_number_only(validator: Validator) -> None:
    out = convert(_red(), "bis3", validator)
    assert out.text("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == BLUE
    assert out.root.find("cac:BillingReference//cbc:IssueDate", NS) is None


def test_a_date_after_the_credit_note_is_refused() -> None:
    with pytest.raises(FieldError) as err:
        convert(_red(), "bis3", None, metadata={"preceding_invoice_date": "2026-11-21"})
    assert err.value.field == "metadata.preceding_invoice_date"
    assert err.value.rule == "mapping.preceding-invoice-date"
    assert "2026-11-20" in str(err.value) and BLUE in str(err.value)


def test_a_date_of_another_year_than_the_number_says_is_warned() -> None:
    out = convert(_red(), "bis3", None, metadata={"preceding_invoice_date": "2025-09-20"})
    assert out.text("cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate") == (
        "2025-09-20"
    )
    assert out.warned("preceding_invoice_date 2025-09-20", BLUE, "starts with 26")


def test_on_an_invoice_the_date_is_ignored_with_a_warning() -> None:
    out = convert(fapiao(), "bis3", None, metadata={"preceding_invoice_date": "2026-09-20"})
    assert out.root.find("cac:BillingReference", NS) is None
    assert out.warned("preceding_invoice_date 2026-09-20 ignored", "an invoice")


@pytest.mark.parametrize("text", ["2026-02-30", "20260920", "2026-9-20", "yesterday"])
def test_a_malformed_date_names_the_field(text: str) -> None:
    with pytest.raises(FieldError) as err:
        Submission.from_metadata({"preceding_invoice_date": text})
    assert err.value.field == "metadata.preceding_invoice_date"


# BT-26 from the invoice the tenant sent through the gateway (the job looks it up) -------------


@pytest.mark.parametrize("profile", ["pint-sg", "bis3", "pint", "cii", "bis3-cii"])
def test_the_credited_invoice_is_dated_from_the_one_sent_through_the_gateway(
    validator: Validator, profile: str
) -> None:
    out = convert(_red(), profile, validator, sent_invoice_dates={BLUE: ("2026-09-20",)})
    assert out.fatal == []
    if profile.endswith("cii"):
        ref = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"
        assert out.text(ref + "ram:InvoiceReferencedDocument/ram:FormattedIssueDateTime/*") == (
            "20260920"
        )
    else:
        ref = "cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate"
        assert out.text(ref) == "2026-09-20"
    assert out.warned(BLUE, "2026-09-20", "sent through the gateway")


def test_the_submissions_date_wins_over_the_sent_invoices() -> None:
    out = convert(
        _red(),
        "bis3",
        None,
        metadata={"preceding_invoice_date": "2026-09-19"},
        sent_invoice_dates={BLUE: ("2026-09-20",)},
    )
    assert out.text("cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate") == (
        "2026-09-19"
    )
    assert not out.warned("sent through the gateway")


def test_a_sent_invoice_of_another_number_or_dated_later_is_not_used() -> None:
    other = convert(
        _red(), "bis3", None, sent_invoice_dates={"26312000000000000999": ("2026-09-20",)}
    )
    assert other.root.find("cac:BillingReference//cbc:IssueDate", NS) is None
    later = convert(_red(), "bis3", None, sent_invoice_dates={BLUE: ("2026-11-21",)})
    assert later.root.find("cac:BillingReference//cbc:IssueDate", NS) is None
    assert later.warned(BLUE, "2026-11-21", "not used")


def test_an_invoice_takes_no_date_from_sent_invoices() -> None:
    out = convert(fapiao(), "bis3", None, sent_invoice_dates={BLUE: ("2026-09-20",)})
    assert out.root.find("cac:BillingReference", NS) is None
    assert not out.warned("sent through the gateway")


def test_several_sent_dates_are_named_and_none_is_chosen() -> None:
    """The tenant's records hold two dates for the credited number: BT-26 stays empty and
    the warning says which number, which dates, and what the client can send."""
    out = convert(_red(), "bis3", None, sent_invoice_dates={BLUE: ("2026-09-20", "2026-09-18")})
    assert out.root.find("cac:BillingReference//cbc:IssueDate", NS) is None
    assert out.warned(BLUE, "2026-09-18, 2026-09-20", "BT-26", "preceding_invoice_date")
    assert not out.warned("dated 2026-09-20 (BT-26)")


def test_the_same_date_recorded_twice_is_one_date() -> None:
    out = convert(_red(), "bis3", None, sent_invoice_dates={BLUE: ("2026-09-20", "2026-09-20")})
    assert out.text("cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate") == (
        "2026-09-20"
    )
