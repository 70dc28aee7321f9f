"""TSR and EUSR built from transmission records: the counts, and the official rules on every
report we build (empty months, one direction only, mixed months with MLS and reports)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from gateway.errors import FieldError
from gateway.render.mls import DOCUMENT_TYPE_ID as MLS_DOCTYPE
from gateway.render.peppol_reports import (
    EUSR_NS,
    TSR_DOCUMENT_TYPE,
    TSR_NS,
    ReportPeriod,
    render_eusr,
    render_tsr,
)
from gateway.store.peppol_reporting import INCOMING, OUTGOING, Transmission
from gateway.validation import Validator

INVOICE = (
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:cen.eu:en16931:2017"
    "#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
CREDIT_NOTE = INVOICE.replace("Invoice-2::Invoice", "CreditNote-2::CreditNote")
BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
PERIOD = ReportPeriod.of_month("2026-11")


def record(n: int, direction: str, **changes: object) -> Transmission:
    base = Transmission(
        direction=direction,
        transmission_id=f"m{n}",
        instance_id=f"i{n}",
        exchanged_at=datetime(2026, 11, 3, tzinfo=UTC),
        c2_seat="POP000360" if direction == OUTGOING else "PSG000123",
        c3_seat="PSG000123" if direction == OUTGOING else "POP000360",
        doctype_scheme="busdox-docid-qns",
        doctype=INVOICE,
        process_scheme="cenbii-procid-ubl",
        process=BILLING,
        transport_profile="peppol-transport-as4-v2_0",
        c1_country="CN" if direction == OUTGOING else "SG",
        c4_country=None if direction == OUTGOING else "CN",
        end_user_hash=f"user-{n % 3}-{direction}",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def mixed_month(seed: int) -> list[Transmission]:
    rng = random.Random(seed)
    records = []
    for n in range(rng.randint(1, 40)):
        direction = rng.choice([INCOMING, OUTGOING])
        records.append(
            record(
                n,
                direction,
                doctype=rng.choice([INVOICE, CREDIT_NOTE, MLS_DOCTYPE]),
                c1_country=rng.choice(["CN", "SG", "ZZ"]) if direction == INCOMING else "CN",
                end_user_hash=f"user-{rng.randint(0, 5)}",
                c3_seat=rng.choice(["PSG000123", "PDE000777"])
                if direction == OUTGOING
                else "POP000360",
            )
        )
    return records


def _int(root: etree._Element, path: str, ns: str) -> int:
    return int(root.findtext(path.replace("{}", f"{{{ns}}}")) or -1)


CASES = {
    "empty": [],
    "only-outgoing": [record(n, OUTGOING) for n in range(4)],
    "only-incoming": [record(n, INCOMING) for n in range(4)],
    **{f"mixed-{seed}": mixed_month(seed) for seed in range(4)},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_reports_pass_the_official_rules(case: str, engine_validator: Validator) -> None:
    records = CASES[case]
    for xml, profile in (
        (render_tsr(PERIOD, "POP000360", records), "peppol-tsr"),
        (render_eusr(PERIOD, "POP000360", records), "peppol-eusr"),
    ):
        report = engine_validator.validate(xml)
        assert report.profile == profile
        assert not report.findings, report.to_text() + xml.decode()


def test_tsr_counts() -> None:
    records = [
        record(1, OUTGOING),
        record(2, OUTGOING, doctype=CREDIT_NOTE),
        record(3, INCOMING),
        record(4, INCOMING, doctype=MLS_DOCTYPE),
        record(5, OUTGOING, doctype=TSR_DOCUMENT_TYPE),
    ]
    root = etree.fromstring(render_tsr(PERIOD, "POP000360", records))
    assert _int(root, "{}Total/{}Incoming", TSR_NS) == 2  # the MLS counts in TSR
    assert _int(root, "{}Total/{}Outgoing", TSR_NS) == 2  # the report itself does not
    cc = root.findall(f"{{{TSR_NS}}}Subtotal[@type='PerSP-DT-PR-CC']")
    assert len(cc) == 2 and {s.findtext(f"{{{TSR_NS}}}Outgoing") for s in cc} == {"0"}
    header = root.find(f"{{{TSR_NS}}}Header")
    assert header is not None
    assert header.findtext(f"{{{TSR_NS}}}ReportPeriod/{{{TSR_NS}}}EndDate") == "2026-11-30"


def test_eusr_counts_distinct_end_users_and_leaves_out_mls() -> None:
    records = [
        record(1, OUTGOING, end_user_hash="a"),
        record(2, OUTGOING, end_user_hash="a"),
        record(3, OUTGOING, end_user_hash="b"),
        record(4, INCOMING, end_user_hash="a"),
        record(5, INCOMING, end_user_hash="c", doctype=MLS_DOCTYPE),
    ]
    root = etree.fromstring(render_eusr(PERIOD, "POP000360", records))
    full = "{}FullSet/{}"
    assert _int(root, full + "SendingEndUsers", EUSR_NS) == 2
    assert _int(root, full + "ReceivingEndUsers", EUSR_NS) == 1
    assert _int(root, full + "SendingOrReceivingEndUsers", EUSR_NS) == 2


def test_period_and_reporter_checks() -> None:
    assert ReportPeriod.of_month("2024-02").end.isoformat() == "2024-02-29"
    start, end = ReportPeriod.of_month("2026-12").bounds
    assert (start.month, end.year, end.month) == (12, 2027, 1)
    assert ReportPeriod.of_month("2026-01").previous().label == "2025-12"
    for bad in ("2026-13", "26-01", "2026-1", ""):
        with pytest.raises(FieldError, match="YYYY-MM"):
            ReportPeriod.of_month(bad)
    with pytest.raises(FieldError, match="seat id"):
        render_tsr(PERIOD, "not-a-seat", [])


def test_identifiers_of_our_own_documents_are_in_the_code_list(reference: Path) -> None:
    """What a transport puts in the SBDH for a report or an MLS is an active document type
    and process of the official Peppol code lists (v9.7)."""
    from gateway.flows.peppol_out import PEPPOL_IDENTIFIERS

    lists = reference / "phax-peppol-commons/codelists-v9.7"
    doctypes = etree.parse(str(lists / "Peppol Code Lists - Document types v9.7.xml"))
    processes = etree.parse(str(lists / "Peppol Code Lists - Processes v9.7.xml"))
    for ids in PEPPOL_IDENTIFIERS.values():
        (entry,) = doctypes.xpath("//document-type[@value=$v]", v=ids.document_type)
        assert entry.get("state") == "active"
        assert ids.process in entry.xpath("process-id/@value")
        (process,) = processes.xpath("//process[@value=$v]", v=ids.process)
        assert process.get("state") == "active"
