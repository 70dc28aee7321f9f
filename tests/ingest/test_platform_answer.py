"""乐企 shapes the reader refused before: the answer envelope ``{"Response": {"Data": …}}``
(a 查验 answer carries its invoice gzip + base64 in ``Data.cyjgxx``; an error answer or one
without an invoice gets a clear error naming the field) and the upload request's top-level
list (one invoice is read; several are refused, naming the count)."""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import replace
from typing import Any

import pytest

from gateway.errors import FieldError, InputError, UnsafeInputError
from gateway.ingest import detect, parse
from gateway.ingest.types import IngestLimits
from gateway.samples import catalogue
from gateway.samples.writers import platform_json
from tests.ingest.leqi import (
    answer,
    dump,
    pack,
    upload_request,
    verification_answer,
    verification_doc,
)

INV = catalogue.PLATFORM_EXPORT
CYJGXX = "Response.Data.cyjgxx"


def _refused(data: bytes, limits: IngestLimits | None = None) -> InputError:
    with pytest.raises(InputError) as caught:
        if limits is None:
            parse(data, "fapiao-json")
        else:
            parse(data, "fapiao-json", limits=limits)
    return caught.value


def _ok(**data: Any) -> bytes:
    return dump(answer({"returncode": "00", "returnmsg": "成功", **data}))


# the 查验 answer ----------------------------------------------------------------------------


def test_a_verification_answer_reads_as_the_invoice_it_packs() -> None:
    data = verification_answer(INV)
    assert detect(data) == "fapiao-json"
    parsed = parse(data)
    bare = parse(dump(verification_doc(INV)))
    upload = parse(platform_json(INV))
    assert parsed.original == data and parsed.source_format == "fapiao-json"
    inv = parsed.invoice
    assert (inv.number, inv.issue_date, inv.totals) == (
        upload.invoice.number,
        upload.invoice.issue_date,
        upload.invoice.totals,
    )
    assert [ln.net_amount for ln in inv.lines] == [ln.net_amount for ln in upload.invoice.lines]
    assert [ln.quantity for ln in inv.lines] == [ln.quantity for ln in upload.invoice.lines]
    assert (inv.seller.name, inv.buyer.name) == (bare.invoice.seller.name, bare.invoice.buyer.name)
    assert parsed.facts.remark == INV.remark


def test_base64_may_be_wrapped_over_lines() -> None:
    packed = pack(verification_doc(INV))
    wrapped = "\n".join(packed[i : i + 76] for i in range(0, len(packed), 76))
    assert parse(_ok(cyjgxx=wrapped)).invoice.number == INV.number


def test_an_error_answer_names_its_code_and_message() -> None:
    data = dump({"Response": {"RequestId": "X", "Error": {"Code": "01", "Message": "签名错误"}}})
    error = _refused(data)
    assert (error.rule, error.field) == ("json.platform-error", "Response.Error")
    assert "Code 01: 签名错误" in error.message and "no invoice" in error.message


@pytest.mark.parametrize(("code", "meaning"), [("02", "查无数据"), ("03", "查验不一致"),
                                               ("04", "非本单位"), ("99", "not a code")])  # fmt: skip
def test_a_return_code_other_than_00_is_refused(code: str, meaning: str) -> None:
    error = _refused(dump(answer({"returncode": code, "returnmsg": "说明"})))
    assert (error.rule, error.field) == ("json.platform-error", "Response.Data.returncode")
    assert meaning in error.message and "说明" in error.message


@pytest.mark.parametrize(
    "data",
    [
        {"returncode": "00", "returnmsg": "成功", "sllsh": "SL-1"},  # the upload answer
        json.loads(platform_json(INV)),  # invoice keys straight in Data: in no documented answer
    ],
)
def test_an_answer_without_a_verification_result_carries_no_invoice(data: Any) -> None:
    error = _refused(dump(answer(data)))
    assert (error.rule, error.field) == ("json.shape", CYJGXX)
    assert "carries no invoice" in error.message and "查验" in error.message


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"Response": "ok"}, "Response"),
        ({"Response": {"RequestId": "X"}}, "Response.Data"),
        ({"Response": {"Data": []}}, "Response.Data"),
    ],
)
def test_a_malformed_envelope_is_a_shape_error(doc: Any, field: str) -> None:
    error = _refused(dump(doc))
    assert (error.rule, error.field) == ("json.shape", field)


def _gzip(raw: bytes) -> str:
    return base64.b64encode(gzip.compress(raw, mtime=0)).decode()


@pytest.mark.parametrize(
    ("cyjgxx", "rule", "words"),
    [
        ("not base64 at all!", "json.packed", "not base64"),
        (base64.b64encode(b'{"fphm": "1"}').decode(), "json.packed", "not gzip"),
        (base64.b64encode(gzip.compress(b'{"fphm": "1"}', mtime=0)[:-12]).decode(), "json.packed",
         "cut short"),
        (base64.b64encode(gzip.compress(b"{}", mtime=0) + b"tail").decode(), "json.packed", "after"),
        ("", "json.shape", "gzip + base64"),
        (17, "json.shape", "gzip + base64"),
        (_gzip(b"{not json"), "json.syntax", "查验 result"),
        (_gzip(b"[" * 40 + b"]" * 40), "json.max-depth", "查验 result"),
        (_gzip(b'{"fphm": "1", "fphm": "2"}'), "json.duplicate-key", ""),
        (_gzip(b'{"bz": "\\u0001"}'), "json.text", ""),
        (_gzip(b'{"hello": "world"}'), "json.shape", "no invoice"),
    ],
)  # fmt: skip
def test_a_bad_verification_result_is_a_typed_error(cyjgxx: object, rule: str, words: str) -> None:
    error = _refused(_ok(cyjgxx=cyjgxx))
    assert error.rule == rule, error.message
    assert words in error.message
    if rule == "json.packed":
        assert error.field == CYJGXX


def test_a_gzip_bomb_stops_at_the_input_limit() -> None:
    limits = IngestLimits(max_input_bytes=64 * 1024)
    bomb = _gzip(b"[" + b" " * (10 * 1024 * 1024) + b"]")  # 10 MiB of spaces: ~10 KiB packed
    data = _ok(cyjgxx=bomb)
    assert len(data) < limits.max_input_bytes
    error = _refused(data, limits)
    assert isinstance(error, UnsafeInputError)
    assert (error.rule, error.field) == ("input.max-bytes", CYJGXX)
    assert str(limits.max_input_bytes) in error.message


def test_the_packed_result_is_not_unpacked_twice() -> None:
    """A result that is itself an answer is not opened again: no invoice."""
    inner = json.loads(verification_answer(INV))
    error = _refused(_ok(cyjgxx=pack(inner)))
    assert error.rule == "json.shape" and "no invoice" in error.message


def test_invoice_keys_beside_response_win() -> None:
    doc = json.loads(platform_json(INV))
    doc["Response"] = {"Error": {"Code": "01", "Message": "x"}}
    assert parse(dump(doc)).invoice.number == INV.number


# the upload request's list -------------------------------------------------------------------


def test_an_upload_list_of_one_invoice_reads_as_that_invoice() -> None:
    data = upload_request(INV)
    assert data.startswith(b"[") and detect(data) == "fapiao-json"
    parsed, bare = parse(data), parse(platform_json(INV))
    assert parsed.original == data
    assert (parsed.invoice.number, parsed.invoice.totals) == (bare.invoice.number,
                                                              bare.invoice.totals)  # fmt: skip
    assert parsed.facts.extra == bare.facts.extra


@pytest.mark.parametrize("count", [2, 100])
def test_an_upload_list_of_several_is_refused_naming_the_count(count: int) -> None:
    other = replace(INV, number="26312000000000100002")
    error = _refused(upload_request(*([INV] * (count - 1)), other))
    assert isinstance(error, FieldError) and error.rule == "json.shape"
    assert f"{count} invoices in a list" in error.message
    assert "one invoice per document" in error.message


@pytest.mark.parametrize("body", [b"[]", b"[1, 2]", b'[{"fphm": "1"}, "x"]', b"[[]]"])
def test_a_list_that_holds_no_invoice_object_is_a_shape_error(body: bytes) -> None:
    error = _refused(body)
    assert error.rule == "json.shape"
    assert "a list of one invoice object" in error.message
