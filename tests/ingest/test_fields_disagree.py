"""Two fields of one fapiao that state the same fact and disagree are warned about, naming
both; the one used stays the one used before (FORMAT.md §2, §4, §7, §11).

Before, only Header/EIid against the invoice number was compared. 开票日期 against 发票生成时间
(FORMAT.md §12: BT-2 is RequestTime's date, "equals IssueTime date"), a red-letter fapiao's
RedEInvoice block against the numbers its remark states (§7), and Nuonuo's invoiceNo /
oldInvoiceNo against allElectronicInvoiceNumber / oldEleInvoiceNumber (§11: the same 20-digit
number on a 数电 electronic invoice) were silently resolved by taking one of them.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.ingest import parse
from gateway.mapping import map_parsed
from gateway.samples import catalogue
from gateway.samples.writers import einvoice_xml, nuonuo_json
from tests.mapping.fidelity import directory, fapiao, machine_line

BLUE = "26312000000000000102"
FORM = "31012026112000000017"


def _codes(data: bytes, code: str) -> list[str]:
    return [w.message for w in parse(data).warnings if w.code == code]


def _red(remark: str) -> bytes:
    line = machine_line(amount="-1000.00", tax="-130.00", gross="-1130.00", quantity="-2")
    inv = fapiao(
        [line], number="26312000000000100131", blue="N", red_original=BLUE, red_confirmation=FORM
    )
    inv.remark = remark
    return einvoice_xml(inv)


def test_eiid_differing_from_the_invoice_number_is_warned_through_to_the_mapping() -> None:
    data = einvoice_xml(fapiao()).replace(
        b"<EIid>26312000000000100001</EIid>", b"<EIid>26312000000000100009</EIid>"
    )
    parsed = parse(data)
    assert parsed.invoice.number == "26312000000000100001"
    (message,) = [w.message for w in parsed.warnings if w.code == "fapiao.eiid-mismatch"]
    assert "Header/EIid 26312000000000100009" in message and "26312000000000100001" in message
    mapped = map_parsed(parsed, directory(), profile="pint-sg")
    assert any("fapiao.eiid-mismatch" in w for w in mapped.warnings)


def test_issue_date_and_generation_date_disagreeing_is_warned() -> None:
    data = einvoice_xml(fapiao(issued="2026-11-20 10:15:00"))
    assert b"<IssueTime>2026-11-20</IssueTime>" in data
    assert _codes(data, "fapiao.fields-disagree") == []  # same day, other format: agree
    data = data.replace(b"<IssueTime>2026-11-20</IssueTime>", b"<IssueTime>2026-11-02</IssueTime>")
    (message,) = _codes(data, "fapiao.fields-disagree")
    assert "TaxSupervisionInfo/IssueTime '2026-11-02'" in message
    assert "RequestTime '2026-11-20 10:15:00'" in message
    assert parse(data).invoice.issue_date.isoformat() == "2026-11-20"  # as before


def test_red_letter_block_and_remark_disagreeing_are_warned() -> None:
    agreeing = _red(f"被红冲蓝字数电发票号码：{BLUE} 红字发票信息确认单编号：{FORM}")
    assert _codes(agreeing, "red.reference-mismatch") == []
    other = "26312000000000000777"
    data = _red(f"被红冲蓝字数电发票号码：{other} 红字发票信息确认单编号：31012026112000000099")
    messages = _codes(data, "red.reference-mismatch")
    assert len(messages) == 2
    assert other in messages[0] and BLUE in messages[0] and "OriginalInvoiceCode" in messages[0]
    assert "31012026112000000099" in messages[1] and "CreditNoteNumber" in messages[1]
    assert parse(data).invoice.preceding_invoices[0].number == BLUE  # as before


def _nuonuo(**changes: Any) -> bytes:
    (doc,) = json.loads(nuonuo_json(catalogue.PLATFORM_EXPORT))["result"]
    doc.update(changes)
    return json.dumps({"result": [doc]}, ensure_ascii=False).encode()


def test_nuonuo_numbers_disagreeing_are_warned() -> None:
    number = catalogue.PLATFORM_EXPORT.number
    assert _codes(_nuonuo(), "fapiao.fields-disagree") == []
    (message,) = _codes(_nuonuo(invoiceNo="26312000000000999999"), "fapiao.fields-disagree")
    assert "invoiceNo '26312000000000999999'" in message
    assert f"allElectronicInvoiceNumber '{number}'" in message
    paper = _nuonuo(invoiceCode="031001900111", invoiceNo="12345678")
    assert _codes(paper, "fapiao.fields-disagree") == []  # code + number: another identity
