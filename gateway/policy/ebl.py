"""The export gate for bills of lading: classify a DCSA transport document and decide.

An eBL leaves the country when it is transferred over DCSA PINT (or issued straight to
another platform). Its parties are mostly organisations (business data), but it names
people: the contact persons of every party and of the carrier (``partyContactDetails``:
name, phone, e-mail) and any party that is a natural person (its name marked ``（个人）``
or ``(个人)``, as on a fapiao), whose name, address, contacts and tax or legal references
are personal information (a Chinese individual's tax number is the resident ID number:
sensitive). The consignee or shipper who is an individual is a party to the contract of
carriage (Art. 5(1) when no one else's data leaves).

No minimisation: the transport document travels exactly as issued, since every chain entry
signs its checksum; a field removed here would break the title.

The documents that leave with it (supporting documents, the carrier's visualisation) are
opaque to the gate: a PDF or an image is not read, so nothing is found in it, and it is
classified ``unread`` (:func:`gate_enclosure`). A policy rule naming ``unread`` decides it
(e.g. ``effect = "approval"``: someone looks first); without one it is decided as unclassified
data, the policy's default (Art. 3), and its ledger entry says so (categories ``unread``,
basis :data:`~gateway.policy.decide.ART_3_UNREAD`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from gateway.partners.data_export import DataExport
from gateway.policy.categories import Category, Classification, Finding
from gateway.policy.decide import Decision, Flow, decide_rules
from gateway.policy.keys import KeyProvider
from gateway.policy.policyfile import Policy
from gateway.policy.subjects import subject_hashes

EBL_CHANNEL = "dcsa-pint"
"""The ``platform`` a policy rule names for eBL transfers."""
EBL_KIND = "bill-of-lading"
PERSON_MARKS = ("（个人）", "(个人)")
"""How a party that is a natural person is marked in its name (as a fapiao marks a buyer)."""
CONTRACT_ROLES = frozenset({"shipper", "consignee"})
"""Roles whose individual is a party to the contract of carriage (Art. 5(1))."""


def is_natural_person(party: Mapping[str, Any]) -> bool:
    """Whether a DCSA party is a natural person (its name carries a person mark)."""
    name = str(party.get("partyName") or "")
    return any(mark in name for mark in PERSON_MARKS)


def _parties(document: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """``(path, party)`` for every party of the transport document."""
    parties = document.get("documentParties")
    if not isinstance(parties, Mapping):
        return
    for role, value in parties.items():
        if isinstance(value, Mapping) and role != "other":
            yield role, value
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if not isinstance(item, Mapping):
                    continue
                inner = item.get("party")
                yield f"{role}[{index}]", inner if isinstance(inner, Mapping) else item


def _contacts(path: str, contacts: Any, organisation: str) -> Iterator[Finding]:
    """Each contact person: the name, phone and e-mail printed with it are personal."""
    for index, contact in enumerate(contacts if isinstance(contacts, list) else ()):
        if not isinstance(contact, Mapping):
            continue
        name = str(contact.get("name") or "")
        where = f"{path}.partyContactDetails[{index}]"
        if not name:
            for key in ("phone", "email"):
                if contact.get(key):
                    why = f"an organisation's {key} (no person named)"
                    yield Finding(f"{where}.{key}", Category.BUSINESS, why)
            continue
        subject = f"contact:{name}@{organisation}"
        why = "name of a contact person"
        yield Finding(f"{where}.name", Category.PERSONAL, why, subject=subject)
        for key, what in (("phone", "phone number"), ("email", "e-mail address")):
            if contact.get(key):
                why = f"{what} printed with a contact person"
                yield Finding(f"{where}.{key}", Category.PERSONAL, why, subject=subject)


def _person(role: str, party: Mapping[str, Any]) -> Iterator[Finding]:
    name = str(party.get("partyName") or "")
    subject = f"person:{name}"
    path = role
    why = "a party that is a natural person (name marked （个人）)"
    yield Finding(f"{path}.name", Category.PERSONAL, why, subject=subject)
    if party.get("address") or party.get("displayedAddress"):
        why = "address of an individual"
        yield Finding(f"{path}.address", Category.PERSONAL, why, subject=subject)
    for index, contact in enumerate(party.get("partyContactDetails") or ()):
        if isinstance(contact, Mapping) and (contact.get("phone") or contact.get("email")):
            why = "phone or e-mail of an individual"
            yield Finding(f"{path}.partyContactDetails[{index}]", Category.PERSONAL, why,
                          subject=subject)  # fmt: skip
    for index, _ in enumerate(party.get("taxLegalReferences") or ()):
        why = "tax or legal reference of an individual (a Chinese individual's is the ID number)"
        yield Finding(f"{path}.taxLegalReferences[{index}]", Category.SENSITIVE, why,
                      subject=subject)  # fmt: skip


def classify_ebl(document: Mapping[str, Any]) -> Classification:
    """Every party field of a DCSA transport document with its category and reason."""
    findings: list[Finding] = []
    for role, party in _parties(document):
        if is_natural_person(party):
            findings.extend(_person(role, party))
            continue
        name = str(party.get("partyName") or role)
        findings.append(Finding(f"{role}.name", Category.BUSINESS, "an organisation's name"))
        if party.get("address"):
            why = "an organisation's address"
            findings.append(Finding(f"{role}.address", Category.BUSINESS, why))
        findings.extend(_contacts(role, party.get("partyContactDetails"), name))
    carrier = str(document.get("carrierCode") or "carrier")
    findings.extend(_contacts("carrier", document.get("partyContactDetails"), carrier))
    return Classification(tuple(findings))


def only_contract_parties(classification: Classification) -> bool:
    """Whether every individual whose data leaves is the shipper or consignee themself."""
    subjects = set(classification.subjects())
    parties = {
        f.subject
        for f in classification.leaving()
        if f.subject
        and f.path.split(".")[0] in CONTRACT_ROLES
        and f.path.endswith(".name")
        and f.subject.startswith("person:")
    }
    return bool(subjects) and subjects <= parties


def gate_ebl(
    document: Mapping[str, Any],
    policy: Policy,
    subject_key: KeyProvider | bytes,
    *,
    exporter: str,
    destination: str,
    data_export: DataExport,
    day: dt.date,
) -> tuple[Classification, Decision, list[tuple[str, bool]]]:
    """Classify ``document`` and decide by the rules for a transfer to ``destination``
    (ISO country, ``""`` when unknown); ``(classification, decision, subject hashes)``."""
    from dataclasses import replace

    from gateway.policy.decide import ALLOWED, ART_5_1

    classification = classify_ebl(document)
    flow = Flow(destination, EBL_CHANNEL, EBL_KIND, data_export)
    decision = decide_rules(classification, flow, policy, day)
    if (
        decision.article == "volume"
        and not data_export.ciio
        and only_contract_parties(classification)
    ):
        decision = replace(
            decision, outcome=ALLOWED, article="art-5-1", basis=ART_5_1, counted=False
        )
    subjects = subject_hashes(classification.subjects(), subject_key, exporter)
    return classification, decision, subjects


def classify_enclosure(role: str, media_type: str) -> Classification:
    """What the gate knows of a document sent with an eBL (``role``: supporting document,
    carrier's visualisation): nothing it could read (``unread``)."""
    why = f"{role} ({media_type[:100]}): content the gate cannot read"
    return Classification((Finding("content", Category.UNREAD, why),))


def gate_enclosure(
    role: str,
    media_type: str,
    policy: Policy,
    *,
    destination: str,
    data_export: DataExport,
    day: dt.date,
) -> tuple[Classification, Decision]:
    """Classify a document that leaves with an eBL transfer and decide by the rules, as the
    transfer's flow (``dcsa-pint``, ``bill-of-lading``); never count-based (no individual
    is found in what the gate cannot read)."""
    classification = classify_enclosure(role, media_type)
    flow = Flow(destination, EBL_CHANNEL, EBL_KIND, data_export)
    return classification, decide_rules(classification, flow, policy, day)
