"""Classification: every field of an outbound invoice that concerns a person or is declared
important, with the reason, and whether its value still leaves after minimisation.

The fapiao as received is classified (its buyer, contacts, issuing clerk (and a legacy
invoice's payee and checker, and the staff its remark names), special-business
blocks, resident ID numbers written into its remark or 附加要素, and lines); a value *leaves*
when it occurs in the outgoing invoice — its business terms or an embedded attachment such as
the original fapiao (BT-125). The distinct natural persons whose data leaves are the
document's personal-information subjects. Data the source holds but the mapping or the
minimisation kept back (a buyer's ID-card number, one written into the remark) is listed
too, as not leaving: the record says what the document held, and the counts only what left.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from gateway.mapping.resident_ids import canonical_id, resident_ids_in
from gateway.model import Invoice
from gateway.model.party import IdScheme, Party
from gateway.policy.categories import Category, Classification, Finding
from gateway.policy.policyfile import ImportantData
from gateway.policy.remark_staff import KEEP as STAFF_IN_REMARK
from gateway.policy.remark_staff import staff_in

if TYPE_CHECKING:
    from gateway.ingest.types import ParsedInvoice

PASSENGER_BLOCK = "PassengerTransportation"
MEDICAL_BLOCKS = ("MedicalService-Outpatient", "MedicalServices-Inpatient")
_PERSON_KEYS = {
    PASSENGER_BLOCK: ("ValidIDNumber", "Traveler"),
    MEDICAL_BLOCKS[0]: ("MedicalInsuranceID", "PatientNumber", "BizCode"),
    MEDICAL_BLOCKS[1]: ("MedicalInsuranceID", "HospitalizationNumber", "CaseNumber", "BizCode"),
}
_LEGACY_STAFF = (("payee", "payee (收款人)"), ("checker", "checker (复核人)"))
"""The seller's staff a legacy VAT e-invoice names besides the clerk (``Payee``, ``Checker``)."""
_MIN_VALUE = 2
"""Shorter values are not looked for in the outgoing text (they would match by chance)."""


def outgoing_text(invoice: Invoice) -> str:
    """Everything that leaves with ``invoice`` where a person's data can be: its parties,
    delivery, notes, references, lines (names, descriptions, notes, attributes) and each
    attachment's description and content (as text)."""
    parts: list[str] = []
    for party in (invoice.seller, invoice.buyer, invoice.payee, invoice.tax_representative):
        if party is not None:
            _party_text(party, parts)
    if invoice.delivery is not None:
        parts.append(invoice.delivery.party_name or "")
        if invoice.delivery.address is not None:
            parts += _texts(invoice.delivery.address)
    parts += invoice.notes
    parts += [v for v in (invoice.buyer_reference, invoice.contract_ref, invoice.order_ref,
                          invoice.project_ref, invoice.invoiced_object_id) if v]  # fmt: skip
    if invoice.payment is not None:
        parts += _texts(invoice.payment)
    for line in invoice.lines:
        item = line.item
        parts += [item.name, item.description or "", line.note or ""]
        parts += [f"{a.name} {a.value}" for a in item.attributes]
    for attachment in invoice.attachments:
        parts.append(attachment.description or "")
        if attachment.content:
            parts.append(attachment.content.decode("utf-8", "replace"))
    return "\n".join(parts)


def _party_text(party: Party, parts: list[str]) -> None:
    parts += [party.name, party.trading_name or "", party.vat_id or "", party.legal_info or ""]
    parts += [i.value for i in party.identifiers]
    if party.legal_registration is not None:
        parts.append(party.legal_registration.value)
    for part in (party.address, party.contact):
        if part is not None:
            parts += _texts(part)


def _texts(record: object) -> list[str]:
    """The text fields of a small record (address, contact, payment instructions)."""
    return [v for f in dataclasses.fields(record) if isinstance(v := getattr(record, f.name), str)]  # type: ignore[arg-type]


def classify(
    parsed: ParsedInvoice, outgoing: Invoice, important: Sequence[ImportantData] = ()
) -> Classification:
    """Classify the fapiao ``parsed`` as it leaves in ``outgoing``."""
    text = outgoing_text(outgoing)

    def leaves(value: str | None) -> bool:
        return bool(value) and len(value or "") >= _MIN_VALUE and (value or "") in text

    findings = [
        dataclasses.replace(f, leaves=leaves(value)) for f, value in _findings(parsed, important)
    ]
    return Classification(tuple(findings))


def _findings(
    parsed: ParsedInvoice, important: Sequence[ImportantData]
) -> Iterator[tuple[Finding, str | None]]:
    invoice = parsed.invoice
    yield from _buyer(invoice.buyer)
    account = parsed.facts.extra.get("buyer_bank_account")
    if account and invoice.buyer.is_natural_person:
        why = "bank-card number of an individual (购买方账号)"
        subject = _buyer_subject(invoice.buyer)
        yield Finding("buyer.bank_account", Category.SENSITIVE, why, subject=subject), account
    yield from _contact(invoice.seller, "seller")
    drawer = parsed.facts.drawer
    if drawer:
        subject = f"clerk:{drawer}@{_org_key(invoice.seller)}"
        reason = "name of the issuing clerk (开票人), a natural person"
        yield Finding("Drawer", Category.PERSONAL, reason, subject=subject), drawer
    for key, role in _LEGACY_STAFF:
        name = parsed.facts.extra.get(key)
        if name:
            subject = f"clerk:{name}@{_org_key(invoice.seller)}"
            reason = f"name of the {role}, a natural person"
            yield Finding(key.capitalize(), Category.PERSONAL, reason, subject=subject), name
    for role, name in staff_in(parsed.facts.remark):
        subject = f"clerk:{name}@{_org_key(invoice.seller)}"
        reason = f"name of the {role} written into the remark (备注), a natural person"
        yield Finding(STAFF_IN_REMARK, Category.PERSONAL, reason, subject=subject), name
    yield from _special_blocks(parsed.facts.special)
    yield from _written_ids(parsed.facts.remark, parsed.facts.extra)
    yield from _lines(invoice, important)


def _org_key(party: Party) -> str:
    ident = party.legal_registration or (party.identifiers[0] if party.identifiers else None)
    return ident.value if ident is not None else party.name


def _buyer(buyer: Party) -> Iterator[tuple[Finding, str | None]]:
    if not buyer.is_natural_person:
        yield Finding("buyer.name", Category.BUSINESS, "an organisation's name"), buyer.name
        yield from _contact(buyer, "buyer")
        return
    subject = _buyer_subject(buyer)
    reason = "personal buyer (自然人; name marked （个人）)"
    yield Finding("buyer.name", Category.PERSONAL, reason, subject=subject), buyer.name
    for ident in buyer.identifiers:
        if ident.scheme == IdScheme.CN_RESIDENT_ID:
            why = "ID-card number (居民身份证号码) of an individual"
            yield Finding("buyer.id", Category.SENSITIVE, why, subject=subject), ident.value
    if buyer.address is not None and buyer.address.street:
        why = "address of an individual"
        yield (
            Finding("buyer.address", Category.PERSONAL, why, subject=subject),
            buyer.address.street,
        )
    contact = buyer.contact
    if contact is not None:
        if contact.telephone:
            why = "phone number of an individual"
            yield Finding("buyer.phone", Category.PERSONAL, why, subject=subject), contact.telephone
        if contact.email:
            why = "e-mail address of an individual"
            yield Finding("buyer.email", Category.PERSONAL, why, subject=subject), contact.email
        if contact.name and contact.name != buyer.name:
            why = "name of a contact person (经办人)"
            key = f"contact:{contact.name}@{subject}"
            yield Finding("buyer.contact", Category.PERSONAL, why, subject=key), contact.name


def _buyer_subject(buyer: Party) -> str:
    """A personal buyer's identity key: the ID-card number, else the name."""
    resident = next((i for i in buyer.identifiers if i.scheme == IdScheme.CN_RESIDENT_ID), None)
    return f"id:{resident.value}" if resident is not None else f"name:{buyer.name}"


def _contact(party: Party, role: str) -> Iterator[tuple[Finding, str | None]]:
    """An organisation's contact: the person's name is personal information, and so are the
    phone and e-mail printed with it; an organisation's own phone is business data."""
    contact = party.contact
    if contact is None:
        return
    if not contact.name:
        if contact.telephone:
            why = "an organisation's phone number"
            yield Finding(f"{role}.phone", Category.BUSINESS, why), contact.telephone
        return
    subject = f"contact:{contact.name}@{_org_key(party)}"
    why = "name of a contact person (经办人)"
    yield Finding(f"{role}.contact", Category.PERSONAL, why, subject=subject), contact.name
    if contact.telephone:
        why = "phone number printed with a contact person"
        yield (
            Finding(f"{role}.phone", Category.PERSONAL, why, subject=subject),
            contact.telephone,
        )
    if contact.email:
        why = "e-mail address of a contact person"
        yield Finding(f"{role}.email", Category.PERSONAL, why, subject=subject), contact.email


def _special_blocks(
    blocks: Sequence[tuple[str, dict[str, str]]],
) -> Iterator[tuple[Finding, str | None]]:
    for index, (name, fields) in enumerate(blocks):
        path = f"SpecificInformation/{name}[{index}]"
        keys = _PERSON_KEYS.get(name)
        if keys is None:
            yield Finding(path, Category.BUSINESS, "special-business block (特定业务)"), None
            continue
        person = next((fields[k] for k in keys if fields.get(k)), f"{name}[{index}]")
        subject = f"{'traveller' if name == PASSENGER_BLOCK else 'patient'}:{person}"
        what = (
            "passenger block: travellers' names and ID numbers (旅客运输)"
            if name == PASSENGER_BLOCK
            else "medical block: patients' treatment and insurance records (医疗服务)"
        )
        for field, value in fields.items():
            finding = Finding(f"{path}/{field}", Category.SENSITIVE, what, subject=subject)
            yield finding, value


def _written_ids(
    remark: str | None, extra: Mapping[str, str]
) -> Iterator[tuple[Finding, str | None]]:
    """Resident ID numbers written into the remark (备注) or a 附加要素 value: sensitive, like
    a ``BuyerIdNum`` of an individual, whoever they identify. The mapping blanks them in the
    note and the embedded original (:mod:`gateway.mapping.resident_ids`), so they are found
    here as held; should one still be in the outgoing text, it leaves and is counted. Its
    subject is the number itself, the key a personal buyer with that number has too."""
    texts = [("remark.id", "the remark (备注)", remark or "")]
    for key, value in extra.items():
        prefix, _, rest = key.partition(".")
        index, _, name = rest.partition(".")
        if prefix == "additional" and index.isdigit() and name:
            texts.append((f"additional[{index}].id", f"the 附加要素 {name!r}", value))
    for path, where, text in texts:
        for written in resident_ids_in(text):
            why = f"ID-card number (居民身份证号码) written into {where}"
            subject = f"id:{canonical_id(written)}"
            yield Finding(path, Category.SENSITIVE, why, subject=subject), written


def _lines(
    invoice: Invoice, important: Sequence[ImportantData]
) -> Iterator[tuple[Finding, str | None]]:
    if not important:
        return
    for line in invoice.lines:
        codes = [code for code, _, _ in line.item.classifications]
        for entry in important:
            if entry.matches(line.item.name, codes):
                why = f"important data declared by {entry.notice} ({entry.id})"
                yield Finding(f"line[{line.id}].item", Category.IMPORTANT, why), line.item.name
