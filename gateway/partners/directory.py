"""Partner directory in its TOML file form (``--partners FILE``) and as plain data.

One ``[[partners]]`` table per counterparty and one ``[[exporters]]`` table per exporter::

    [[partners]]
    buyer_name = "Acme Trading Pte. Ltd."     # exact match on the fapiao's BuyerName
    buyer_id = "T08GA0028A"                   # or / and the BuyerIdNum
    endpoint = "0195:SGUEN200212345Z"         # BT-49, scheme:value
    country = "SG"                            # BT-55
    street = "1 Harbourfront Ave"
    city = "Singapore"
    postcode = "098632"
    profile = "pint-sg"                       # pint-sg | bis3 | pint | cii | bis3-cii
    currency = "USD"                          # optional BT-5; amounts converted
    exchange_rate = "7.1"                     # standing CNY per unit (a per-invoice rate wins)
    vat_id = "SG200212345Z"                   # optional BT-48
    legal_id = "0195:200212345Z"              # optional BT-47 (scheme:value or value)
    buyer_reference = "ACME-AP-7"             # optional BT-10 the buyer routes by
    order_reference = "4500012345"            # optional BT-13 standing purchase order
    override_address = false                  # true: this address replaces the printed one

    [[exporters]]
    seller_id = "91310115MA1K4XXXXX"          # the USCC as printed
    endpoint = "0199:5493001KJTIIGC8Y1R12"    # BT-34 (EAS 0199 / 0088 / 0060 / 0195)
    bic = "BKCHCNBJ300"                       # optional BT-86 of the printed account's bank
    override_address = false                  # true: street/city/postcode replace the printed

    [[exporters.accounts]]                    # optional, one per currency
    currency = "USD"
    account = "456789012345"                  # BT-84
    bic = "BKCHCNBJ300"                       # BT-86
    bank = "Bank of China Shanghai Branch"    # the bank's name
    holder = "Shanghai Lingang Demo Co., Ltd." # BT-85 (default: the seller's name)

The file is read strictly: an unknown key, a malformed endpoint or country is a
:class:`~gateway.errors.FieldError` naming the table and key.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from gateway.errors import FieldError, MissingFactError
from gateway.jsontext import unfit_text
from gateway.model import Endpoint
from gateway.model.countries import ISO_3166_ALPHA2
from gateway.partners.data_export import DataExport, parse_data_export
from gateway.shown_text import check_name

PROFILES = ("pint-sg", "bis3", "pint", "cii", "bis3-cii")
"""Target profiles a partner may prefer (the names of ``gateway.mapping.profiles``; this
package sits below mapping and cannot import it)."""

EXPORTER_SCHEMES = frozenset({"0199", "0088", "0060", "0195"})
"""EAS schemes an exporter may register with (DESIGN.md: no Chinese Peppol scheme exists)."""

COUNTRY_CODES = ISO_3166_ALPHA2 | {"XI"}
"""ISO 3166-1 alpha-2 codes (plus XI, Northern Ireland, as the Peppol lists carry it)."""

_SCHEME = re.compile(r"^[0-9]{4}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")

_PARTNER_KEYS = frozenset(
    {
        "buyer_name",
        "buyer_id",
        "endpoint",
        "country",
        "street",
        "city",
        "postcode",
        "profile",
        "currency",
        "exchange_rate",
        "vat_id",
        "legal_id",
        "buyer_reference",
        "order_reference",
        "payment_terms",
        "override_address",
    }
)
_EXPORTER_KEYS = frozenset(
    {
        "seller_id",
        "endpoint",
        "street",
        "city",
        "postcode",
        "bic",
        "accounts",
        "override_address",
        "data_export",
    }
)
_ACCOUNT_KEYS = frozenset({"currency", "account", "bic", "bank", "holder"})
_BIC = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")


@dataclass(frozen=True, slots=True)
class Partner:
    """A counterparty (buyer) and the facts the fapiao does not carry."""

    buyer_name: str | None
    """BT-44 as printed on the fapiao (exact match)."""
    buyer_id: str | None
    """BuyerIdNum as printed (exact match)."""
    endpoint: Endpoint | None
    """BT-49 electronic address."""
    country: str | None
    """BT-55 ISO 3166-1 alpha-2."""
    street: str | None = None
    city: str | None = None
    postcode: str | None = None
    profile: str | None = None
    """Preferred target profile."""
    currency: str | None = None
    """BT-5 when the buyer is invoiced in a currency other than CNY."""
    exchange_rate: Decimal | None = None
    """CNY per unit of :attr:`currency`."""
    vat_id: str | None = None
    """BT-48 buyer VAT / GST identifier."""
    legal_id: str | None = None
    """BT-47 buyer legal registration id (value)."""
    legal_id_scheme: str | None = None
    """BT-47-1 its ICD scheme."""
    buyer_reference: str | None = None
    """BT-10 buyer reference to quote."""
    payment_terms: str | None = None
    """BT-20 payment terms to state."""
    order_reference: str | None = None
    """BT-13 standing purchase order reference."""
    override_address: bool = False
    """True: the directory address replaces the one printed on the fapiao."""

    @property
    def label(self) -> str:
        """How this partner is named in messages."""
        return repr(self.buyer_name or self.buyer_id or "?")


@dataclass(frozen=True, slots=True)
class BankAccount:
    """An account the exporter is paid into (BG-17), for one currency or any."""

    account: str
    """BT-84 payment account identifier."""
    currency: str | None = None
    """The currency this account receives; ``None``: the account printed for any currency."""
    bic: str | None = None
    """BT-86 payment service provider identifier (BIC)."""
    bank: str | None = None
    """The bank's name."""
    holder: str | None = None
    """BT-85 account holder; ``None`` means the seller's name."""


@dataclass(frozen=True, slots=True)
class Exporter:
    """An exporter (seller) and its Peppol identity."""

    seller_id: str
    """The USCC (or taxpayer number) as printed on its fapiao."""
    endpoint: Endpoint
    """BT-34 electronic address in an EAS scheme."""
    street: str | None = None
    city: str | None = None
    postcode: str | None = None
    bic: str | None = None
    """BIC of the bank that holds the account printed on the fapiao (开户行)."""
    accounts: tuple[BankAccount, ...] = ()
    """Accounts per currency (a USD invoice is paid into the USD account)."""
    override_address: bool = False
    """True: the directory address replaces the one printed on the fapiao."""
    data_export: DataExport = field(default_factory=DataExport)
    """Thresholds, CIIO flag and filings for the export gate (``[exporters.data_export]``)."""

    def account_for(self, currency: str) -> BankAccount | None:
        """The registered account for ``currency``, if any."""
        return next((a for a in self.accounts if a.currency == currency), None)


class PartnerDirectory:
    """Partners and exporters, looked up by what the fapiao prints."""

    def __init__(self, partners: list[Partner], exporters: list[Exporter]) -> None:
        self.partners = list(partners)
        self.exporters = list(exporters)
        self._by_name = {p.buyer_name: p for p in self.partners if p.buyer_name}
        self._by_id = {p.buyer_id: p for p in self.partners if p.buyer_id}
        self._exporters = {e.seller_id: e for e in self.exporters}

    @classmethod
    def load(cls, path: str | Path) -> PartnerDirectory:
        """Read a TOML directory file."""
        file = Path(path)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise FieldError(f"cannot read partner directory {file}: {exc}") from exc
        except (ValueError, RecursionError) as exc:  # TOMLDecodeError, UnicodeDecodeError
            raise FieldError(f"partner directory {file} is not valid TOML: {exc}") from exc
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PartnerDirectory:
        """Build from plain data shaped like the TOML file (the store holds the same)."""
        unknown = set(data) - {"partners", "exporters"}
        if unknown:
            first = sorted(unknown)[0]
            raise FieldError(
                f"unknown top-level key(s) {sorted(unknown)} in partner directory"
                f"{_did_you_mean(first, ('partners', 'exporters'))}",
                field=first,
            )
        partners = [
            _partner(i, t) for i, t in enumerate(_tables(data.get("partners", []), "partners"))
        ]
        exporters = [
            _exporter(i, t) for i, t in enumerate(_tables(data.get("exporters", []), "exporters"))
        ]
        return cls(partners, exporters)

    def find_partner(self, buyer_name: str | None, buyer_id: str | None) -> Partner:
        """The partner whose ``buyer_id`` or ``buyer_name`` matches; the id wins."""
        if buyer_id and buyer_id in self._by_id:
            return self._by_id[buyer_id]
        if buyer_name and buyer_name in self._by_name:
            return self._by_name[buyer_name]
        printed = [f"name {buyer_name!r}" if buyer_name else "no name"]
        printed.append(f"id {buyer_id!r}" if buyer_id else "no id")
        raise MissingFactError(
            f"no [[partners]] entry for the buyer (the fapiao prints {' and '.join(printed)}): "
            "add one with `buyer_name` (exact) or `buyer_id`, `endpoint` and `country`",
            field="partners.buyer_name",
        )

    def find_exporter(self, seller_id: str | None) -> Exporter | None:
        """The exporter registered under the printed seller id, if any."""
        return self._exporters.get(seller_id) if seller_id else None


def _tables(value: object, name: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(t, Mapping) for t in value):
        raise FieldError(f"`{name}` must be an array of tables ([[{name}]])", field=name)
    return list(value)


def _check_keys(table: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise FieldError(
                f"{where}: unknown key `{key}`{_did_you_mean(key, allowed)}",
                field=f"{where}.{key}",
            )


def _did_you_mean(key: str, allowed: Iterable[str]) -> str:
    """`` (did you mean `buyer_name`?)`` for a mistyped key, else nothing."""
    close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.75)
    return f" (did you mean `{close[0]}`?)" if close else ""


KEY_FIELDS = frozenset({"buyer_name", "buyer_id", "seller_id", "endpoint"})
"""The values an entry is found by (stored as keys, so indexed)."""
MAX_KEY_TEXT = 500
"""Longest key value (an index entry holds about 2,700 bytes; 500 characters of any script
fit)."""
MAX_TEXT = 2000
"""Longest other text (an address line, payment terms)."""
SHOWN_FIELDS = frozenset(
    {"buyer_name", "buyer_id", "seller_id", "buyer_reference", "order_reference"}
)
"""Names and identifiers an operator or the counterpart matches by eye (and the
``endpoint``'s value): once the white space around them is stripped, no control character,
direction override or isolate, line or paragraph separator
(:func:`gateway.shown_text.check_name`; ``schemas/openapi.json`` states the same by
pattern). A participant id's invisible format characters are refused where it is read as
one (``ParticipantId.parse``)."""


def _text(table: Mapping[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise FieldError(f"{where}: `{key}` must be a non-empty string", field=f"{where}.{key}")
    unfit = unfit_text(value, xml=True)
    if unfit is not None:
        raise FieldError(f"{where}: `{key}` {unfit[1]}", field=f"{where}.{key}")
    if key in SHOWN_FIELDS:
        check_name(value.strip(), f"{where}.{key}", f"`{key}`")
    longest = MAX_KEY_TEXT if key in KEY_FIELDS else MAX_TEXT
    if len(value) > longest:  # as written, blanks around it too: the API schema's maxLength
        raise FieldError(
            f"{where}: `{key}` is {len(value)} characters, more than {longest}",
            field=f"{where}.{key}",
            rule="max-length",
        )
    return value.strip()


def _endpoint(table: Mapping[str, Any], where: str, schemes: frozenset[str] | None) -> Endpoint:
    text = _text(table, "endpoint", where)
    if text is None:
        raise FieldError(f"{where}: `endpoint` is required", field=f"{where}.endpoint")
    try:
        endpoint = Endpoint.parse(text)
    except ValueError as exc:
        raise FieldError(f"{where}: {exc}", field=f"{where}.endpoint") from exc
    check_name(endpoint.value, f"{where}.endpoint", "`endpoint`")
    if not _SCHEME.match(endpoint.scheme):
        raise FieldError(
            f"{where}: endpoint scheme {endpoint.scheme!r} is not a 4-digit EAS code",
            field=f"{where}.endpoint",
        )
    if schemes is not None and endpoint.scheme not in schemes:
        raise FieldError(
            f"{where}: exporter endpoint scheme {endpoint.scheme!r} is not one of "
            f"{sorted(schemes)}",
            field=f"{where}.endpoint",
        )
    return endpoint


def _partner(index: int, table: Mapping[str, Any]) -> Partner:
    where = f"partners[{index}]"
    _check_keys(table, _PARTNER_KEYS, where)
    name, buyer_id = _text(table, "buyer_name", where), _text(table, "buyer_id", where)
    if name is None and buyer_id is None:
        raise FieldError(f"{where}: needs `buyer_name` or `buyer_id`", field=f"{where}.buyer_name")
    country = _text(table, "country", where)
    if country is not None and country not in COUNTRY_CODES:
        raise FieldError(
            f"{where}: country {country!r} is not an ISO 3166-1 alpha-2 code",
            field=f"{where}.country",
        )
    profile = _text(table, "profile", where)
    if profile is not None and profile not in PROFILES:
        raise FieldError(
            f"{where}: profile {profile!r} is not one of {list(PROFILES)}", field=f"{where}.profile"
        )
    currency, rate = _currency(table, where)
    legal_scheme, legal_id = _legal_id(_text(table, "legal_id", where), where)
    return Partner(
        buyer_name=name,
        buyer_id=buyer_id,
        endpoint=_endpoint(table, where, None) if "endpoint" in table else None,
        country=country,
        street=_text(table, "street", where),
        city=_text(table, "city", where),
        postcode=_text(table, "postcode", where),
        profile=profile,
        currency=currency,
        exchange_rate=rate,
        vat_id=_vat_id(_text(table, "vat_id", where), where),
        legal_id=legal_id,
        legal_id_scheme=legal_scheme,
        buyer_reference=_text(table, "buyer_reference", where),
        payment_terms=_text(table, "payment_terms", where),
        order_reference=_text(table, "order_reference", where),
        override_address=_flag(table, "override_address", where),
    )


def _flag(table: Mapping[str, Any], key: str, where: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise FieldError(f"{where}: `{key}` must be true or false", field=f"{where}.{key}")
    return value


def _bic(table: Mapping[str, Any], where: str) -> str | None:
    bic = _text(table, "bic", where)
    if bic is not None and not _BIC.match(bic):
        raise FieldError(
            f"{where}: bic {bic!r} is not a BIC (ISO 9362: 8 or 11 letters and digits)",
            field=f"{where}.bic",
        )
    return bic


def _accounts(value: object, where: str) -> tuple[BankAccount, ...]:
    out: list[BankAccount] = []
    for index, table in enumerate(_tables(value, f"{where}.accounts")):
        here = f"{where}.accounts[{index}]"
        _check_keys(table, _ACCOUNT_KEYS, here)
        account = _text(table, "account", here)
        if account is None:
            raise FieldError(f"{here}: `account` is required", field=f"{here}.account")
        currency = _text(table, "currency", here)
        if currency is not None and not _CURRENCY.match(currency):
            raise FieldError(
                f"{here}: currency {currency!r} is not an ISO 4217 code", field=f"{here}.currency"
            )
        if currency is not None and any(a.currency == currency for a in out):
            raise FieldError(
                f"{here}: a second account for {currency}", field=f"{here}.currency", rule="unique"
            )
        out.append(
            BankAccount(
                account=account,
                currency=currency,
                bic=_bic(table, here),
                bank=_text(table, "bank", here),
                holder=_text(table, "holder", here),
            )
        )
    return tuple(out)


def _vat_id(text: str | None, where: str) -> str | None:
    """BT-48 must start with its ISO 3166 country prefix (EN 16931 BR-CO-09)."""
    if text is not None and text[:2] not in COUNTRY_CODES | {"EL"}:
        raise FieldError(
            f"{where}: vat_id {text!r} must start with its country code (e.g. 'SG'), BR-CO-09",
            field=f"{where}.vat_id",
            rule="BR-CO-09",
        )
    return text


def _currency(table: Mapping[str, Any], where: str) -> tuple[str | None, Decimal | None]:
    currency = _text(table, "currency", where)
    raw = table.get("exchange_rate")
    if currency is None:
        if raw is not None:
            raise FieldError(
                f"{where}: `exchange_rate` given without `currency`", field=f"{where}.currency"
            )
        return None, None
    if not _CURRENCY.match(currency):
        raise FieldError(
            f"{where}: currency {currency!r} is not an ISO 4217 code", field=f"{where}.currency"
        )
    if currency == "CNY":
        return None, None
    if raw is None:
        return currency, None
    if isinstance(raw, bool):
        raise FieldError(
            f"{where}: `exchange_rate` {raw!r} is not a number", field=f"{where}.exchange_rate"
        )
    try:
        rate = Decimal(str(raw))
    except InvalidOperation as exc:
        raise FieldError(
            f"{where}: `exchange_rate` {raw!r} is not a number", field=f"{where}.exchange_rate"
        ) from exc
    if not rate.is_finite() or rate <= 0:
        raise FieldError(
            f"{where}: `exchange_rate` must be positive", field=f"{where}.exchange_rate"
        )
    return currency, rate


def _legal_id(text: str | None, where: str) -> tuple[str | None, str | None]:
    if text is None:
        return None, None
    scheme, sep, value = text.partition(":")
    if sep and _SCHEME.match(scheme) and value:
        return scheme, value
    if sep:
        raise FieldError(
            f"{where}: legal_id {text!r} must be `ICD:value` or a plain value",
            field=f"{where}.legal_id",
        )
    return None, text


def _exporter(index: int, table: Mapping[str, Any]) -> Exporter:
    where = f"exporters[{index}]"
    _check_keys(table, _EXPORTER_KEYS, where)
    seller_id = _text(table, "seller_id", where)
    if seller_id is None:
        raise FieldError(f"{where}: `seller_id` is required", field=f"{where}.seller_id")
    return Exporter(
        seller_id=seller_id,
        endpoint=_endpoint(table, where, EXPORTER_SCHEMES),
        street=_text(table, "street", where),
        city=_text(table, "city", where),
        postcode=_text(table, "postcode", where),
        bic=_bic(table, where),
        accounts=_accounts(table.get("accounts", []), where),
        override_address=_flag(table, "override_address", where),
        data_export=(
            parse_data_export(table["data_export"], where)
            if "data_export" in table
            else DataExport()
        ),
    )
