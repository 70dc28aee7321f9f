"""The export gate's classification of a DCSA transport document (the conformance template
and variants of it): contact persons and parties that are individuals are personal
information, each with its reason; the defaults decide by what leaves."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

from gateway.partners.data_export import DataExport
from gateway.policy import DEFAULT_POLICY
from gateway.policy.categories import Category
from gateway.policy.decide import ART_3, ART_3_UNREAD
from gateway.policy.ebl import classify_ebl, gate_ebl, gate_enclosure
from gateway.policy.policyfile import load_policy
from gateway.testing.pint import transport_document

DAY = dt.date(2026, 9, 1)
KEY = b"k" * 32


def without_contacts(document: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(document)
    out.pop("partyContactDetails", None)
    for value in out["documentParties"].values():
        for party in value if isinstance(value, list) else [value]:
            (party.get("party") or party).pop("partyContactDetails", None)
    return out


def decide(document: dict[str, Any], **export: Any) -> Any:
    return gate_ebl(
        document, DEFAULT_POLICY, KEY, exporter="AEOT:ZZZ/SHIPPER", destination="SG",
        data_export=DataExport(**export), day=DAY,
    )  # fmt: skip


def test_contact_persons_are_personal_information(reference: Path) -> None:
    classification = classify_ebl(transport_document(reference, "CLS0000001"))
    personal = [f for f in classification.findings if f.category is Category.PERSONAL]
    assert {f.path for f in personal} >= {
        "shipper.partyContactDetails[0].name",
        "shipper.partyContactDetails[0].email",
        "consignee.partyContactDetails[0].name",
    }
    assert all(f.reason for f in classification.findings)
    assert len(classification.subjects()) >= 2  # the same name at two firms: two people
    _, decision, subjects = decide(transport_document(reference, "CLS0000001"))
    assert decision.outcome == "volume" and decision.counted
    assert len(subjects) == len(classification.subjects())


def test_organisations_only_is_exempt_under_art_3(reference: Path) -> None:
    classification, decision, subjects = decide(
        without_contacts(transport_document(reference, "CLS0000002"))
    )
    assert classification.categories == {Category.BUSINESS}
    assert (decision.outcome, decision.article, subjects) == ("allowed", "art-3", [])


def test_an_individual_consignee_s_own_bill_is_art_5_1(reference: Path) -> None:
    document = without_contacts(transport_document(reference, "CLS0000003"))
    consignee = document["documentParties"]["consignee"]
    consignee["partyName"] = "李四（个人）"
    consignee["address"] = {"street": "Orchard Road 1", "city": "Singapore", "countryCode": "SG"}
    classification, decision, subjects = decide(document)
    paths = {f.path: f.category for f in classification.findings}
    assert paths["consignee.name"] is Category.PERSONAL
    assert paths["consignee.address"] is Category.PERSONAL
    assert (decision.article, decision.counted, len(subjects)) == ("art-5-1", False, 1)


def test_an_individual_s_tax_reference_is_sensitive(reference: Path) -> None:
    document = without_contacts(transport_document(reference, "CLS0000004"))
    notify = {"partyName": "王五(个人)", "taxLegalReferences": [
        {"type": "PAN", "countryCode": "CN", "value": "110101199003071234"}]}  # fmt: skip
    document["documentParties"]["notifyParties"] = [notify]
    classification, decision, _ = decide(document)
    assert classification.sensitive
    finding = next(f for f in classification.findings if f.category is Category.SENSITIVE)
    assert finding.path == "notifyParties[0].taxLegalReferences[0]"
    assert decision.outcome == "volume"  # a notify party is no party to the contract
    _, ciio, _ = decide(document, ciio=True)
    assert (ciio.outcome, ciio.article) == ("held", "art-7")


def test_what_the_gate_cannot_read_is_unread(reference: Path, tmp_path: Path) -> None:
    """A document sent with an eBL is not read: ``unread``, decided as unclassified data (Art.
    3, said as such) unless a rule names ``unread``; a positive rule's basis then stands."""
    classification, decision = gate_enclosure(
        "supporting document", "application/pdf", DEFAULT_POLICY, destination="SG",
        data_export=DataExport(), day=DAY,
    )  # fmt: skip
    assert classification.categories == {Category.BUSINESS, Category.UNREAD}
    assert not classification.personal and classification.subjects() == {}
    assert (decision.outcome, decision.article, decision.basis) == (
        "allowed",
        "art-3",
        ART_3_UNREAD,
    )
    (tmp_path / "policy.toml").write_text(
        'version = "v1"\n\n[[negative]]\nid = "read-first"\neffect = "approval"\n'
        'destinations = ["SG"]\ncategories = ["unread"]\n\n'
        '[[positive]]\nid = "hk-trade"\ndestinations = ["HK"]\nbasis = "FTZ guidance 3"\n',
        encoding="utf-8",
    )
    policy = load_policy(tmp_path / "policy.toml")
    for destination, expected in (("SG", ("held", "read-first")), ("HK", ("allowed", "hk-trade"))):
        _, decided = gate_enclosure(
            "carrier's visualisation", "image/png", policy, destination=destination,
            data_export=DataExport(), day=DAY,
        )  # fmt: skip
        assert (decided.outcome, decided.rule) == expected
    _, read, _ = decide(without_contacts(transport_document(reference, "CLS0000009")))
    assert read.basis == ART_3  # what the gate reads keeps the plain basis
