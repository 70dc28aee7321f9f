"""Peppol Message Level Status: the verdict (AP / AB / RE) on a message, each issue's
reason code with its meaning, and the message it is about (the SBDH ``InstanceIdentifier``).

The meanings are those of the MLS 1.0 code lists (``ResponseCode``, ``StatusReason``), in
Chinese and English; a code outside them is shown as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import LingangError
from gateway.read.mls import ReceivedMls, read_mls
from gateway.readable.registry import RenderSource
from gateway.readable.templating import render_template

RESPONSE_MEANINGS: dict[str, tuple[str, str]] = {
    "AP": (
        "已接受: 已投递且接收方系统已确认",
        "Accepted: delivered, the receiving system confirmed",
    ),
    "AB": ("已投递: 未获确认", "Acknowledged: delivered, without confirmation"),
    "RE": ("已拒绝: 被拒收或投递失败", "Rejected: refused, or delivery failed"),
}
REASON_MEANINGS: dict[str, tuple[str, str]] = {
    "SV": ("语法错误", "Syntax violation"),
    "BV": ("业务规则错误 (致命)", "Business rule violation (fatal)"),
    "BW": ("业务规则警告", "Business rule warning"),
    "FD": ("投递失败", "Failure of delivery"),
}
BADGES = {"AP": "ok", "AB": "information", "RE": "fatal"}


@dataclass(frozen=True, slots=True)
class MlsRenderer:
    """Renders Message Level Status documents (document kind ``mls``)."""

    kind: str = "mls"

    def accepts(self, source: RenderSource) -> bool:
        if b"ApplicationResponse" not in source.data[:8192]:
            return False
        try:
            read_mls(source.data)
        except LingangError:
            return False
        return True

    def render(self, source: RenderSource) -> str:
        mls = read_mls(source.data)
        return render_template(
            "mls.html",
            title=f"MLS {mls.code} · {mls.instance_id}",
            mls=mls,
            badge=BADGES.get(mls.code, "information"),
            meaning=_meaning(RESPONSE_MEANINGS, mls.code),
            issues=_issues(mls),
            document_id=source.document_id,
        )


RENDERER = MlsRenderer()


def _meaning(table: dict[str, tuple[str, str]], code: str) -> str:
    found = table.get(code)
    return f"{found[0]} / {found[1]}" if found else ""


def _issues(mls: ReceivedMls) -> list[tuple[str, str, str, str]]:
    """``(reason code, its meaning, location, description)`` per issue."""
    return [
        (i.reason, _meaning(REASON_MEANINGS, i.reason), i.location, i.description)
        for i in mls.issues
    ]
