"""Seller and buyer: typed identifiers, address, contact, bank account."""

from __future__ import annotations

import re

from gateway.ingest.record import RawParty, Src
from gateway.ingest.types import ParseWarning
from gateway.ingest.uscc import classify_taxpayer_id
from gateway.model.invoice import PaymentInstructions
from gateway.model.party import Address, Contact, Identifier, IdScheme, Party

PERSONAL_SUFFIXES = ("（个人）", "(个人)")
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def _value(src: Src | None) -> str | None:
    return None if src is None else src.value


def is_natural_person(raw: RawParty, scheme: str | None) -> bool:
    """A 自然人 buyer: explicit flag, ``（个人）`` name suffix, or an ID-card number."""
    if raw.natural_person_flag is not None:
        return raw.natural_person_flag
    name = raw.name.value or ""
    return name.endswith(PERSONAL_SUFFIXES) or scheme == IdScheme.CN_RESIDENT_ID


def looks_foreign(raw: RawParty) -> bool:
    """No Chinese tax id, and a name (or address) in Latin script without Chinese characters."""
    if raw.tax_id.value:
        return False
    texts = [t for t in (raw.name.value, _value(raw.address)) if t]
    return bool(texts) and all(_LATIN.search(t) and not _CJK.search(t) for t in texts)


def _identifiers(
    raw: RawParty, role: str, warnings: list[ParseWarning]
) -> tuple[list[Identifier], Identifier | None, str | None]:
    code = raw.tax_id.value
    if code is None:
        return [], None, None
    name = raw.name.value or ""
    verdict = classify_taxpayer_id(code, natural_person=name.endswith(PERSONAL_SUFFIXES))
    for rule, message in verdict.problems:
        warnings.append(ParseWarning(rule, f"{role}: {message}", raw.tax_id.path))
    if verdict.scheme == IdScheme.USCC:
        idents = [Identifier(code, IdScheme.USCC), Identifier(code[8:17], IdScheme.CN_ORG_CODE)]
        return idents, Identifier(code, IdScheme.USCC), verdict.scheme
    if verdict.scheme == IdScheme.CN_RESIDENT_ID:
        return [Identifier(code, IdScheme.CN_RESIDENT_ID)], None, verdict.scheme
    ident = Identifier(code, verdict.scheme)
    return [ident], (ident if verdict.scheme else None), verdict.scheme


def build_party(
    raw: RawParty, role: str, warnings: list[ParseWarning], *, domestic: bool
) -> tuple[Party, bool]:
    """The canonical party and whether it is a natural person.

    ``domestic`` sets the address country to ``CN`` (the seller); a buyer's country is unknown.
    """
    name = raw.name.value
    if name is None:
        warnings.append(ParseWarning("fapiao.party-name", f"{role} name is empty", raw.name.path))
        name = ""
    identifiers, legal, scheme = _identifiers(raw, role, warnings)
    street = _value(raw.address)
    address = Address(street=street, country="CN" if domestic else None)
    if street is None and not domestic:
        address_or_none: Address | None = None
    else:
        address_or_none = address
    phone = _value(raw.phone)
    handler = _value(raw.handler)
    contact = Contact(name=handler, telephone=phone) if (phone or handler) else None
    person = is_natural_person(raw, scheme)
    party = Party(
        name=name,
        identifiers=identifiers,
        legal_registration=legal,
        address=address_or_none,
        contact=contact,
        is_natural_person=person,
    )
    return party, person


def seller_payment(raw: RawParty) -> PaymentInstructions | None:
    """The seller's bank (name, account) as payment instructions, when printed."""
    account = _value(raw.bank_account)
    bank = _value(raw.bank_name)
    if account is None and bank is None:
        return None
    return PaymentInstructions(account_id=account, provider_name=bank)
