"""The partner directory: TOML loading, strict validation, look-ups."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import FieldError, MissingFactError
from gateway.model import Endpoint
from gateway.partners import PartnerDirectory

DATA = Path(__file__).resolve().parent.parent / "data"


def _directory(partner: dict[str, Any] | None = None, **exporter: Any) -> dict[str, Any]:
    base = {"buyer_name": "Acme", "endpoint": "0195:SGUEN200212345Z", "country": "SG"}
    base.update(partner or {})
    exp = {"seller_id": "91310115MA1K4ABC12", "endpoint": "0199:5493001KJTIIGC8Y1R12"}
    exp.update(exporter)
    return {"partners": [base], "exporters": [exp]}


def test_loads_the_test_directory() -> None:
    directory = PartnerDirectory.load(DATA / "partners.toml")
    partner = directory.find_partner("购买方名称", None)
    assert partner.endpoint == Endpoint("0195", "SGUEN201912345K")
    assert partner.country == "SG"
    assert partner.currency == "USD"
    assert partner.exchange_rate == Decimal("7.1012")
    exporter = directory.find_exporter("91320000000000000X")
    assert exporter is not None and exporter.endpoint.scheme == "0199"


def test_lookup_by_id_wins_over_name() -> None:
    data = _directory({"buyer_id": "T08GA0028A"})
    data["partners"].append(
        {"buyer_name": "Other", "endpoint": "0088:4035811991021", "country": "HK"}
    )
    directory = PartnerDirectory.from_dict(data)
    assert directory.find_partner("Other", "T08GA0028A").buyer_name == "Acme"
    assert directory.find_partner("Other", None).country == "HK"


def test_unknown_buyer_is_a_missing_fact_naming_the_lookup() -> None:
    directory = PartnerDirectory.from_dict(_directory())
    with pytest.raises(MissingFactError) as err:
        directory.find_partner("Nobody Ltd", "X123")
    assert "'Nobody Ltd'" in str(err.value) and "'X123'" in str(err.value)
    assert directory.find_exporter("unknown") is None
    assert directory.find_exporter(None) is None


@pytest.mark.parametrize(
    ("partner", "field"),
    [
        ({"colour": "red"}, "partners[0].colour"),
        ({"endpoint": "SGUEN200212345Z"}, "partners[0].endpoint"),
        ({"endpoint": "SG:SGUEN200212345Z"}, "partners[0].endpoint"),
        ({"country": "Singapore"}, "partners[0].country"),
        ({"country": "XX"}, "partners[0].country"),
        ({"profile": "ubl"}, "partners[0].profile"),
        ({"currency": "USD", "exchange_rate": True}, "partners[0].exchange_rate"),
        ({"override_address": "yes"}, "partners[0].override_address"),
        ({"currency": "usd", "exchange_rate": 7}, "partners[0].currency"),
        ({"currency": "USD", "exchange_rate": "-1"}, "partners[0].exchange_rate"),
        ({"currency": "USD", "exchange_rate": "abc"}, "partners[0].exchange_rate"),
        ({"exchange_rate": 7}, "partners[0].currency"),
        ({"street": 12}, "partners[0].street"),
        ({"legal_id": "x:y"}, "partners[0].legal_id"),
        ({"vat_id": "M2-1234567-8"}, "partners[0].vat_id"),
    ],
)
def test_bad_partner_entries_name_index_and_key(partner: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as err:
        PartnerDirectory.from_dict(_directory(partner))
    assert err.value.field == field
    assert field.split(".")[0] in str(err.value)


def test_partner_needs_a_name_or_id() -> None:
    with pytest.raises(FieldError, match=r"partners\[0\]"):
        PartnerDirectory.from_dict({"partners": [{"country": "SG"}]})


@pytest.mark.parametrize(
    ("exporter", "field"),
    [
        ({"endpoint": "0195"}, "exporters[0].endpoint"),
        ({"endpoint": "9930:DE123"}, "exporters[0].endpoint"),
        ({"seller_id": ""}, "exporters[0].seller_id"),
        ({"country": "CN"}, "exporters[0].country"),
        ({"bic": "BOC"}, "exporters[0].bic"),
        ({"override_address": 1}, "exporters[0].override_address"),
        ({"accounts": {"account": "1"}}, "exporters[0].accounts"),
        ({"accounts": [{"currency": "USD"}]}, "exporters[0].accounts[0].account"),
        ({"accounts": [{"account": "1", "bic": "x"}]}, "exporters[0].accounts[0].bic"),
        ({"accounts": [{"account": "1", "currency": "usd"}]}, "exporters[0].accounts[0].currency"),
        (
            {
                "accounts": [
                    {"account": "1", "currency": "USD"},
                    {"account": "2", "currency": "USD"},
                ]
            },
            "exporters[0].accounts[1].currency",
        ),
        ({"accounts": [{"account": "1", "iban": "x"}]}, "exporters[0].accounts[0].iban"),
    ],
)
def test_bad_exporter_entries(exporter: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as err:
        PartnerDirectory.from_dict(_directory(None, **exporter))
    assert err.value.field == field


def test_a_mistyped_key_names_the_one_meant() -> None:
    """``buyer_nam`` in a ``[[partners]]`` entry: the key meant is named, as the
    configuration's loader does (``server.prot`` → ``server.port``)."""
    with pytest.raises(FieldError) as err:
        PartnerDirectory.from_dict(
            {"partners": [{"buyer_nam": "X", "endpoint": "0195:SGUEN201612345D", "country": "SG"}]}
        )
    assert err.value.message == "partners[0]: unknown key `buyer_nam` (did you mean `buyer_name`?)"
    assert err.value.field == "partners[0].buyer_nam"
    with pytest.raises(FieldError) as far:
        PartnerDirectory.from_dict({"exporters": [{"seller_id": "X", "colour": "red"}]})
    assert far.value.message == "exporters[0]: unknown key `colour`"


def test_unknown_top_level_key_and_bad_shapes(tmp_path: Path) -> None:
    with pytest.raises(FieldError, match="unknown top-level") as singular:
        PartnerDirectory.from_dict({"partner": []})
    assert "(did you mean `partners`?)" in singular.value.message
    with pytest.raises(FieldError, match="array of tables"):
        PartnerDirectory.from_dict({"partners": {"buyer_name": "x"}})
    bad = tmp_path / "bad.toml"
    bad.write_text("[[partners]\nbuyer_name = 1", encoding="utf-8")
    with pytest.raises(FieldError, match="not valid TOML"):
        PartnerDirectory.load(bad)
    with pytest.raises(FieldError, match="cannot read"):
        PartnerDirectory.load(tmp_path / "missing.toml")


def test_cny_currency_means_no_conversion_and_legal_id_scheme() -> None:
    directory = PartnerDirectory.from_dict(
        _directory({"currency": "CNY", "legal_id": "0195:200212345Z", "vat_id": "SGM2-1234567-8"})
    )
    partner = directory.find_partner("Acme", None)
    assert partner.currency is None and partner.exchange_rate is None
    assert (partner.legal_id_scheme, partner.legal_id) == ("0195", "200212345Z")
    assert partner.vat_id == "SGM2-1234567-8"


def test_exporter_accounts_per_currency_and_partner_references() -> None:
    accounts = [
        {"currency": "USD", "account": "USD-1", "bic": "BKCHCNBJ300", "bank": "BOC", "holder": "H"},
        {"account": "ANY-1"},
    ]
    data = _directory(
        {"order_reference": "4500012345", "override_address": True, "currency": "USD"},
        bic="BKCHCNBJ",
        accounts=accounts,
    )
    directory = PartnerDirectory.from_dict(data)
    exporter = directory.find_exporter("91310115MA1K4ABC12")
    assert exporter is not None and exporter.bic == "BKCHCNBJ"
    usd = exporter.account_for("USD")
    assert usd is not None and (usd.account, usd.bic, usd.bank, usd.holder) == (
        "USD-1",
        "BKCHCNBJ300",
        "BOC",
        "H",
    )
    assert exporter.account_for("EUR") is None
    partner = directory.find_partner("Acme", None)
    assert (partner.order_reference, partner.override_address) == ("4500012345", True)
    assert (partner.currency, partner.exchange_rate) == ("USD", None)
