"""乐企 shapes for tests, built from a sample fapiao as FORMAT.md's sources give them: the 查验
result JSON ([S2] §六 1: ``sflzfp``, ``fppzDm``, ``hwxx`` with ``fpjysl`` / ``fpjydj``), the
answer envelope carrying it gzip + base64 in ``cyjgxx`` ([S2] §五 1.6), and the upload request
(a list of invoices, [S3] 数电票上传)."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from gateway.samples.writers import SampleInvoice, platform_json

REQUEST_ID = "A1B2C3D4E5F6G7H8"


def verification_doc(inv: SampleInvoice) -> dict[str, Any]:
    """The 查验 result of ``inv`` (the JSON that ``cyjgxx`` packs)."""
    upload = json.loads(platform_json(inv))
    doc: dict[str, Any] = {
        "fphm": upload["fphm"], "kprq": upload["kprq"], "fppzDm": upload["fppz"],
        "sflzfp": "Y" if upload["lzfpbz"] == "0" else "N",
        "kjhzfpdydlzfphm": upload["dylzfphm"],
        "xsfnsrsbh": upload["xsfnsrsbh"], "xsfmc": upload["xsfmc"],
        "gmfnsrsbh": upload["gmfnsrsbh"], "gmfmc": upload["gmfmc"], "gmfdz": upload["gmfdz"],
        "hjje": upload["hjje"], "hjse": upload["hjse"], "jshj": upload["jshj"],
        "kpr": upload["kpr"], "bz": upload["bz"], "xmmxhs": len(upload["fpmxList"]),
    }  # fmt: skip
    doc["hwxx"] = [_item(line) for line in upload["fpmxList"]]
    return doc


def _item(line: dict[str, Any]) -> dict[str, Any]:
    """An upload line (``fpmxList``) as the 查验 result's goods line (``hwxx``)."""
    return {
        "xh": line["mxxh"], "hwhyslwfwmc": line["hwhyslwfwmc"],
        "sphfwssflhbbm": line["sphfwssflhbbm"], "ggxh": line["ggxh"], "dw": line["dw"],
        "fpjysl": line["sl"], "fpjydj": line["dj"], "slv": line["slv"], "se": line["se"],
        "je": line["je"],
    }  # fmt: skip


def pack(doc: object) -> str:
    """``doc`` as ``cyjgxx`` carries it: JSON, gzip, base64."""
    raw = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, mtime=0)).decode("ascii")


def answer(data: dict[str, Any]) -> dict[str, Any]:
    """A 乐企 answer whose ``Response.Data`` is ``data``."""
    return {"Response": {"RequestId": REQUEST_ID, "Data": data}}


def verification_answer(inv: SampleInvoice) -> bytes:
    """The 查验 answer for ``inv``, as the platform sends it."""
    data = {"returncode": "00", "returnmsg": "成功", "cyjgxx": pack(verification_doc(inv))}
    return dump(answer(data))


def upload_request(*invs: SampleInvoice) -> bytes:
    """The 乐企 upload request body: a list of invoice objects."""
    return dump([json.loads(platform_json(inv)) for inv in invs])


def dump(doc: object) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def differential_upload() -> dict[str, Any]:
    """A 乐企 upload of a 差额征税 invoice (FORMAT.md §6, §11): the deduction is the line's
    ``kce``, the header says only ``cezslxDm``; tax = (10100 − 10000) / 1.06 × 0.06 = 5.66."""
    return {
        "fphm": "26312000000000000778", "lzfpbz": "0", "fppz": "02", "cezslxDm": "02",
        "kprq": "2026-11-02 11:12:13", "xsfnsrsbh": "91310115MA1FL8K22H",
        "xsfmc": "上海临港示例精密机械有限公司", "gmfmc": "Lion City Trading Pte. Ltd.",
        "hjje": "10094.34", "hjse": "5.66", "jshj": "10100.00",
        "fpmxList": [{"mxxh": "1", "hwhyslwfwmc": "*经纪代理服务*代理费", "je": "10094.34",
                      "slv": "0.06", "se": "5.66", "hsje": "10100.00", "kce": "10000.00",
                      "sphfwssflhbbm": "3040802010000000000", "fphxz": "00"}],
    }  # fmt: skip
