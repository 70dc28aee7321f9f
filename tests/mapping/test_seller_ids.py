"""The seller's Chinese number as the fapiao prints it, named for what it is (BT-30, BT-33).

Only a USCC (GB 32100) holds a GB 11714 organisation code (ICD 0131, positions 9-17) and is a
统一社会信用代码; a legacy 15-digit taxpayer number is a 纳税人识别号; a natural person's resident
identity card number (GB 11643, 自然人代开) is neither an organisation code nor a legal
registration, and is personal data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.model import IdScheme
from gateway.validation import Validator
from tests.mapping.fidelity import EXPORTER, convert, fapiao

RESIDENT_ID = "110101199003074514"
"""A made-up resident identity card number with a valid GB 11643 check digit."""
PROFILES = ["pint-sg", "bis3", "pint", "cii", "bis3-cii"]


@pytest.fixture(scope="module")
def validator(artefacts_home: Path) -> Validator:
    return Validator.default(artefacts_home)


@pytest.mark.parametrize("profile", PROFILES)
def test_a_natural_person_seller_gets_no_organisation_code_from_an_id_card_number(
    validator: Validator, profile: str
) -> None:
    """Before, positions 9-17 of the ID-card number (birth date and sequence, 900307451) were
    stated as an ICD 0131 organisation code (BT-30) and the number as a "Unified Social Credit
    Code" (BT-33)."""
    inv = fapiao(seller_id=RESIDENT_ID, seller_name="张示例")
    out = convert(inv, profile, validator, exporter={"seller_id": RESIDENT_ID})
    assert out.fatal == []
    seller = out.mapped.invoice.seller
    assert seller.legal_registration is None and seller.legal_info is None
    assert [(i.value, i.scheme) for i in seller.identifiers] == [
        tuple(reversed(EXPORTER["endpoint"].split(":")))
    ]
    header = out.xml.split(b"AccountingCustomerParty")[0]
    assert b'schemeID="0131"' not in header and b"Unified Social Credit Code" not in header
    assert (RESIDENT_ID.encode() in header) == (profile != "pint-sg")  # BT-31 only
    assert out.warned("resident identity card number", "BT-29")


@pytest.mark.parametrize("profile", ["pint-sg", "bis3"])
def test_a_legacy_taxpayer_number_is_not_called_a_uscc(profile: str) -> None:
    legacy = "310115123456789"
    out = convert(fapiao(seller_id=legacy), profile, None, exporter={"seller_id": legacy})
    seller = out.mapped.invoice.seller
    assert seller.legal_info == f"Taxpayer identification number (纳税人识别号) {legacy}"
    assert seller.legal_registration is not None
    assert (seller.legal_registration.value, seller.legal_registration.scheme) == (
        "123456789",
        IdScheme.CN_ORG_CODE,
    )
