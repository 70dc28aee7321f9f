"""Every default decision of the 2024 Provisions, with documents that do and do not carry
personal information; negative list and positive guidance; thresholds and filings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gateway.partners.data_export import DataExport, Filing
from gateway.policy import Category, Counts, decide_volume, load_policy
from gateway.policy.decide import VOLUME, Decision
from tests.policy.support import PERSON_ID, company, gate, personal, with_contact

DAY = dt.date(2026, 9, 1)
SCC = {"kind": "standard-contract", "reference": "SH-SCC-2026-7", "valid_from": "2026-01-01"}
ASSESSMENT = {
    "kind": "security-assessment", "reference": "CAC-SA-2026-3",
    "valid_from": "2026-01-01", "expires": "2028-12-31",
}  # fmt: skip


def volume(counts: Counts, data_export: DataExport | None = None) -> Decision:
    pending = Decision(VOLUME, "volume", policy_version="v1", counted=True)
    return decide_volume(pending, data_export or DataExport(), counts, DAY)


# Art. 3 ------------------------------------------------------------------------------------


def test_trade_data_without_personal_information_is_exempt_art_3() -> None:
    result = gate(company())
    assert result.decision.allowed and result.decision.article == "art-3"
    assert result.classification.categories == {Category.BUSINESS}
    assert result.subjects == []
    clerk = [f for f in result.classification.findings if f.path == "Drawer"]
    assert clerk and clerk[0].category is Category.PERSONAL and not clerk[0].leaves
    assert "embedded original: Drawer masked" in result.minimised


def test_the_clerks_name_is_personal_information_when_it_leaves() -> None:
    from dataclasses import replace

    from gateway.policy import DEFAULT_POLICY
    from gateway.policy.policyfile import Minimisation

    policy = replace(DEFAULT_POLICY, minimisation=Minimisation(mask_clerk=False))
    result = gate(company(), policy=policy)
    assert result.decision.outcome == VOLUME  # a third party's data: the counts decide
    assert len(result.subjects) == 1


# Art. 5(1) ---------------------------------------------------------------------------------


def test_a_personal_buyers_own_invoice_is_exempt_art_5_1() -> None:
    result = gate(personal())
    assert result.decision.allowed and result.decision.article == "art-5-1"
    assert Category.PERSONAL in result.classification.categories
    assert len(result.subjects) == 1
    paths = {f.path: f for f in result.classification.findings}
    assert paths["buyer.name"].category is Category.PERSONAL and paths["buyer.name"].leaves
    assert paths["buyer.id"].category is Category.SENSITIVE and not paths["buyer.id"].leaves
    assert paths["buyer.phone"].category is Category.PERSONAL and not paths["buyer.phone"].leaves
    assert "（个人）" in paths["buyer.name"].reason


def test_a_personal_buyer_plus_another_individual_is_not_art_5_1() -> None:
    result = gate(with_contact(buyer_name="张三（个人）", buyer_id=PERSON_ID),
                  partner={"buyer_name": "张三（个人）"})  # fmt: skip
    assert result.decision.outcome == VOLUME and len(result.subjects) == 2


# Art. 5(4), 8, 7 by volume -----------------------------------------------------------------


def test_a_contact_persons_name_is_counted_art_5_4_below_100000() -> None:
    result = gate(with_contact())
    assert result.decision.outcome == VOLUME and len(result.subjects) == 1
    contact = [f for f in result.classification.findings if f.path == "buyer.contact"]
    assert contact[0].category is Category.PERSONAL and contact[0].leaves
    final = volume(Counts(personal=99_999))
    assert final.allowed and final.article == "art-5-4" and final.counted
    assert "100,000" in final.basis


def test_100000_individuals_need_an_art_8_filing() -> None:
    held = volume(Counts(personal=100_000))
    assert not held.allowed and held.article == "art-8" and "standard-contract" in held.reason
    filed = volume(Counts(personal=100_000), DataExport(filings=(Filing.from_json(SCC),)))
    assert filed.allowed and filed.basis.startswith("Art. 8: standard-contract SH-SCC-2026-7")


def test_sensitive_information_of_fewer_than_10000_needs_art_8() -> None:
    held = volume(Counts(personal=3, sensitive=1))
    assert not held.allowed and held.article == "art-8"
    cert = Filing("certification", "PIPC-1", dt.date(2024, 1, 1), dt.date(2027, 1, 1))
    assert volume(Counts(personal=3, sensitive=9_999), DataExport(filings=(cert,))).allowed


@pytest.mark.parametrize("counts", [Counts(personal=1_000_000), Counts(10_000, 10_000)])
def test_1000000_individuals_or_10000_sensitive_need_an_art_7_assessment(counts: Counts) -> None:
    scc = DataExport(filings=(Filing.from_json(SCC),))
    held = volume(counts, scc)
    assert not held.allowed and held.article == "art-7"
    approved = DataExport(filings=(Filing.from_json(ASSESSMENT),))
    final = volume(counts, approved)
    assert final.allowed and "CAC-SA-2026-3" in final.basis and "2028-12-31" in final.basis


def test_an_expired_filing_is_no_basis() -> None:
    old = Filing("standard-contract", "OLD", dt.date(2020, 1, 1), dt.date(2025, 12, 31))
    assert not volume(Counts(personal=100_000), DataExport(filings=(old,))).allowed


def test_warnings_at_80_percent_of_each_threshold() -> None:
    assert volume(Counts(personal=79_999)).warnings == ()
    (warning,) = volume(Counts(personal=80_000)).warnings
    assert "80,000 of 100,000" in warning and "80%" in warning
    assert volume(Counts(personal=800_000), DataExport(filings=(Filing.from_json(SCC),))).warnings
    assert any("8,000 of 10,000" in w for w in volume(Counts(8_000, 8_000)).warnings)


def test_thresholds_are_per_exporter_configuration() -> None:
    small = DataExport(exempt_below=3, assessment_from=5, sensitive_assessment_from=2)
    assert volume(Counts(personal=2), small).allowed
    assert volume(Counts(personal=3), small).article == "art-8"
    assert volume(Counts(personal=5), small).article == "art-7"


def test_a_ciio_exporter_needs_an_assessment_for_any_personal_information() -> None:
    result = gate(with_contact(), exporter={"data_export": {"ciio": True}})
    assert not result.decision.allowed and result.decision.article == "art-7"
    approved = gate(
        with_contact(), exporter={"data_export": {"ciio": True, "filings": [ASSESSMENT]}}
    )
    assert approved.decision.allowed and approved.decision.article == "art-7"
    assert gate(company(), exporter={"data_export": {"ciio": True}}).decision.article == "art-3"


# important data, negative list, positive guidance -------------------------------------------


POLICY = """version = "2026-09-01"

[[important_data]]
id = "machine-tools"
notice = "Notice 2026-12 of the competent authority"
keywords = ["数控机床"]
"""


def test_important_data_needs_an_art_7_assessment(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(POLICY, encoding="utf-8")
    policy = load_policy(tmp_path / "p.toml")
    result = gate(company(), policy=policy)
    assert not result.decision.allowed and result.decision.article == "art-7"
    assert "important data" in result.decision.reason
    finding = next(f for f in result.classification.findings if f.category is Category.IMPORTANT)
    assert "Notice 2026-12" in finding.reason
    approved = gate(company(), policy=policy, exporter={"data_export": {"filings": [ASSESSMENT]}})
    assert approved.decision.allowed and approved.decision.policy_version == "2026-09-01"


LISTS = """version = "lists-1"

[[negative]]
id = "no-personal-to-hk"
effect = "approval"
destinations = ["HK"]
categories = ["personal"]
reason = "personal data to HK needs the zone's approval"
source = "FTZ negative list 2024, item 4"

[[negative]]
id = "no-bis3-credit-notes"
effect = "forbid"
platforms = ["bis3"]
kinds = ["credit-note"]

[[positive]]
id = "sg-contacts"
destinations = ["SG"]
categories = ["personal"]
basis = "FTZ positive guidance 2024, item 2 (trade contacts to Singapore)"
keep = ["buyer.phone"]
"""


def test_negative_list_and_positive_guidance(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(LISTS, encoding="utf-8")
    policy = load_policy(tmp_path / "p.toml")
    hk = gate(with_contact(), policy=policy, partner={"country": "HK"})
    assert not hk.decision.allowed and hk.decision.rule == "no-personal-to-hk"
    assert "needs an approval" in hk.decision.reason and "FTZ negative list" in hk.decision.reason
    assert gate(company(), policy=policy, partner={"country": "HK"}).decision.article == "art-3"
    sg = gate(with_contact(), policy=policy)
    assert sg.decision.allowed and sg.decision.article == "positive"
    assert "item 2" in sg.decision.basis and not sg.decision.counted
    assert gate(company(), policy=policy).decision.article == "art-3"


def test_a_rule_can_keep_what_minimisation_would_mask(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(LISTS, encoding="utf-8")
    kept = gate(personal(), policy=load_policy(tmp_path / "p.toml"))
    assert kept.mapped.invoice.buyer.contact is not None
    assert kept.mapped.invoice.buyer.contact.telephone == "13812345678"
    masked = gate(personal())
    assert masked.mapped.invoice.buyer.contact is not None
    assert masked.mapped.invoice.buyer.contact.telephone == "138****5678"


def test_distinct_individuals_and_keyed_hashes() -> None:
    one = gate(with_contact("Tan"))
    again = gate(with_contact("Tan", number="26312000000000100002"))
    other = gate(with_contact("Lim"))
    assert one.subjects == again.subjects != other.subjects
    ((digest, sensitive),) = one.subjects
    assert len(digest) == 64 and "Tan" not in digest and sensitive is False


COVERAGE = """version = "coverage-1"

[[positive]]
id = "sg-trade"
destinations = ["SG"]
categories = ["business"]
basis = "FTZ positive guidance, item 3 (trade data to Singapore)"

[[positive]]
id = "hk-contacts"
destinations = ["HK"]
categories = ["personal"]
basis = "FTZ positive guidance, item 5 (buyers' contacts to Hong Kong)"
keep = ["buyer.phone", "buyer.id"]
"""


def test_positive_guidance_covers_only_the_categories_it_names(tmp_path: Path) -> None:
    """Guidance for trade data does not cover a document carrying personal information, and
    guidance for personal information not one carrying sensitive information: those are
    decided by the Provisions' defaults (counted), never on the rule's basis."""
    (tmp_path / "p.toml").write_text(COVERAGE, encoding="utf-8")
    policy = load_policy(tmp_path / "p.toml")
    trade = gate(company(), policy=policy)
    assert (trade.decision.article, trade.decision.rule) == ("positive", "sg-trade")
    contact = gate(with_contact(), policy=policy)
    assert contact.decision.outcome == VOLUME and contact.decision.counted
    assert contact.decision.rule is None and len(contact.subjects) == 1
    hk_contact = gate(with_contact(), policy=policy, partner={"country": "HK"})
    assert (hk_contact.decision.article, hk_contact.decision.rule) == ("positive", "hk-contacts")


def test_a_rules_keep_applies_only_when_the_rule_allows_the_export(tmp_path: Path) -> None:
    """The document also carries important data, which the rule does not name: it is
    minimised as without the rule (the phone masked) and needs an Art. 7 approval."""
    (tmp_path / "p.toml").write_text(COVERAGE + POLICY.split("\n", 1)[1], encoding="utf-8")
    policy = load_policy(tmp_path / "p.toml")
    result = gate(personal(), policy=policy, partner={"country": "HK"})
    assert (result.decision.outcome, result.decision.article) == ("held", "art-7")
    assert result.decision.rule is None and result.classification.important
    buyer = result.mapped.invoice.buyer
    assert buyer.contact is not None and buyer.contact.telephone == "138****5678"
    assert "buyer.phone masked" in result.minimised


def test_a_negative_rule_on_personal_information_matches_sensitive_information() -> None:
    """Sensitive personal information is personal information (PIPL Art. 28)."""
    from gateway.policy.categories import Classification, Finding
    from gateway.policy.decide import Flow, decide_rules
    from gateway.policy.policyfile import Policy, Rule

    rule = Rule("no-pi-to-xx", "approval", categories=frozenset({Category.PERSONAL}))
    policy = Policy("v1", negative=(rule,))
    found = Finding("buyer.id", Category.SENSITIVE, "ID-card number", subject="id:1")
    decision = decide_rules(Classification((found,)), Flow("XX", "pint", "invoice"), policy, DAY)
    assert (decision.outcome, decision.rule) == ("held", "no-pi-to-xx")


def test_an_unknown_destination_is_held_by_a_negative_rule_naming_countries() -> None:
    """A partner platform without its ``country`` could be anywhere: a negative-list rule
    naming destinations holds the flow, saying so; positive guidance naming destinations
    never covers it."""
    from gateway.policy.categories import Classification, Finding
    from gateway.policy.decide import Flow, decide_rules
    from gateway.policy.policyfile import Policy, Rule

    negative = Rule("no-pi-to-xx", "approval", destinations=frozenset({"XX"}),
                    categories=frozenset({Category.PERSONAL}))  # fmt: skip
    positive = Rule("trade-to-sg", "allow", destinations=frozenset({"SG"}), basis="guidance 1")
    found = Finding("shipper.contact", Category.PERSONAL, "contact", subject="contact:a")
    personal_data = Classification((found,))
    flow = Flow("", "dcsa-pint", "bill-of-lading")
    held = decide_rules(personal_data, flow, Policy("v1", negative=(negative,)), DAY)
    assert (held.outcome, held.rule) == ("held", "no-pi-to-xx")
    assert "destination country is unknown" in held.reason
    trade = Classification(())
    assert decide_rules(trade, flow, Policy("v1", negative=(negative,)), DAY).article == "art-3"
    not_covered = decide_rules(trade, flow, Policy("v1", positive=(positive,)), DAY)
    assert not_covered.article == "art-3" and not_covered.rule is None
    known = decide_rules(personal_data, Flow("SG", "dcsa-pint", "bill-of-lading"),
                         Policy("v1", negative=(negative,)), DAY)  # fmt: skip
    assert known.outcome == VOLUME
