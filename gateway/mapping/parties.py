"""Seller and buyer identity: what the fapiao prints plus the partner directory's facts."""

from __future__ import annotations

import re
from collections.abc import Callable

from gateway.errors import FieldError, MissingFactError
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


def printed_seller_scheme(seller: Party) -> str | None:
    """What kind of number the fapiao printed for the seller, as the parser classified it:
    ``USCC``, a legacy taxpayer number, a resident identity card number, or ``None``."""
    for scheme in (IdScheme.USCC, IdScheme.CN_TAXPAYER, IdScheme.CN_RESIDENT_ID):
        if seller.identifier(scheme) is not None:
            return scheme
    return None


def seller_legal_info(seller_id: str, scheme: str | None) -> str | None:
    """BT-33: the seller's Chinese number named for what it is (None for an ID-card number).

    Only a USCC is a 统一社会信用代码; a 15 or 20 character number is the older 纳税人识别号.
    A natural person's resident identity card number (自然人代开) is personal data and no
    legal registration: it is not repeated in free text.
    """
    if scheme == IdScheme.CN_RESIDENT_ID:
        return None
    if scheme == IdScheme.USCC or (scheme is None and _USCC.match(seller_id)):
        return f"Unified Social Credit Code (统一社会信用代码) {seller_id}"
    return f"Taxpayer identification number (纳税人识别号) {seller_id}"


def printed_buyer_id(buyer: Party) -> str | None:
    """The BuyerIdNum as printed, if any."""
    if buyer.identifiers:
        return buyer.identifiers[0].value
    if buyer.legal_registration is not None:
        return buyer.legal_registration.value
    return None


CITY_NAMES = {
    "beijing": "北京", "shanghai": "上海", "tianjin": "天津", "chongqing": "重庆",
    "guangzhou": "广州", "shenzhen": "深圳", "hangzhou": "杭州", "nanjing": "南京",
    "suzhou": "苏州", "wuxi": "无锡", "ningbo": "宁波", "xiamen": "厦门", "fuzhou": "福州",
    "qingdao": "青岛", "jinan": "济南", "dalian": "大连", "shenyang": "沈阳", "wuhan": "武汉",
    "changsha": "长沙", "chengdu": "成都", "xi'an": "西安", "xian": "西安", "zhengzhou": "郑州",
    "hefei": "合肥", "kunming": "昆明", "dongguan": "东莞", "foshan": "佛山", "zhuhai": "珠海",
    "haikou": "海口", "sanya": "三亚", "harbin": "哈尔滨", "changchun": "长春",
    "hong kong": "香港", "macau": "澳门", "singapore": "新加坡",
}  # fmt: skip
"""Latin names of cities a directory may give, and how a Chinese address prints them."""


def _names_city(text: str, city: str) -> bool:
    """Whether an address text names ``city`` (in Latin or Chinese script)."""
    if city.casefold() in text.casefold():
        return True
    chinese = CITY_NAMES.get(city.strip().casefold())
    return chinese is not None and chinese in text


def directory_address(
    role: str,
    printed: Address | None,
    street: str | None,
    city: str | None,
    postcode: str | None,
    *,
    override: bool,
    country: str | None,
) -> tuple[Address, list[str]]:
    """The postal address to state: what the fapiao prints, unless the directory overrides it.

    The directory's address is used whole (never a printed street with a directory city):
    when ``override`` is set, when the fapiao prints none, or when it prints the directory's
    street. Otherwise a directory city or postcode is added to the printed street only when the
    printed text already names it (``Shanghai`` for ``上海市…``); anything else the directory
    says differently is reported, and the printed address stays.
    """
    warnings: list[str] = []
    old = printed or Address()
    text = old.street or ""
    has_directory = bool(street or city or postcode)
    same_street = bool(street and text and street.strip() == text.strip())
    if has_directory and (override or not text or same_street):
        return Address(street=street, city=city, postcode=postcode, country=country), warnings
    agreeing_city = city if city and _names_city(text, city) else None
    agreeing_postcode = postcode if postcode and postcode in text else None
    if has_directory and (
        street or (city and not agreeing_city) or (postcode and not agreeing_postcode)
    ):
        listed = ", ".join(v for v in (street, postcode, city) if v)
        warnings.append(
            f"{role} address: the fapiao prints {text!r}, the directory says {listed!r}; the "
            "printed address is kept (set override_address = true in the directory entry to "
            "use the directory's)"
        )
    return (
        Address(
            street=old.street,
            additional_street=old.additional_street,
            city=agreeing_city or old.city,
            postcode=agreeing_postcode or old.postcode,
            subdivision=old.subdivision,
            country=country,
        ),
        warnings,
    )


def map_seller(
    seller: Party, exporter: Exporter | None, *, with_vat_id: bool
) -> tuple[Party, list[str]]:
    """BG-4 for the target: exporter endpoint, USCC as legal id (0131) and BT-33, VAT id."""
    seller_id = printed_seller_id(seller)
    if exporter is None:
        raise MissingFactError(
            f"seller electronic address (BT-34) for seller {seller.name!r} (id {seller_id!r}): "
            "add an [[exporters]] entry with this `seller_id` and an `endpoint`",
            field="exporters.seller_id",
        )
    if not seller.name.strip():
        raise FieldError(
            f"the fapiao prints no seller name (销售方名称, SellerName) for seller id "
            f"{seller_id!r}: EN 16931 BR-06 requires the seller name (BT-27)",
            field="seller.name",
            rule="BR-06",
        )
    scheme = printed_seller_scheme(seller)
    warnings: list[str] = []
    legal: Identifier | None = None
    identifiers: list[Identifier] = []
    if scheme == IdScheme.CN_RESIDENT_ID:
        endpoint = exporter.endpoint
        identifiers = [Identifier(endpoint.value, endpoint.scheme)]
        warnings.append(
            "the seller's taxpayer id is a resident identity card number (a natural person, "
            "personal data): no legal registration (BT-30, BT-33) is derived from it"
            + (", it is stated only as the VAT identifier (BT-31)" if with_vat_id else "")
            + f"; the seller is identified by its Peppol identifier {endpoint} (BT-29, "
            "EN 16931 BR-CO-26)"
        )
    elif seller_id:
        code = org_code(seller_id)
        legal = Identifier(code, IdScheme.CN_ORG_CODE) if code else Identifier(seller_id, None)
    address, address_warnings = directory_address(
        "seller",
        seller.address,
        exporter.street,
        exporter.city,
        exporter.postcode,
        override=exporter.override_address,
        country="CN",
    )
    party = Party(
        name=seller.name,
        trading_name=seller.trading_name,
        identifiers=identifiers,
        legal_registration=legal,
        vat_id=f"CN{seller_id}" if with_vat_id and seller_id else None,
        legal_info=seller_legal_info(seller_id, scheme) if seller_id else None,
        endpoint=exporter.endpoint,
        address=address,
        contact=seller.contact,
    )
    return party, warnings + address_warnings


def _buyer_identifiers(buyer: Party) -> tuple[list[Identifier], list[str]]:
    """BT-46 (at most one, UBL-SR-16): the BuyerIdNum as printed; never an ID-card number,
    never a value that is no identifier at all (a template's placeholder text)."""
    warnings: list[str] = []
    for ident in buyer.identifiers:
        if ident.scheme == IdScheme.CN_RESIDENT_ID:
            warnings.append(
                "the buyer's printed id is a resident identity card number (personal data): "
                "not forwarded"
            )
            return [], warnings
        if not (ident.value.isascii() and ident.value.isalnum()):
            warnings.append(f"the buyer's printed id {ident.value!r} is not an identifier: dropped")
            return [], warnings
        scheme = ident.scheme if ident.scheme and ident.scheme.isdigit() else None
        return [Identifier(ident.value, scheme)], warnings
    return [], warnings


def map_buyer(buyer: Party, partner: Partner, *, with_vat_id: bool) -> tuple[Party, list[str]]:
    """BG-7 for the target: name, id and address as printed; endpoint and country (and, when
    asked to or when nothing is printed, the address) from the partner."""
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
    address, warnings = directory_address(
        "buyer",
        buyer.address,
        partner.street,
        partner.city,
        partner.postcode,
        override=partner.override_address,
        country=partner.country,
    )
    identifiers, id_warnings = _buyer_identifiers(buyer)
    legal = Identifier(partner.legal_id, partner.legal_id_scheme) if partner.legal_id else None
    party = Party(
        name=buyer.name,
        trading_name=buyer.trading_name,
        identifiers=identifiers,
        legal_registration=legal,
        vat_id=partner.vat_id if with_vat_id else None,
        endpoint=partner.endpoint,
        address=address,
        contact=buyer.contact,
        is_natural_person=buyer.is_natural_person,
    )
    return party, warnings + id_warnings


NATIONAL_EAS = {
    "0002": "FR", "0007": "SE", "0009": "FR", "0037": "FI", "0096": "DK", "0097": "IT",
    "0106": "NL", "0135": "IT", "0142": "IT", "0151": "AU", "0158": "SK", "0183": "CH",
    "0184": "DK", "0188": "JP", "0190": "NL", "0191": "EE", "0192": "NO", "0193": "BE",
    "0195": "SG", "0196": "IS", "0198": "DK", "0200": "LT", "0201": "IT", "0204": "DE",
    "0205": "IT", "0208": "BE", "0210": "IT", "0211": "IT", "0212": "FI", "0213": "FI",
    "0215": "FI", "0216": "FI", "0218": "LV", "0221": "JP", "0225": "FR", "0230": "MY",
    "0235": "AE", "0240": "LU", "0244": "NG", "0245": "SK", "0246": "DE", "0248": "OM",
    "9901": "DK", "9902": "DK", "9904": "DK", "9905": "DK", "9906": "IT", "9907": "IT",
    "9908": "NO", "9909": "NO", "9910": "HU", "9914": "AT", "9915": "AT", "9916": "AT",
    "9917": "IS", "9919": "AT", "9920": "ES", "9921": "IT", "9922": "AD", "9923": "AL",
    "9924": "BA", "9925": "BE", "9926": "BG", "9927": "CH", "9928": "CY", "9929": "CZ",
    "9930": "DE", "9931": "EE", "9932": "GB", "9933": "GR", "9934": "HR", "9935": "IE",
    "9936": "LI", "9937": "LT", "9938": "LU", "9939": "LV", "9940": "MC", "9941": "ME",
    "9942": "MK", "9943": "MT", "9944": "NL", "9945": "PL", "9946": "PT", "9947": "RO",
    "9948": "RS", "9949": "SI", "9950": "SK", "9951": "SM", "9952": "TR", "9953": "VA",
    "9954": "NL", "9955": "SE", "9956": "BE", "9957": "FR", "9958": "DE", "9959": "US",
}  # fmt: skip
"""EAS schemes that belong to one country's register, from the Peppol participant identifier
scheme list v9.7 (``country`` attribute); absent: international (0088 GLN, 0060 DUNS, 0199 LEI,
0209 GS1, 0130 and 9913/9918 EU-wide ones)."""


_SG_UEN = re.compile(r"^SGUEN([0-9]{8}|[0-9]{9}|[RST][0-9]{2}[A-Z]{2}[0-9]{4})[0-9A-Z]$", re.I)
_LEI = re.compile(r"^[0-9A-Z]{18}[0-9]{2}$")


def _gln_ok(value: str) -> bool:
    if not (len(value) == 13 and value.isdigit()):
        return False
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(value[:12]))
    return (10 - total % 10) % 10 == int(value[12])


def _lei_ok(value: str) -> bool:
    return bool(_LEI.match(value)) and int("".join(str(int(c, 36)) for c in value)) % 97 == 1


def _sg_uen_ok(value: str) -> bool:
    return bool(_SG_UEN.match(value))


def _duns_ok(value: str) -> bool:
    return len(value) == 9 and value.isdigit()


_ENDPOINT_CHECKS: dict[str, tuple[Callable[[str], bool], str]] = {
    "0195": (_sg_uen_ok, "SGUEN followed by a UEN"),
    "0088": (_gln_ok, "a 13-digit GLN with a valid check digit"),
    "0199": (_lei_ok, "a 20-character LEI with valid check digits (ISO 17442)"),
    "0060": (_duns_ok, "a 9-digit DUNS number"),
}


def endpoint_country_warnings(role: str, party: Party) -> list[str]:
    """Warnings when an endpoint's value is not of its EAS scheme's form, or when its scheme
    belongs to another country than the party's."""
    endpoint, address = party.endpoint, party.address
    country = address.country if address is not None else None
    if endpoint is None:
        return []
    out: list[str] = []
    check = _ENDPOINT_CHECKS.get(endpoint.scheme)
    if check is not None and not check[0](endpoint.value):
        out.append(
            f"{role} endpoint {endpoint}: the value is not {check[1]} (check the directory "
            "entry; Peppol looks participants up by exactly this value)"
        )
    return out + _scheme_country(role, party, country)


def _scheme_country(role: str, party: Party, country: str | None) -> list[str]:
    endpoint = party.endpoint
    if endpoint is None or country is None:
        return []
    scheme_country = NATIONAL_EAS.get(endpoint.scheme)
    if scheme_country is None or scheme_country == country:
        return []
    return [
        f"{role} endpoint {endpoint} is in EAS scheme {endpoint.scheme}, a {scheme_country} "
        f"register, but the {role} is in {country}: check the directory entry (a party "
        "normally registers where it is established)"
    ]
