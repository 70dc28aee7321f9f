"""The answer envelope of the STA's 乐企 platform, and the one answer in it that carries an
invoice.

Every 乐企 interface answers ``{"Response": {"RequestId": …, "Data": {"returncode": "00",
"returnmsg": …, …}}}``, or ``{"Response": {"RequestId": …, "Error": {"Code": …, "Message":
…}}}`` when the call failed (the 返回报文示例 of FORMAT.md's sources [S3] ch.五 and [S2] §五
1.6). Of the answers they describe, only the 查验 (verification, ``FPCY_NEW``) answer holds an
invoice, and not as keys of ``Data``: ``Data.cyjgxx`` is the invoice JSON — the fields
FORMAT.md §11 lists as the verification response — gzip-compressed and base64-encoded
([S2] §五 1.5, §六 1). So:

* ``Response.Error`` is refused, naming its ``Code`` and ``Message``;
* a ``returncode`` other than ``00`` is refused, naming what [S2] says it means and the
  ``returnmsg``;
* ``cyjgxx`` is unpacked (strict base64, one gzip member, at most the input size limit once
  unpacked) and parsed under the same JSON limits as the input;
* any other ``Data`` (the upload answer's ``sllsh``, a 红字确认单 …) carries no invoice and is
  refused as such. Invoice keys written straight into ``Data`` are in no answer the sources
  show, and are refused the same way rather than guessed at.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from typing import Any

from gateway.errors import FieldError, UnsafeInputError
from gateway.ingest.platform_fields import text
from gateway.ingest.safejson import load_json
from gateway.ingest.types import IngestLimits

ANSWER = "Response"
"""The key of the 乐企 answer envelope, spelt as the sources spell it (capital R)."""
RESULT = "cyjgxx"
"""查验结果信息: the invoice JSON, gzip + base64."""
RESULT_PATH = f"{ANSWER}.Data.{RESULT}"
RETURN_CODES = {
    "01": "失败, failed",
    "02": "查无数据, no such invoice",
    "03": "查验不一致, the invoice does not match",
    "04": "此发票非本单位开具或取得, not issued or received by the caller",
}
"""``returncode`` of the 查验 answer other than ``00`` 成功 ([S2] §五 1.5)."""


def read_answer(doc: dict[str, Any], limits: IngestLimits) -> Any:
    """The invoice JSON a 乐企 answer ``doc`` (``{"Response": …}``) carries, parsed; or the
    reason it carries none, as a typed error naming the field."""
    response = doc[ANSWER]
    if not isinstance(response, dict):
        raise FieldError(f"{ANSWER} must be an object", field=ANSWER, rule="json.shape")
    error = response.get("Error")
    if error is not None:
        error_code, error_message = _error(error)
        raise FieldError(
            f"the 乐企 answer is an error (Response.Error Code {error_code}: {error_message}); it "
            "carries no invoice",
            field=f"{ANSWER}.Error",
            rule="json.platform-error",
        )
    data = response.get("Data")
    if not isinstance(data, dict):
        raise FieldError(
            f"the 乐企 answer has no {ANSWER}.Data object",
            field=f"{ANSWER}.Data",
            rule="json.shape",
        )
    code = text(data.get("returncode"))
    if code is not None and code != "00":
        meaning = RETURN_CODES.get(code, "not a code the 查验 interface documents")
        message = text(data.get("returnmsg")) or "no returnmsg"
        raise FieldError(
            f"the 乐企 answer's returncode is {code} ({meaning}): {message}; it carries no invoice",
            field=f"{ANSWER}.Data.returncode",
            rule="json.platform-error",
        )
    if RESULT not in data:
        raise FieldError(
            f"the 乐企 answer carries no invoice: of its answers only the 查验 answer does, in "
            f"{RESULT_PATH} (gzip + base64 of the invoice JSON)",
            field=RESULT_PATH,
            rule="json.shape",
        )
    return load_json(
        _unpack(data[RESULT], limits), limits, f"the 查验 result ({RESULT_PATH})", for_xml=True
    )


def _error(error: Any) -> tuple[str, str]:
    if not isinstance(error, dict):
        return "?", text(error) or "no message"
    return text(error.get("Code")) or "?", text(error.get("Message")) or "no message"


def _unpack(packed: Any, limits: IngestLimits) -> bytes:
    """The bytes ``cyjgxx`` holds: base64 decoded, then gunzipped, bounded by ``limits``."""
    if not isinstance(packed, str) or not packed.strip():
        raise FieldError(
            f"{RESULT_PATH} must be the 查验 result as gzip + base64 text",
            field=RESULT_PATH,
            rule="json.shape",
        )
    try:
        raw = base64.b64decode("".join(packed.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FieldError(
            f"{RESULT_PATH} is not base64: {exc}", field=RESULT_PATH, rule="json.packed"
        ) from exc
    limit = limits.max_input_bytes
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing only
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise FieldError(
            f"{RESULT_PATH} is not gzip data: {exc}", field=RESULT_PATH, rule="json.packed"
        ) from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise UnsafeInputError(
            f"{RESULT_PATH} unpacks to more than {limit} bytes",
            field=RESULT_PATH,
            rule="input.max-bytes",
        )
    if not inflater.eof:
        raise FieldError(
            f"{RESULT_PATH} is cut short: its gzip data ends before the stream does",
            field=RESULT_PATH,
            rule="json.packed",
        )
    if inflater.unused_data:
        raise FieldError(
            f"{RESULT_PATH} has {len(inflater.unused_data)} bytes after its gzip data",
            field=RESULT_PATH,
            rule="json.packed",
        )
    return out
