"""The bilingual labels of readable documents: Chinese and English side by side.

Every label a template prints is a key here; :func:`label` gives ``中文 / English``. Terms
follow the 数电票 specification on the Chinese side and EN 16931 on the English side.
"""

from __future__ import annotations

LABELS: dict[str, tuple[str, str]] = {
    "invoice": ("发票", "Invoice"),
    "credit_note": ("红字发票 (贷项通知)", "Credit note"),
    "number": ("发票号码", "Invoice number"),
    "issue_date": ("开票日期", "Issue date"),
    "due_date": ("付款到期日", "Due date"),
    "type_code": ("发票类型代码", "Invoice type code"),
    "currency": ("币种", "Currency"),
    "tax_currency": ("计税币种", "Tax currency"),
    "exchange_rate": ("汇率", "Exchange rate"),
    "profile": ("规范", "Profile"),
    "seller": ("销售方", "Seller"),
    "buyer": ("购买方", "Buyer"),
    "name": ("名称", "Name"),
    "tax_id": ("统一社会信用代码/纳税人识别号", "Tax identifier"),
    "vat_id": ("增值税号", "VAT identifier"),
    "identifiers": ("标识", "Identifiers"),
    "endpoint": ("电子地址", "Electronic address"),
    "address": ("地址", "Address"),
    "country": ("国家", "Country"),
    "references": ("参考", "References"),
    "buyer_reference": ("买方参考", "Buyer reference"),
    "order_ref": ("订单号", "Order reference"),
    "contract_ref": ("合同号", "Contract reference"),
    "project_ref": ("项目号", "Project reference"),
    "lines": ("项目明细", "Invoice lines"),
    "line_id": ("序号", "Line"),
    "item": ("项目名称", "Item"),
    "quantity": ("数量", "Quantity"),
    "unit": ("单位", "Unit"),
    "price": ("单价", "Price"),
    "net_amount": ("金额", "Net amount"),
    "vat_category": ("税类", "VAT category"),
    "vat_rate": ("税率", "VAT rate"),
    "tax_breakdown": ("税额明细", "Tax breakdown"),
    "taxable_amount": ("计税金额", "Taxable amount"),
    "tax_amount": ("税额", "Tax amount"),
    "exemption": ("免税原因", "Exemption reason"),
    "allowances_charges": ("折扣与附加费", "Allowances and charges"),
    "charge": ("附加费", "Charge"),
    "allowance": ("折扣", "Allowance"),
    "reason": ("原因", "Reason"),
    "totals": ("合计", "Totals"),
    "line_net": ("明细金额合计", "Sum of line net amounts"),
    "tax_exclusive": ("不含税金额", "Total without VAT"),
    "tax_total": ("税额合计", "Total VAT"),
    "tax_inclusive": ("价税合计", "Total with VAT"),
    "payable": ("应付金额", "Amount due"),
    "notes": ("备注", "Notes"),
    "original": ("原始发票", "Original fapiao"),
    "source_format": ("来源格式", "Source format"),
    "fapiao_kind": ("票种", "Fapiao kind"),
    "red_letter": ("红字发票", "Red-letter fapiao"),
    "red_confirmation": ("红字确认单编号", "Red-letter confirmation number"),
    "special_tax": ("特定征税方式", "Special tax method"),
    "export": ("出口", "Export"),
    "drawer": ("开票人", "Drawer"),
    "tax_bureau": ("税务机关", "Tax bureau"),
    "remark": ("备注", "Remark"),
    "parse_warnings": ("读取提示", "Reading notes"),
    "original_unreadable": ("原始发票无法读取", "The original could not be read"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "validation": ("校验报告", "Validation report"),
    "valid": ("有效", "valid"),
    "invalid": ("无效", "invalid"),
    "not_validated": ("尚未校验", "not validated yet"),
    "rule": ("规则", "Rule"),
    "severity": ("级别", "Severity"),
    "location": ("位置", "Location"),
    "text": ("说明", "Text"),
    "source": ("规则集", "Rule set"),
    "fatal": ("错误", "fatal"),
    "warning": ("警告", "warning"),
    "information": ("提示", "information"),
    "no_findings": ("无发现", "No findings"),
    "artefacts": ("所用规则文件", "Artefacts applied"),
    "document_id": ("文档编号", "Document id"),
    "receiver": ("接收方", "Receiver"),
    "sender": ("发送方", "Sender"),
    "state": ("状态", "State"),
}
"""Label key → (Chinese, English)."""


def label(key: str) -> str:
    """``中文 / English`` for ``key``; an unknown key is a bug and raises ``KeyError``."""
    chinese, english = LABELS[key]
    return f"{chinese} / {english}"


def chinese(key: str) -> str:
    """The Chinese label alone."""
    return LABELS[key][0]


def english(key: str) -> str:
    """The English label alone."""
    return LABELS[key][1]
