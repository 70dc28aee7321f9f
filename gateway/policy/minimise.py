"""Minimisation: what the recipient does not need never leaves.

Applied to the mapped invoice before it is rendered, per destination (a positive-guidance
rule may ``keep`` a field):

* a personal buyer's phone number is masked (``138****5678``) in the invoice and in the
  embedded original;
* a personal buyer's ID-card number is dropped from the invoice's identifiers and masked in
  the embedded original, and an individual's bank-card number is masked there;
* the issuing clerk's name (开票人) is masked in the embedded original, and so are, in a
  legacy ``original_invoice.xml`` (root ``eInvoice``), the payee's (收款人) and the checker's
  (复核人), with a personal buyer's phone (the tail of ``BuyerAddrTel``), ID-card number
  (``BuyerTaxID``) and account number (the tail of ``BuyerFinancialAccount``);
* the seller's staff its remark names (``收款人:李蓉蓉``, :mod:`gateway.policy.remark_staff`)
  are masked with the clerk, in the invoice's note and the embedded original's remark;
* the passenger and medical blocks of the embedded original are removed (the mapping already
  leaves them out of the invoice), and a resident ID number written into its remark or a
  附加要素 is blanked (the mapping already did, for the copy it embedded).

Only business terms that are free text or optional change, so the document stays valid under
the official rules (the tests render and validate minimised documents).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Iterable

from lxml import etree

from gateway.mapping.special import strip_personal_blocks
from gateway.model import Invoice
from gateway.model.party import Contact, IdScheme, Party
from gateway.policy.policyfile import Minimisation
from gateway.policy.remark_staff import KEEP as STAFF_IN_REMARK
from gateway.policy.remark_staff import mask_staff
from gateway.xmlsafe import parse_xml

_BUYER = "EInvoiceData/BuyerInformation"
LEGACY_ROOT = "eInvoice"
"""The root of a legacy VAT e-invoice's ``original_invoice.xml`` (embedded from a legacy OFD)."""
LEGACY_STAFF = ("InvoiceClerk", "Payee", "Checker")
"""The legacy XML's natural persons of the seller: issuing clerk, payee, checker."""
_TRAILING_NUMBER = re.compile(r"(\+?\d[\d\- ]{5,}\d)\s*$")
"""A phone or account number written after an address or bank name (``BuyerAddrTel``)."""


def mask(value: str) -> str:
    """``value`` with its middle hidden: 11+ characters keep the first 3 and last 4 (a phone
    number stays recognisable to its owner, useless to anyone else), 5-10 keep the last 2,
    shorter ones (a name) the last one."""
    text = value.strip()
    if len(text) >= 11:
        return text[:3] + "*" * (len(text) - 7) + text[-4:]
    tail = 2 if len(text) >= 5 else 1
    return "*" * (len(text) - tail) + text[-tail:]


def minimise(
    invoice: Invoice, rules: Minimisation, keep: Collection[str] = ()
) -> tuple[Invoice, list[str]]:
    """The invoice as it may leave, and what was changed (for the record)."""
    done: list[str] = []
    buyer = invoice.buyer
    if buyer.is_natural_person:
        buyer = _buyer(buyer, rules, keep, done)
    notes = invoice.notes
    if _masks_remark_staff(rules, keep):
        notes, count = _masked_notes(invoice.notes)
        if count:
            done.append(f"{count} staff name(s) written into the remark masked in the note")
    attachments = []
    for attachment in invoice.attachments:
        content = attachment.content
        if content and attachment.mime_code == "application/xml" and _is_fapiao(content):
            minimised, changes = minimise_original(content, buyer.is_natural_person, rules, keep)
            if changes:
                attachment = dataclasses.replace(attachment, content=minimised)
                done += [f"embedded original: {change}" for change in changes]
        attachments.append(attachment)
    if not done:
        return invoice, done
    return dataclasses.replace(invoice, buyer=buyer, notes=notes, attachments=attachments), done


def _masks_remark_staff(rules: Minimisation, keep: Collection[str]) -> bool:
    """Whether the staff a remark names are masked: with the clerk, unless a rule keeps them."""
    return rules.mask_clerk and STAFF_IN_REMARK not in keep


def _masked_notes(notes: list[str]) -> tuple[list[str], int]:
    """``notes`` with the staff names in them masked, and how many were."""
    masked: list[str] = []
    total = 0
    for note in notes:
        text, count = mask_staff(note, mask)
        masked.append(text)
        total += count
    return masked, total


def _mask_remark_staff(elements: Iterable[etree._Element], changes: list[str]) -> bool:
    """Mask the staff names in the text of each remark element; whether any changed."""
    touched = False
    for element in elements:
        text, count = mask_staff(element.text or "", mask)
        if count:
            element.text = text
            changes.append(f"{count} staff name(s) masked in {etree.QName(element).localname}")
            touched = True
    return touched


def _is_fapiao(content: bytes) -> bool:
    """Whether an XML attachment is an original fapiao: an ``EInvoice`` (数电票) or a legacy
    ``eInvoice`` (``original_invoice.xml``)."""
    return b"EInvoice" in content or f"<{LEGACY_ROOT}".encode() in content


def _buyer(buyer: Party, rules: Minimisation, keep: Collection[str], done: list[str]) -> Party:
    contact = buyer.contact
    if (
        contact is not None
        and contact.telephone
        and rules.mask_personal_phone
        and "buyer.phone" not in keep
    ):
        contact = Contact(name=contact.name, telephone=mask(contact.telephone), email=contact.email)
        done.append("buyer.phone masked")
    identifiers = buyer.identifiers
    legal = buyer.legal_registration
    if rules.mask_personal_id and "buyer.id" not in keep:
        kept = [i for i in identifiers if i.scheme != IdScheme.CN_RESIDENT_ID]
        if len(kept) != len(identifiers):
            done.append("buyer.id (ID-card number) dropped")
            identifiers = kept
        if legal is not None and legal.scheme == IdScheme.CN_RESIDENT_ID:
            legal = None
    return dataclasses.replace(
        buyer, contact=contact, identifiers=identifiers, legal_registration=legal
    )


def minimise_original(
    xml: bytes, personal_buyer: bool, rules: Minimisation, keep: Collection[str]
) -> tuple[bytes, list[str]]:
    """The embedded fapiao XML minimised, and the changes made."""
    stripped, taken_out = strip_personal_blocks(xml)
    changes = list(taken_out)  # each says itself whether it removed or blanked
    root = parse_xml(stripped, what="embedded fapiao XML")
    if etree.QName(root).localname == LEGACY_ROOT:
        touched = _minimise_legacy(root, personal_buyer, rules, keep, changes)
    else:
        touched = _minimise_einvoice(root, personal_buyer, rules, keep, changes)
    if not touched:
        return stripped, changes
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8"), changes


def _minimise_einvoice(
    root: etree._Element,
    personal_buyer: bool,
    rules: Minimisation,
    keep: Collection[str],
    changes: list[str],
) -> bool:
    """Mask the clerk and a personal buyer's phone, ID-card and account numbers of a 数电票
    ``EInvoice``; whether anything changed."""
    masks: list[str] = []
    if rules.mask_clerk and "Drawer" not in keep:
        masks.append("EInvoiceData/BasicInformation/Drawer")
    if personal_buyer:
        if rules.mask_personal_phone and "buyer.phone" not in keep:
            masks.append(f"{_BUYER}/BuyerTelNum")
        if rules.mask_personal_id and "buyer.id" not in keep:
            masks.append(f"{_BUYER}/BuyerIdNum")
        masks.append(f"{_BUYER}/BuyerBankAccNum")
    touched = False
    for path in masks:
        if _mask_element(root.find(path)):
            changes.append(f"{path.rsplit('/', 1)[-1]} masked")
            touched = True
    if _masks_remark_staff(rules, keep):
        remarks = root.findall("EInvoiceData/AdditionalInformation/Remark")
        touched = _mask_remark_staff(remarks, changes) or touched
    return touched


def _minimise_legacy(
    root: etree._Element,
    personal_buyer: bool,
    rules: Minimisation,
    keep: Collection[str],
    changes: list[str],
) -> bool:
    """The same for a legacy ``eInvoice``: the clerk, payee and checker (``mask_clerk``; a
    rule keeping ``Drawer`` keeps the clerk), and a personal buyer's phone, ID-card and
    account numbers (phone and account are the tails of the address and bank fields)."""
    touched = False
    if rules.mask_clerk:
        for name in LEGACY_STAFF:
            if name == "InvoiceClerk" and "Drawer" in keep:
                continue
            if _mask_element(_child(root, name)):
                changes.append(f"{name} masked")
                touched = True
    if _masks_remark_staff(rules, keep):
        note = _child(root, "Note")
        touched = _mask_remark_staff([note] if note is not None else [], changes) or touched
    buyer = _child(root, "Buyer") if personal_buyer else None
    if buyer is None:
        return touched
    tails = ["BuyerFinancialAccount"]
    if rules.mask_personal_phone and "buyer.phone" not in keep:
        tails.insert(0, "BuyerAddrTel")
    for name in tails:
        if _mask_tail(_child(buyer, name)):
            changes.append(f"{name} (number) masked")
            touched = True
    keep_id = not rules.mask_personal_id or "buyer.id" in keep
    if not keep_id and _mask_element(_child(buyer, "BuyerTaxID")):
        changes.append("BuyerTaxID masked")
        touched = True
    return touched


def _child(parent: etree._Element, name: str) -> etree._Element | None:
    """The first child of ``parent`` named ``name`` in any namespace (the legacy XML's
    ``fp:`` prefix is not always bound to the same URI)."""
    return next(
        (c for c in parent if isinstance(c.tag, str) and etree.QName(c).localname == name),
        None,
    )


def _mask_element(element: etree._Element | None) -> bool:
    """Mask the text of ``element`` (not already masked); whether it changed."""
    if element is None or not element.text or not element.text.strip() or "*" in element.text:
        return False
    element.text = mask(element.text)
    return True


def _mask_tail(element: etree._Element | None) -> bool:
    """Mask the number at the end of ``element``'s text (a phone after an address, an
    account after a bank's name); whether it changed."""
    if element is None or not element.text:
        return False
    found = _TRAILING_NUMBER.search(element.text)
    if found is None:
        return False
    number = found.group(1)
    element.text = element.text[: found.start(1)] + mask(number) + element.text[found.end(1) :]
    return True
