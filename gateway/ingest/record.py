"""The neutral record every fapiao reader fills: texts as printed, each with its source path.

Readers (XML, OFD, legacy XML, JSON) only locate values; :mod:`gateway.ingest.build` turns a
record into the canonical invoice, so the tax logic exists once.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Src:
    """One value as found in the source, and where it was found."""

    text: str | None
    path: str

    @property
    def value(self) -> str | None:
        """The stripped text, ``None`` when empty."""
        if self.text is None:
            return None
        stripped = self.text.strip()
        return stripped or None


def none(path: str) -> Src:
    """An absent value at ``path``."""
    return Src(None, path)


@dataclass(slots=True)
class RawLine:
    """One invoice line as printed."""

    path: str
    """Source path of the line (e.g. ``EInvoiceData/IssuItemInformation[2]``)."""
    name: Src
    amount: Src
    rate: Src
    tax: Src
    spec: Src | None = None
    unit: Src | None = None
    quantity: Src | None = None
    price: Src | None = None
    gross: Src | None = None
    tax_code: Src | None = None
    line_kind: str | None = None
    """Platform 发票行性质 ``fphxz``: ``00`` normal, ``01`` discount, ``02`` discounted."""
    policy_flag: str | None = None
    """Platform 优惠政策标识 ``yhzcbs`` (03 exempt, 04 not subject, 01/08/09/10 simplified)."""


@dataclass(slots=True)
class RawParty:
    """Seller or buyer as printed."""

    name: Src
    tax_id: Src
    address: Src | None = None
    phone: Src | None = None
    bank_name: Src | None = None
    bank_account: Src | None = None
    handler: Src | None = None
    natural_person_flag: bool | None = None
    """An explicit 自然人 flag (platform ``gmfzrrbz``), when the source has one."""


@dataclass(slots=True)
class RawFapiao:
    """A fapiao as located in its source format."""

    number: Src
    issued: Src
    """开票日期 (the issue date, with time when printed)."""
    seller: RawParty
    buyer: RawParty
    net_total: Src
    tax_total: Src
    gross_total: Src
    lines: list[RawLine] = field(default_factory=list)
    blue: bool | None = None
    """True blue, False red, None when the source does not say."""
    gross_in_words: Src | None = None
    kind: str | None = None
    taxpayer_type: str | None = None
    labels: list[tuple[str, str]] = field(default_factory=list)
    """Header UndefinedLabel (LabelType, LabelCode) pairs."""
    drawer: str | None = None
    remark: Src | None = None
    red_original: Src | None = None
    red_confirmation: Src | None = None
    differential: tuple[Src, Src] | None = None
    version: str | None = None
    region_tag: str | None = None
    tax_bureau_code: str | None = None
    tax_bureau_name: str | None = None
    export_policy: str | None = None
    """Platform 出口业务适用政策代码 ``ckywsyzcDm`` when present."""
    generated: Src | None = None
    """发票生成时间 (TaxSupervisionInfo/IssueTime): supplies the time when ``issued`` has none."""
    special: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    """特定业务 blocks of SpecificInformation: (block name, {field: text}), in document order."""
    twins: list[tuple[Src, Src]] = field(default_factory=list)
    """Other fields of the source that state the same fact as one already read (the first of
    each pair, the one used): a pair that differs is warned about, naming both."""
    extra: dict[str, str] = field(default_factory=dict)
