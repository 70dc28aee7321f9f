"""Minimisation: what the recipient does not need never leaves.

Applied to the mapped invoice before it is rendered, per destination (a positive-guidance
rule may ``keep`` a field):

* a personal buyer's phone number is masked (``138****5678``) in the invoice and in the
  embedded original;
* a personal buyer's ID-card number is dropped from the invoice's identifiers and masked in
  the embedded original, and an individual's bank-card number is masked there;
* the issuing clerk's name (开票人) is masked in the embedded original;
* the passenger and medical blocks of the embedded original are removed (the mapping already
  leaves them out of the invoice), and a resident ID number written into its remark or a
  附加要素 is blanked (the mapping already did, for the copy it embedded).

Only business terms that are free text or optional change, so the document stays valid under
the official rules (the tests render and validate minimised documents).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

from lxml import etree

from gateway.mapping.special import strip_personal_blocks
from gateway.model import Invoice
from gateway.model.party import Contact, IdScheme, Party
from gateway.policy.policyfile import Minimisation
from gateway.xmlsafe import parse_xml

_BUYER = "EInvoiceData/BuyerInformation"


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
    attachments = []
    for attachment in invoice.attachments:
        content = attachment.content
        if content and attachment.mime_code == "application/xml" and b"EInvoice" in content:
            minimised, changes = minimise_original(content, buyer.is_natural_person, rules, keep)
            if changes:
                attachment = dataclasses.replace(attachment, content=minimised)
                done += [f"embedded original: {change}" for change in changes]
        attachments.append(attachment)
    if not done:
        return invoice, done
    return dataclasses.replace(invoice, buyer=buyer, attachments=attachments), done


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
        element = root.find(path)
        if (
            element is not None
            and element.text
            and element.text.strip()
            and "*" not in element.text
        ):
            element.text = mask(element.text)
            changes.append(f"{path.rsplit('/', 1)[-1]} masked")
            touched = True
    if not touched:
        return stripped, changes
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8"), changes
