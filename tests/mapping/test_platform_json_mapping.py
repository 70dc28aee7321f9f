"""Platform JSON through the mapping, validated with the official artefacts: Nuonuo's
camelCase JSON converts like the 乐企 JSON."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from gateway.samples.writers import nuonuo_json, platform_json
from gateway.validation import Validator
from tests.mapping.fidelity import convert, fapiao, machine_line

PROFILES = ["bis3", "pint-sg", "pint", "cii", "bis3-cii"]


@pytest.fixture(scope="module")
def validator(artefacts_home: Path) -> Validator:
    return Validator.default(artefacts_home)


@pytest.mark.parametrize("profile", PROFILES)
def test_nuonuo_json_converts_in_every_profile(validator: Validator, profile: str) -> None:
    inv = fapiao([machine_line(), machine_line(name="*机械设备*刀具", amount="200.00",
                                               tax="26.00", gross="226.00", quantity="4",
                                               price="50")])  # fmt: skip
    data = nuonuo_json(inv)
    out = convert(data, profile, validator)
    pinyin = convert(platform_json(inv), profile, None)
    assert out.fatal == []
    mapped, same = out.mapped.invoice, pinyin.mapped.invoice
    assert (mapped.number, mapped.issue_date, mapped.totals) == (
        same.number,
        same.issue_date,
        same.totals,
    )
    assert [ln.net_amount for ln in mapped.lines] == [ln.net_amount for ln in same.lines]
    (original,) = [a for a in mapped.attachments if a.id.startswith("fapiao-")]
    assert original.content is None  # JSON is embedded by no profile: referenced
    assert hashlib.sha256(data).hexdigest() in (original.description or "")
