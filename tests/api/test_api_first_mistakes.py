"""The mistakes a new client makes first, answered so that the next request is right.

A 415 for ``text/plain`` or a form type (curl ``-d``'s default) said only "unsupported
content type", with no ``Accept`` naming what would do (RFC 9110 15.5.16); a malformed
``exchange_rate`` or ``currency`` said "is not in its form (see the OpenAPI document)"; a
fapiao XML sent as ``application/json`` was "not valid JSON", without saying it was XML.
"""

from __future__ import annotations

import json

import pytest
from aiohttp import FormData

from gateway.api.ingest import DOCUMENT_FIELDS, FORMS, MAPPING_FIELDS
from tests.api.conftest import LiveApi


@pytest.mark.parametrize("media_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_a_415_names_the_types_to_send_in_its_detail_and_accept(
    api: LiveApi, fapiao_xml: bytes, media_type: str
) -> None:
    status, headers, raw = await api.a.request(
        "POST", "/v1/documents", data=fapiao_xml, headers={"Content-Type": media_type}
    )
    assert status == 415, raw
    accepted = {value.strip() for value in headers["Accept"].split(",")}
    assert {"application/xml", "application/json", "application/ofd"} <= accepted
    assert "multipart/form-data" in accepted
    problem = json.loads(raw)
    assert media_type in problem["detail"]
    assert "application/xml" in problem["detail"] and "application/ofd" in problem["detail"]
    (issue,) = problem["errors"]
    assert (issue["field"], issue["rule"]) == ("Content-Type", "media-type")
    assert await api.store.list_submissions(api.tenant_a.id) == []


async def test_a_form_part_of_an_unknown_type_is_told_the_types_too(
    api: LiveApi, fapiao_xml: bytes
) -> None:
    form = FormData()
    form.add_field("document", fapiao_xml, filename="f.xml", content_type="text/plain")
    status, headers, raw = await api.a.request("POST", "/v1/documents", data=form)
    assert status == 415, raw
    assert "application/xml" in headers["Accept"]
    assert "application/xml" in json.loads(raw)["detail"]


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("exchange_rate=7,1", "a positive decimal number with a dot"),
        ("exchange_rate=abc", "CNY per one unit of the invoice currency, e.g. 7.1234"),
        ("currency=usd", "an ISO 4217 code in capitals, e.g. USD"),
        ("buyer_reference=%20", "text with something besides blanks"),
        ("preceding_invoice_date=20260920", "a date written YYYY-MM-DD"),
    ],
)
async def test_a_malformed_fact_is_told_its_form(
    api: LiveApi, fapiao_xml: bytes, query: str, said: str
) -> None:
    status, _, raw = await api.a.request(
        "POST",
        f"/v1/documents?{query}",
        data=fapiao_xml,
        headers={"Content-Type": "application/xml"},
    )
    assert status == 422, raw
    problem = json.loads(raw)
    assert said in problem["detail"], problem["detail"]
    assert "see the OpenAPI document" not in problem["detail"]
    assert problem["errors"][0]["field"] == query.split("=")[0]


def test_every_field_with_a_form_has_it_in_words() -> None:
    assert set(FORMS) == {*MAPPING_FIELDS, *DOCUMENT_FIELDS}


async def test_xml_sent_as_json_is_told_to_be_sent_as_xml(api: LiveApi, fapiao_xml: bytes) -> None:
    status, _, raw = await api.a.request(
        "POST", "/v1/documents", data=fapiao_xml, headers={"Content-Type": "application/json"}
    )
    assert status == 422, raw
    problem = json.loads(raw)
    assert "not valid JSON" in problem["detail"]
    assert "send XML as application/xml" in problem["detail"]
    assert (problem["errors"][0]["field"], problem["errors"][0]["rule"]) == ("document", "json")


async def test_listing_by_a_state_that_does_not_exist_is_a_422_naming_the_states(
    api: LiveApi, fapiao_xml: bytes
) -> None:
    """``?state=sent`` answered 200 with no items, which reads as 'nothing was sent', while
    ``/v1/received?status=`` and ``/v1/holds?state=`` refuse a word they do not know."""
    status, _, raw = await api.a.request(
        "POST", "/v1/documents", data=fapiao_xml, headers={"Content-Type": "application/xml"}
    )
    assert status == 202, raw

    status, _, raw = await api.a.request("GET", "/v1/documents?state=sent")
    assert status == 422, raw
    problem = json.loads(raw)
    assert "state is one of received," in problem["detail"]
    assert "delivered" in problem["detail"] and "held" in problem["detail"]
    assert (problem["errors"][0]["field"], problem["errors"][0]["rule"]) == ("state", "enum")

    status, _, raw = await api.a.request("GET", "/v1/documents?state=received")
    assert status == 200, raw
    assert json.loads(raw)["count"] == 1


def test_the_openapi_document_lists_the_states_the_api_takes() -> None:
    from gateway.api.openapi import openapi_document
    from gateway.api.routes.documents import STATES

    (state,) = [
        p
        for p in openapi_document()["paths"]["/v1/documents"]["get"]["parameters"]
        if p["name"] == "state"
    ]
    assert tuple(state["schema"]["enum"]) == STATES
