"""Names EN 16931 makes mandatory (seller name BT-27, item name BT-153) that the fapiao leaves
empty: the conversion is refused naming the field, for every profile and every input format,
instead of producing a document the official rules reject (BR-06, BR-25, and the Peppol rules
against empty elements, PEPPOL-EN16931-R008 / ibr-079)."""

from __future__ import annotations

import pytest

from gateway.errors import FieldError
from gateway.samples.writers import SELLER_USCC, platform_json
from tests.mapping.fidelity import convert, fapiao, machine_line

PROFILES = ["pint-sg", "bis3", "pint", "cii", "bis3-cii"]


@pytest.mark.parametrize("name", ["", "   ", "\u3000"])
@pytest.mark.parametrize("profile", PROFILES)
def test_a_line_without_an_item_name_is_refused_naming_the_line(profile: str, name: str) -> None:
    """Before, the line was rendered with an empty item name and only the validator spoke
    (BR-25 and an empty element), naming no fapiao field."""
    inv = fapiao([machine_line(), machine_line(name=name)])
    with pytest.raises(FieldError) as err:
        convert(inv, profile, None)
    assert (err.value.rule, err.value.field) == ("BR-25", "lines[2].item.name")


@pytest.mark.parametrize("profile", PROFILES)
def test_a_platform_json_line_without_an_item_name_is_refused(profile: str) -> None:
    inv = fapiao([machine_line(name="")])
    with pytest.raises(FieldError) as err:
        convert(platform_json(inv), profile, None)
    assert (err.value.rule, err.value.field) == ("BR-25", "lines[1].item.name")


@pytest.mark.parametrize("seller_name", ["", "  "])
@pytest.mark.parametrize("profile", PROFILES)
def test_a_fapiao_without_a_seller_name_is_refused(profile: str, seller_name: str) -> None:
    """Before, the seller's RegistrationName was written empty (BR-06, R008 / ibr-079)."""
    inv = fapiao(seller_name=seller_name)
    with pytest.raises(FieldError) as err:
        convert(inv, profile, None)
    assert (err.value.rule, err.value.field) == ("BR-06", "seller.name")
    assert SELLER_USCC in str(err.value)
