"""The console's words in Chinese and English (the language switch picks one).

Screens add their own words with :func:`add_texts` at import, so a new screen brings its
text along without editing this table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

TEXTS: dict[str, tuple[str, str]] = {
    "console": ("临港网关控制台", "Lingang Gateway console"),
    "signin": ("登录", "Sign in"),
    "signout": ("退出", "Sign out"),
    "api_key": ("API 密钥", "API key"),
    "signin_hint": ("用租户的 API 密钥登录。", "Sign in with your tenant's API key."),
    "bad_key": ("API 密钥无效。", "The API key is not valid."),
    "too_many_signins": (
        "登录失败次数过多，请稍后再试。",
        "Too many failed sign-ins; try again later.",
    ),
    "language": ("语言", "Language"),
    "documents": ("文档", "Documents"),
    "upload": ("上传", "Upload"),
    "stuck": ("死信与暂扣", "Dead letters and held"),
    "partners": ("合作伙伴", "Partners"),
    "health": ("运行状况", "Health"),
    "state": ("状态", "State"),
    "profile": ("规范", "Profile"),
    "receiver": ("接收方", "Receiver"),
    "sender": ("发送方", "Sender"),
    "number": ("发票号码", "Number"),
    "file": ("文件", "File"),
    "created": ("创建时间", "Created"),
    "updated": ("更新时间", "Updated"),
    "from": ("自（UTC 日期）", "From (UTC date)"),
    "until": ("至（UTC 日期）", "Until (UTC date)"),
    "filter": ("筛选", "Filter"),
    "any": ("全部", "any"),
    "next_page": ("下一页", "Next page"),
    "first_page": ("第一页", "First page"),
    "none": ("无", "None"),
    "document": ("文档", "Document"),
    "history": ("历史", "History"),
    "timings": ("各阶段耗时", "Stage timings"),
    "reason": ("原因", "Reason"),
    "policy_version": ("政策版本", "policy version"),
    "ledger": ("出境台账", "Export ledger"),
    "year": ("年度", "Year"),
    "ledger_year_note": (
        "按北京时间自然年统计；个人数为自 1 月 1 日起累计的不重复自然人。",
        "Calendar year in Beijing time; individuals are distinct natural persons since 1 January.",
    ),
    "exporter": ("出口方", "Exporter"),
    "individuals": ("个人数", "Individuals"),
    "sensitive_individuals": ("敏感个人信息", "Sensitive"),
    "by_destination": ("按目的地", "By destination"),
    "by_category": ("按数据类别", "By category"),
    "by_basis": ("按法律依据", "By legal basis"),
    "ledger_entries": ("台账条目", "Entries"),
    "destination": ("目的地", "Destination"),
    "categories": ("数据类别", "Categories"),
    "basis": ("法律依据", "Legal basis"),
    "decided_by": ("决定者", "Decided by"),
    "at": ("时间", "At"),
    "outputs": ("输出", "Outputs"),
    "kind": ("类型", "Kind"),
    "media_type": ("媒体类型", "Media type"),
    "size": ("大小", "Size"),
    "readable": ("可读视图", "Readable view"),
    "open_readable": ("在新窗口打开", "Open on its own"),
    "validation": ("校验报告", "Validation report"),
    "receipts": ("回执", "Receipts"),
    "deliveries": ("投递", "Delivery attempts"),
    "adapter": ("适配器", "Adapter"),
    "attempts": ("尝试次数", "Attempts"),
    "next_attempt": ("下次尝试", "Next attempt"),
    "last_error": ("最近错误", "Last error"),
    "retry": ("重试", "Retry"),
    "retried": ("已重新排队。", "Queued again."),
    "not_retryable": ("没有可重试的投递。", "Nothing to retry."),
    "drop_here": (
        "把发票或电子提单文件拖到这里，或选择文件",
        "Drop a fapiao or an eBL here, or choose a file",
    ),
    "upload_kinds": (
        "发票：数电票 XML、OFD、乐企 JSON；电子提单：DCSA JSON（含 PINT 信封）或 UBL BillOfLading。类型自动识别。",
        "Fapiao: XML, OFD, platform JSON; eBL: DCSA JSON (a PINT envelope too) or UBL "
        "BillOfLading. The kind is detected.",
    ),
    "document_kind": ("文档类型", "Document kind"),
    "kind_ebl": ("电子提单", "eBL"),
    "kind_invoice": ("发票", "Invoice"),
    "title_chain": ("权利转让链", "Title chain"),
    "title_state": ("本平台状态", "State here"),
    "possessor": ("持有人", "Possessor"),
    "chain_none": (
        "本平台的 eBL 登记簿中没有此提单的转让记录。",
        "This platform's eBL registry holds no transfer of this eBL.",
    ),
    "chain_verified": (
        "登记簿中的每个条目在接收时均已验签。",
        "Every entry's signature was verified when the registry accepted it.",
    ),
    "entry": ("条目", "Entry"),
    "platform": ("平台", "Platform"),
    "action": ("动作", "Action"),
    "actor": ("行为方", "Actor"),
    "recipient": ("接收方", "Recipient"),
    "recipient_optional": ("接收方（可选）", "Recipient (optional)"),
    "profile_optional": ("规范（可选）", "Profile (optional)"),
    "submit": ("提交", "Submit"),
    "accepted": ("已接收，正在处理。", "Accepted; it is being processed."),
    "refused": ("被拒绝", "Refused"),
    "field": ("字段", "Field"),
    "rule": ("规则", "Rule"),
    "message": ("说明", "Message"),
    "dead_letters": ("死信", "Dead letters"),
    "held": ("暂扣文档", "Held documents"),
    "release": ("放行", "Release"),
    "release_basis": ("放行依据", "Basis for release"),
    "release_unavailable": (
        "此网关尚未启用暂扣放行（出口管控功能）。",
        "Release is not available in this gateway yet (the export gate is not installed).",
    ),
    "released": ("已放行。", "Released."),
    "officer_name": ("合规审核人姓名", "Officer's name"),
    "refuse": ("拒绝出境", "Refuse"),
    "refuse_reason": ("拒绝理由", "Reason for refusal"),
    "hold_refused": ("已拒绝出境。", "Refused for good."),
    "decision_incomplete": (
        "未作决定：须填写合规审核人姓名以及放行依据或拒绝理由。",
        "Nothing decided: a decision needs the officer's name and the basis or reason.",
    ),
    "officer_only": (
        "放行或拒绝暂扣文档须由合规审核人决定：请使用审核人（officer）密钥登录。",
        "Releasing or refusing a held document is a compliance officer's decision: sign in "
        "with an officer's key.",
    ),
    "partners_toml": ("合作伙伴目录 (TOML)", "Partner directory (TOML)"),
    "validate": ("校验", "Validate"),
    "save": ("保存", "Save"),
    "upload_toml": ("上传 TOML 文件", "Upload a TOML file"),
    "directory_valid": ("目录有效", "The directory is valid"),
    "directory_saved": ("目录已保存", "The directory is saved"),
    "entries": ("条目", "entries"),
    "one_entry": ("条目", "entry"),
    "store": ("存储", "Store"),
    "adapters": ("适配器", "Adapters"),
    "breakers": ("熔断器（按接收端点）", "Circuit breakers (per endpoint)"),
    "endpoint": ("端点", "Endpoint"),
    "phase": ("状态", "Phase"),
    "failures": ("连续失败", "Failures"),
    "opened_at": ("打开时间", "Opened"),
    "queues": ("队列深度", "Queue depths"),
    "throughput": ("最近一小时投递量", "Delivered in the last hour"),
    "per_5min": ("每 5 分钟，UTC 时间", "per 5 minutes, UTC"),
    "ok": ("正常", "ok"),
    "fail": ("故障", "failing"),
    "not_found": ("找不到该页面或文档。", "No such page or document."),
    "forbidden": ("请求被拒绝：表单已过期，请重试。", "Refused: the form has expired; try again."),
    "error": ("出错了", "Something went wrong"),
    "actions": ("操作", "Actions"),
    "profile_from_directory": ("按合作伙伴目录", "as the partner directory says"),
    "resend_on_purpose": (
        "有意重新发送（该发票已发送过）",
        "Send again on purpose (a fapiao already sent)",
    ),
    "location": ("位置", "Location"),
    "report_valid": ("有效", "valid"),
    "report_invalid": ("无效", "invalid"),
    "severity_fatal": ("错误", "Fatal"),
    "severity_warning": ("警告", "Warning"),
    "severity_information": ("提示", "Information"),
    "following": (
        "处理中：本页每 2 秒自动刷新（最长 2 分钟）。",
        "Being processed: this page refreshes every 2 seconds (for up to 2 minutes).",
    ),
    "stop_following": ("停止自动刷新", "Stop refreshing"),
    "bad_receiver_filter": (
        "接收方须写成 scheme:value，例如 0195:SGUEN201612345D。",
        "The receiver is written scheme:value, e.g. 0195:SGUEN201612345D.",
    ),
    "bad_number_filter": (
        "号码最长 100 个字符，不含空格或控制字符。",
        "A number is at most 100 characters, without spaces or control characters.",
    ),
    "check": ("检查项", "Check"),
    "conflict": ("无法执行：与文档的当前状态不符", "Not done: it conflicts with the current state"),
    "render_failed": ("无法生成可读视图", "No readable view"),
}
"""Text key → (Chinese, English)."""

STATES: dict[str, tuple[str, str]] = {
    "received": ("已接收", "received"),
    "queued": ("排队投递", "queued"),
    "delivered": ("已投递", "delivered"),
    "rejected": ("已拒绝", "rejected"),
    "failed": ("失败", "failed"),
    "dead": ("死信", "dead letter"),
    "held": ("暂扣", "held"),
    "converted": ("已转换", "converted"),
    "accepted": ("已接受", "accepted"),
    "processing": ("处理中", "processing"),
    "mls-ignored": ("MLS（已忽略）", "MLS (ignored)"),
    "pending": ("等待", "pending"),
    "leased": ("处理中", "in progress"),
    "done": ("完成", "done"),
    "delivery-retry": ("投递重试", "delivery retry"),
    "dead-letter": ("死信", "dead letter"),
    "retried": ("已重试", "retried"),
    "closed": ("闭合", "closed"),
    "open": ("断开", "open"),
    "half_open": ("半开", "half open"),
    "refused": ("已拒绝出境", "refused"),
    "mls": ("报文级状态 (MLS)", "MLS"),
}
"""State and phase names (as stored) → (Chinese, English); others are shown as stored."""


TITLE_STATES: dict[str, tuple[str, str]] = {
    "held": ("由本平台持有", "held here"),
    "sending": ("正在转让", "being transferred"),
    "transferred": ("已转让至其他平台", "transferred to another platform"),
    "surrendered": ("已交还承运人", "surrendered to the carrier"),
}
"""An eBL's state in this platform's eBL registry → (Chinese, English); its ``held`` is
possession, not the export gate's hold of :data:`STATES`."""


REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"accepted for processing"), "已接收，等待处理"),
    (
        re.compile(r"processed; delivery queued on (?P<a>[^ ]+) \((?P<r>[^)]*)\)"),
        "已处理；已排队，经 {a} 投递（{r}）",
    ),
    (re.compile(r"delivered by (?P<a>.+)"), "已由 {a} 投递"),
    (
        re.compile(r"the receiving side could not be reached or answered with a temporary error"),
        "接收方无法连接，或答复了临时错误",
    ),
    (re.compile(r"the receiving side refused the document(?P<r>.*)"), "接收方拒收了该文档{r}"),
    (re.compile(r"the delivery failed"), "投递失败"),
)
"""The gateway's fixed history reasons (:mod:`gateway.api.disclosure`, the job kinds) → the
Chinese words; a reason that is none of these (a rule's finding, a gate's verdict, an
officer's basis) is shown as recorded."""


def reason_namer(language: str) -> Callable[[str], str]:
    """A recorded reason in ``language``: in Chinese the fixed ones of :data:`REASONS`."""
    if language != "zh":
        return lambda text: text

    def said(text: str) -> str:
        for pattern, words in REASONS:
            match = pattern.fullmatch(text or "")
            if match:
                return words.format(**match.groupdict())
        return text

    return said


def add_texts(texts: Mapping[str, tuple[str, str]]) -> None:
    """Add a screen's own words (a key may be defined once)."""
    clash = set(texts) & set(TEXTS)
    if clash:
        raise ValueError(f"console text keys defined twice: {sorted(clash)}")
    TEXTS.update(texts)


def state_namer(language: str) -> Callable[[str], str]:
    """The words for a stored state name in ``language`` (unknown names as they are)."""
    index = 0 if language == "zh" else 1
    return lambda name: STATES[name][index] if name in STATES else name


def title_state_namer(language: str) -> Callable[[str], str]:
    """The words for an eBL registry state in ``language`` (unknown names as they are)."""
    index = 0 if language == "zh" else 1
    return lambda name: TITLE_STATES[name][index] if name in TITLE_STATES else name


def translator(language: str) -> Callable[[str], str]:
    """``t(key)`` in ``language`` (unknown keys show as themselves, for a visible miss)."""
    index = 0 if language == "zh" else 1
    return lambda key: TEXTS[key][index] if key in TEXTS else key
