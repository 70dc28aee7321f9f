"""RFC 8785 canonical JSON: the RFC's own vectors, and agreement with an independent
implementation (the ``rfc8785`` package) on generated JSON."""

from __future__ import annotations

import hashlib
import json
import math
import struct

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import FieldError
from gateway.signing.jcs import canonical_json, canonical_sha256, number

RFC_NUMBERS = {
    "0000000000000000": "0",
    "8000000000000000": "0",
    "0000000000000001": "5e-324",
    "8000000000000001": "-5e-324",
    "7fefffffffffffff": "1.7976931348623157e+308",
    "ffefffffffffffff": "-1.7976931348623157e+308",
    "4340000000000000": "9007199254740992",
    "c340000000000000": "-9007199254740992",
    "4430000000000000": "295147905179352830000",
    "44b52d02c7e14af5": "9.999999999999997e+22",
    "44b52d02c7e14af6": "1e+23",
    "44b52d02c7e14af7": "1.0000000000000001e+23",
    "444b1ae4d6e2ef4e": "999999999999999700000",
    "444b1ae4d6e2ef4f": "999999999999999900000",
    "444b1ae4d6e2ef50": "1e+21",
    "3eb0c6f7a0b5ed8c": "9.999999999999997e-7",
    "3eb0c6f7a0b5ed8d": "0.000001",
    "41b3de4355555553": "333333333.3333332",
    "41b3de4355555554": "333333333.33333325",
    "41b3de4355555555": "333333333.3333333",
    "41b3de4355555556": "333333333.3333334",
    "41b3de4355555557": "333333333.33333343",
    "becbf647612f3696": "-0.0000033333333333333333",
    "43143ff3c1cb0959": "1424953923781206.2",
}


@pytest.mark.parametrize(("bits", "expected"), sorted(RFC_NUMBERS.items()))
def test_rfc8785_number_vectors(bits: str, expected: str) -> None:
    value = struct.unpack(">d", bytes.fromhex(bits))[0]
    assert number(value) == expected


def test_rfc8785_sorting_and_escaping_example() -> None:
    data = json.loads(
        '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh",'
        '"1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}'
    )
    out = canonical_json(data).decode("utf-8")
    names = [k for k in json.loads(out)]
    assert names == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert canonical_json({"s": '\u000f"\\/'}) == b'{"s":"\\u000f\\"\\\\/"}'


def test_refuses_what_is_not_json() -> None:
    for bad in (math.nan, math.inf, 2**60, {1: "x"}, b"bytes"):
        with pytest.raises(FieldError):
            canonical_json(bad)
    for lone in ("\ud800", {"a\udfff": 1}, ["ok", "x\ud83d"]):  # json.loads makes these
        with pytest.raises(FieldError, match="surrogate"):
            canonical_json(lone)
    deep: object = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(FieldError, match="deeper"):
        canonical_json(deep)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5)
    ),
    max_leaves=30,
)


@pytest.mark.parametrize(
    ("value", "field", "rule"),
    [
        ({"charges": [{"unitPrice": float("nan")}]}, "$.charges[0].unitPrice", "jcs.number-finite"),
        ({"a": [1, {"b": float("-inf")}]}, "$.a[1].b", "jcs.number-finite"),
        ({"weight": 2**60}, "$.weight", "jcs.number-range"),
        ({"party": {"name\ud800": "x"}}, "$.party.name\\ud800", "jcs.string"),
        ([["ok", "a\udfff"]], "$[0][1]", "jcs.string"),
    ],
)
def test_what_has_no_canonical_form_is_named_by_its_path(
    value: object, field: str, rule: str
) -> None:
    """A NaN deep in a transport document was refused as 'nan is not a JSON number', naming
    no field: the client had to search the document for it."""
    with pytest.raises(FieldError) as caught:
        canonical_json(value)
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert caught.value.message.startswith(field + ": ")


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_agrees_with_an_independent_implementation(value: object) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


def test_checksum_is_lowercase_sha256_of_the_canonical_form() -> None:
    assert canonical_sha256({"b": 1, "a": [1.0]}) == hashlib.sha256(b'{"a":[1],"b":1}').hexdigest()
