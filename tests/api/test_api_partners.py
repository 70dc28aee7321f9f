"""``/v1/partners``: JSON and TOML bodies, validated, replacing the tenant's directory."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from gateway.errors import FieldError
from gateway.partners import PartnerDirectory
from gateway.store.partner_directory import directory_document
from tests.api.conftest import LiveApi
from tests.api.test_api_documents import named, problem

TOML = """
[[partners]]
buyer_name = "Acme Trading Pte. Ltd."
buyer_id = "T08GA0028A"
endpoint = "0195:SGUEN200212345Z"
country = "SG"
profile = "pint-sg"
currency = "USD"
exchange_rate = "7.1"

[[partners]]
buyer_name = "Harbour Ltd"
endpoint = "0088:5790000435975"
country = "HK"

[[exporters]]
seller_id = "91310115MA1K4XXXXX"
endpoint = "0199:5493001KJTIIGC8Y1R12"
"""


async def test_put_toml_then_get_returns_the_same_directory(api: LiveApi) -> None:
    status, _, raw = await api.a.request(
        "PUT", "/v1/partners", data=TOML.encode(), headers={"Content-Type": "application/toml"}
    )
    assert status == 200, raw
    assert json.loads(raw)["entries"] == 3
    status, _, raw = await api.a.request("GET", "/v1/partners")
    body = json.loads(raw)
    assert {p.get("buyer_id") for p in body["partners"]} == {"T08GA0028A", None}
    assert body["exporters"] == [
        {"seller_id": "91310115MA1K4XXXXX", "endpoint": "0199:5493001KJTIIGC8Y1R12"}
    ]
    directory = PartnerDirectory.from_dict(await directory_document(api.store, api.tenant_a.id))
    partner = directory.find_partner(None, "T08GA0028A")
    assert partner.currency == "USD"
    assert directory.find_exporter("91310115MA1K4XXXXX") is not None


async def test_a_body_that_arrives_in_pieces_is_read_whole(api: LiveApi) -> None:
    """``read(n)`` returns what has arrived so far; the directory must be read to its end."""
    body = b"# padding\n" * 20_000 + TOML.encode()

    async def slowly() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 16_384):
            yield body[start : start + 16_384]
            await asyncio.sleep(0.01)

    status, _, raw = await api.a.request(
        "PUT", "/v1/partners", data=slowly(), headers={"Content-Type": "application/toml"}
    )
    assert status == 200, raw
    assert json.loads(raw)["entries"] == 3


async def test_put_replaces_the_whole_directory(api: LiveApi) -> None:
    await api.a.request(
        "PUT", "/v1/partners", data=TOML.encode(), headers={"Content-Type": "application/toml"}
    )
    replacement = {"partners": [{"buyer_name": "Only One", "country": "SG"}]}
    status, _, raw = await api.a.request("PUT", "/v1/partners", json=replacement)
    assert status == 200, raw
    status, _, raw = await api.a.request("GET", "/v1/partners")
    assert json.loads(raw) == {"partners": replacement["partners"], "exporters": []}


async def test_invalid_directories_name_the_field(api: LiveApi) -> None:
    before = {"partners": [{"buyer_name": "Keep Me"}]}
    await api.a.request("PUT", "/v1/partners", json=before)
    cases = [
        ({"partners": [{"buyer_name": "X", "country": "ZZ"}]}, "partners[0].country"),
        ({"partners": [{"buyer_name": "X", "colour": "red"}]}, "partners[0].colour"),
        ({"exporters": [{"seller_id": "9131", "endpoint": "0131:x"}]}, "exporters[0].endpoint"),
        ({"partners": [{"country": "SG"}]}, "partners[0].buyer_name"),
        ({"partners": "nope"}, "partners"),
        ({"suppliers": []}, "suppliers"),
    ]
    for directory, field in cases:
        status, _, raw = await api.a.request("PUT", "/v1/partners", json=directory)
        assert status == 422, directory
        data = problem(raw, 422)
        assert any(e.get("field") == field for e in data["errors"]), data
    status, _, raw = await api.a.request("GET", "/v1/partners")
    assert json.loads(raw)["partners"] == before["partners"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"partners": [{"buyer_name": "Keep Me"}], "partners": []}', "partners"),
        (
            b'{"partners": [{"buyer_name": "Acme", "endpoint": "0195:SGUEN200212345Z", '
            b'"endpoint": "0088:5790000435975"}]}',
            "endpoint",
        ),
    ],
    ids=["partners-twice", "endpoint-twice"],
)
async def test_a_member_given_twice_is_refused_like_a_toml_key_given_twice(
    api: LiveApi, body: bytes, field: str
) -> None:
    """TOML refuses a key given twice; JSON kept the last one without a word: a second
    ``partners`` emptied the directory, a second ``endpoint`` routed the buyer's invoices to
    it. Now both forms refuse, naming the member (I-JSON, RFC 7493 2.3)."""
    before = {"partners": [{"buyer_name": "Keep Me"}]}
    await api.a.request("PUT", "/v1/partners", json=before)
    status, _, raw = await api.a.request(
        "PUT", "/v1/partners", data=body, headers={"Content-Type": "application/json"}
    )
    data = problem(raw, 422)
    assert [(e.get("field"), e.get("rule")) for e in data["errors"]] == [
        (field, "json.duplicate-key")
    ], (status, data)
    status, _, raw = await api.a.request("GET", "/v1/partners")
    assert status == 200
    assert json.loads(raw)["partners"] == before["partners"]


async def test_duplicate_entries_are_refused(api: LiveApi) -> None:
    twice = {"partners": [{"buyer_id": "A1"}, {"buyer_id": "A1", "country": "SG"}]}
    _, _, raw = await api.a.request("PUT", "/v1/partners", json=twice)
    assert named(problem(raw, 422), "partners[1]", "unique")


async def test_malformed_bodies_are_problems(api: LiveApi) -> None:
    cases = [
        (b"{not json", "application/json", 422, "json"),
        (b"[1, 2]", "application/json", 422, "object"),
        (b'{"partners": [{"buyer_id": NaN}]}', "application/json", 422, "json"),
        (b"[[partners]\nbroken", "application/toml", 422, "toml"),
        (b"d = 1979-05-27", "text/toml", 422, "json-value"),
        (b"\xff\xfe", "application/json", 422, "utf-8"),
        (b"partners=[]", "application/x-www-form-urlencoded", 415, "media-type"),
        # nested past the parsers' recursion (once RecursionError: 500), and just past ours
        (b"a = " + b"[" * 2000 + b"]" * 2000, "application/toml", 422, "max-depth"),
        (b"a = " + b"{b = " * 5000 + b"1" + b"}" * 5000, "application/toml", 422, "max-depth"),
        (b"a" + b".a" * 5000 + b" = 1", "application/toml", 422, "max-depth"),
        (b'{"a": ' + b"[" * 990 + b"]" * 990 + b"}", "application/json", 422, "max-depth"),
        (b'{"a": ' + b"[" * 17 + b"]" * 17 + b"}", "application/json", 422, "max-depth"),
        # an integer of more digits than Python converts (once a ValueError: 500)
        (b"a = 1" + b"0" * 5000, "application/toml", 422, "toml"),
        # nothing to store: an empty body does not clear the directory
        (b"", "application/toml", 422, "required"),
        (b" \n", "application/json", 422, "required"),
    ]
    for body, media_type, status, rule in cases:
        code, _, raw = await api.a.request(
            "PUT", "/v1/partners", data=body, headers={"Content-Type": media_type}
        )
        assert code == status, (body, raw)
        data = problem(raw, status)
        assert any(e.get("rule") == rule for e in data["errors"]), data


async def test_text_a_document_cannot_carry_is_refused_naming_the_field(api: LiveApi) -> None:
    """A lone surrogate (JSON ``\\ud800``) cannot be stored as UTF-8 (once a 500); a NUL or
    another control character cannot go into the XML invoice (once accepted, then every
    document for that buyer crashed its job)."""
    _, _, before = await api.a.request("GET", "/v1/partners")
    cases = [
        (
            b'{"partners": [{"buyer_name": "\\ud800", "endpoint": "0195:SGUEN1"}]}',
            "partners[0].buyer_name",
        ),
        (
            b'{"partners": [{"buyer_name": "Acme", "street": "Line\\u0000One"}]}',
            "partners[0].street",
        ),
        (b'{"partners": [{"buyer_name": "a\\u001fb"}]}', "partners[0].buyer_name"),
        (b'{"partners": [{"buyer_name": "Acme", "\\udc00": "x"}]}', "partners[0].\\udc00"),
    ]
    for body, field in cases:
        code, _, raw = await api.a.request(
            "PUT", "/v1/partners", data=body, headers={"Content-Type": "application/json"}
        )
        assert code == 422, (body, raw)
        assert named(problem(raw, 422), field, "xml-text"), raw
    long_name = {"partners": [{"buyer_name": "名" * 501, "endpoint": "0195:SGUEN1"}]}
    code, _, raw = await api.a.request("PUT", "/v1/partners", json=long_name)
    assert named(problem(raw, 422), "partners[0].buyer_name", "max-length"), raw
    padded = {"partners": [{"buyer_name": "Acme", "endpoint": "0195:SGUEN1" + " " * 490}]}
    code, _, raw = await api.a.request("PUT", "/v1/partners", json=padded)
    assert named(problem(raw, 422), "partners[0].endpoint", "max-length"), raw  # maxLength 500
    toml = b'partners = [{buyer_name = "a\\u0000b", endpoint = "0195:SGUEN1"}]'
    code, _, raw = await api.a.request(
        "PUT", "/v1/partners", data=toml, headers={"Content-Type": "application/toml"}
    )
    assert named(problem(raw, 422), "partners[0].buyer_name", "xml-text"), raw
    assert (await api.a.request("GET", "/v1/partners"))[2] == before


def test_a_directory_file_with_a_control_character_names_it() -> None:
    """The same check for a directory read from a file or the store."""
    data = {"partners": [{"buyer_name": "Acme", "street": "a\x01b"}]}
    try:
        PartnerDirectory.from_dict(data)
    except FieldError as exc:
        assert exc.field == "partners[0].street" and "U+0001" in str(exc)
    else:
        raise AssertionError("a control character was accepted")


async def test_a_huge_directory_is_413(api: LiveApi) -> None:
    huge = b'{"partners": [' + b'{"buyer_name": "x"},' * 110_000 + b'{"buyer_name": "y"}]}'
    _, _, raw = await api.a.request(
        "PUT", "/v1/partners", data=huge, headers={"Content-Type": "application/json"}
    )
    assert named(problem(raw, 413), "body", "max-directory-bytes")


@pytest.mark.parametrize(
    ("key", "value", "character"),
    [
        ("endpoint", "0195:SGUEN\u202e200212345Z", "U+202E"),
        ("buyer_id", "T08GA\u20680028A", "U+2068"),
        ("buyer_id", "T08GA\t0028A", "U+0009"),
        ("order_reference", "PO\u2066-7", "U+2066"),
        ("buyer_name", "Acme \u202eTrading", "U+202E"),
    ],
)
async def test_identifiers_and_names_refuse_direction_characters(
    api: LiveApi, key: str, value: str, character: str
) -> None:
    """A participant id or buyer id with U+202E shows reordered on every page that names
    the partner (Unicode TR #36 2.1); it was stored. Now a 422 names the key and the
    character, and the directory is unchanged."""
    entry = {"buyer_name": "Acme", "endpoint": "0195:SGUEN200212345Z", "country": "SG", key: value}
    _, _, raw = await api.a.request(
        "PUT",
        "/v1/partners",
        data=json.dumps({"partners": [entry]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    data = problem(raw, 422)
    assert named(data, f"partners[0].{key}", "text.unsafe-character"), data
    assert character in data["detail"]
    _, _, raw = await api.a.request("GET", "/v1/partners")
    assert json.loads(raw)["partners"] == []


async def test_a_json_directory_issue_points_at_its_member(api: LiveApi) -> None:
    """RFC 9457 issue with an RFC 6901 pointer into the JSON body (items from 0); a TOML
    body has no JSON to point into."""
    second = {"buyer_name": "B", "endpoint": "0195", "country": "SG"}
    partners = [{"buyer_name": "A", "endpoint": "0195:SGUEN1", "country": "SG"}, second]
    _, _, raw = await api.a.request(
        "PUT",
        "/v1/partners",
        data=json.dumps({"partners": partners}).encode(),
        headers={"Content-Type": "application/json"},
    )
    [error] = problem(raw, 422)["errors"]
    assert (error["field"], error["pointer"]) == ("partners[1].endpoint", "/partners/1/endpoint")
    toml = '[[partners]]\nbuyer_name = "B"\nendpoint = "0195"\ncountry = "SG"\n'
    _, _, raw = await api.a.request(
        "PUT", "/v1/partners", data=toml.encode(), headers={"Content-Type": "application/toml"}
    )
    [error] = problem(raw, 422)["errors"]
    assert error["field"] == "partners[0].endpoint" and "pointer" not in error
