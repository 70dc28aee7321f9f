"""Seller and buyer identity: what the fapiao prints plus the partner directory's facts."""

from __future__ import annotations

import re

from gateway.errors import MissingFactError
from gateway.model import Address, Identifier, IdScheme, Party
from gateway.partners import Exporter, Partner

_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_LEGACY_TAXPAYER = re.compile(r"^[0-9]{6}[0-9A-Z]{9}$")


def org_code(seller_id: str) -> str | None:
    """The GB 11714 organisation code (ICD 0131) inside a USCC or a 15-digit taxpayer id."""
    if _USCC.match(seller_id):
        return seller_id[8:17]
    if _LEGACY_TAXPAYER.match(seller_id):
        return seller_id[6:15]
    return None


def printed_seller_id(seller: Party) -> str | None:
    """The USCC / taxpayer number the fapiao printed for the seller."""
    for scheme in (IdScheme.USCC, IdScheme.CN_TAXPAYER):
        ident = seller.identifier(scheme)
        if ident is not None:
            return ident.value
    if seller.vat_id and seller.vat_id.startswith("CN"):
        return seller.vat_id[2:]
    if seller.legal_registration is not None:
        return seller.legal_registration.value
    return seller.identifiers[0].value if seller.identifiers else None


def printed_buyer_id(buyer: Party) -> str | None:
    """The BuyerIdNum as printed, if any."""
    if buyer.identifiers:
        return buyer.identifiers[0].value
    if buyer.legal_registration is not None:
        return buyer.legal_registration.value
    return None


def map_seller(seller: Party, exporter: Exporter | None, *, with_vat_id: bool) -> Party:
    """BG-4 for the target: exporter endpoint, USCC as legal id (0131) and BT-33, VAT id."""
    seller_id = printed_seller_id(seller)
    if exporter is None:
        raise MissingFactError(
            f"seller electronic address (BT-34) for seller {seller.name!r} (id {seller_id!r}): "
            "add an [[exporters]] entry with this `seller_id` and an `endpoint`",
            field="exporters.seller_id",
        )
    code = org_code(seller_id) if seller_id else None
    if code:
        legal: Identifier | None = Identifier(code, IdScheme.CN_ORG_CODE)
    else:
        legal = Identifier(seller_id, None) if seller_id else None
    old = seller.address or Address()
    address = Address(
        street=exporter.street or old.street,
        additional_street=old.additional_street,
        city=exporter.city or old.city,
        postcode=exporter.postcode or old.postcode,
        subdivision=old.subdivision,
        country="CN",
    )
    return Party(
        name=seller.name,
        trading_name=seller.trading_name,
        legal_registration=legal,
        vat_id=f"CN{seller_id}" if with_vat_id and seller_id else None,
        legal_info=f"Unified Social Credit Code (统一社会信用代码) {seller_id}"
        if seller_id
        else None,
        endpoint=exporter.endpoint,
        address=address,
        contact=seller.contact,
    )


def map_buyer(buyer: Party, partner: Partner, *, with_vat_id: bool) -> Party:
    """BG-7 for the target: name as printed, endpoint / country / address from the partner."""
    if partner.endpoint is None:
        raise MissingFactError(
            f"buyer electronic address (BT-49) for buyer {buyer.name!r}: add `endpoint` "
            "(scheme:value) to its [[partners]] entry",
            field="partners.endpoint",
        )
    if partner.country is None:
        raise MissingFactError(
            f"buyer country (BT-55) for buyer {buyer.name!r}: add `country` to its "
            "[[partners]] entry",
            field="partners.country",
        )
    old = buyer.address or Address()
    from_partner = bool(partner.street or partner.city or partner.postcode)
    address = Address(
        street=partner.street if from_partner else old.street,
        city=partner.city if from_partner else old.city,
        postcode=partner.postcode if from_partner else old.postcode,
        country=partner.country,
    )
    legal = Identifier(partner.legal_id, partner.legal_id_scheme) if partner.legal_id else None
    return Party(
        name=buyer.name,
        trading_name=buyer.trading_name,
        legal_registration=legal,
        vat_id=partner.vat_id if with_vat_id else None,
        endpoint=partner.endpoint,
        address=address,
        contact=buyer.contact,
        is_natural_person=buyer.is_natural_person,
    )
