"""Property tests: sums and signs survive parsing, for XML and platform JSON alike."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.ingest import ParsedInvoice, parse
from gateway.samples import sample_paths
from gateway.samples.writers import SampleInvoice, SampleLine, einvoice_xml, platform_json

CENT = Decimal("0.01")
RATES = ("0.13", "0.09", "0.06", "0.03", "0.01", "0", "免税")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class GenLine:
    amount: Decimal
    rate: str
    with_quantity: bool

    @property
    def tax(self) -> Decimal | None:
        if self.rate == "免税":
            return None
        return (self.amount * Decimal(self.rate)).quantize(CENT, ROUND_HALF_UP)

    def sample(self, sign: int) -> SampleLine:
        amount = self.amount * sign
        tax = None if self.tax is None else self.tax * sign
        gross = amount + (tax or 0)
        qty = str(sign) if self.with_quantity else None
        price = str(self.amount) if self.with_quantity else None
        tax_text = "***" if tax is None else str(tax)
        return SampleLine("*现代服务*服务", str(amount), self.rate, tax_text, str(gross),
                          quantity=qty, price=price)  # fmt: skip


lines_strategy = st.lists(
    st.builds(
        GenLine,
        amount=st.integers(min_value=1, max_value=10**9).map(lambda c: Decimal(c) / 100),
        rate=st.sampled_from(RATES),
        with_quantity=st.booleans(),
    ),
    min_size=1,
    max_size=12,
)


def _invoice(lines: list[GenLine], red: bool) -> SampleInvoice:
    sign = -1 if red else 1
    samples = [ln.sample(sign) for ln in lines]
    net = sum((Decimal(s.amount) for s in samples), Decimal("0.00"))
    tax = sum((ln.tax or Decimal(0) for ln in lines), Decimal("0.00")) * sign
    return SampleInvoice(
        number="26312000000000000999",
        issued="2026-06-30 12:00:00",
        lines=samples,
        net=str(net),
        tax=str(tax),
        gross=str(net + tax),
        blue="N" if red else "Y",
        red_original="26312000000000000998" if red else None,
        buyer_id="91310115MA7CX3Q041",
        buyer_name="上海示例有限公司",
    )


def _check(parsed: ParsedInvoice, lines: list[GenLine], red: bool) -> None:
    sign = -1 if red else 1
    inv = parsed.invoice
    assert inv.type_code == ("381" if red else "380")
    assert [ln.net_amount for ln in inv.lines] == [g.amount * sign for g in lines]
    assert [ln.tax_amount for ln in inv.lines] == [
        None if g.tax is None else g.tax * sign for g in lines
    ]
    net = sum((g.amount for g in lines), Decimal(0)) * sign
    tax = sum((g.tax or Decimal(0) for g in lines), Decimal(0)) * sign
    assert inv.totals.line_net == inv.totals.tax_exclusive == net
    assert inv.totals.tax == tax and inv.totals.tax_inclusive == inv.totals.payable == net + tax
    assert sum(b.taxable_amount for b in inv.vat_breakdown) == net
    assert sum(b.tax_amount for b in inv.vat_breakdown) == tax
    assert all((ln.net_amount < 0) == red for ln in inv.lines)
    assert not any(ln.is_discount for ln in inv.lines)
    codes = {w.code for w in parsed.warnings}
    assert not codes & {"sta.total-gross", "sta.line-sum-tolerance", "sta.line-tax-sum",
                        "sta.line-tax-tolerance", "sta.red-sign", "xsd"}  # fmt: skip


@SETTINGS
@given(lines=lines_strategy, red=st.booleans())
def test_xml_sums_and_signs_survive(lines: list[GenLine], red: bool) -> None:
    _check(parse(einvoice_xml(_invoice(lines, red))), lines, red)


@SETTINGS
@given(lines=lines_strategy, red=st.booleans())
def test_json_sums_and_signs_survive(lines: list[GenLine], red: bool) -> None:
    _check(parse(platform_json(_invoice(lines, red))), lines, red)


@SETTINGS
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    from gateway.errors import LingangError

    try:
        parse(data)
    except LingangError as exc:
        assert exc.rule


_SAMPLES = {p.name: p.read_bytes() for p in sample_paths()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(_SAMPLES)),
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=8),
    cut=st.one_of(st.none(), st.integers(min_value=0)),
)
def test_mutated_samples_parse_or_fail_with_a_typed_error(
    name: str, flips: list[tuple[int, int]], cut: int | None
) -> None:
    from gateway.errors import LingangError

    data = bytearray(_SAMPLES[name])
    for position, value in flips:
        data[position % len(data)] = value
    if cut is not None:
        del data[cut % len(data) :]
    try:
        parse(bytes(data))
    except LingangError as exc:
        assert exc.rule


_ODD_VALUES = ["", " ", "abc", "-", "1e5", "NaN", "Infinity", "1_000", "١٢٣", "１２３", "*", "***",
               "免税", "9" * 100, "0." + "1" * 40, "-5%", "2026-13-45", "2026年02月30日", "x" * 3000,
               "00000000000000000001", "11010519491231002X"]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(n for n in _SAMPLES if n.endswith(".xml"))),
    changes=st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(_ODD_VALUES)), max_size=4),
)
def test_odd_values_in_any_field_parse_or_fail_with_a_typed_error(
    name: str, changes: list[tuple[int, str]]
) -> None:
    from lxml import etree

    from gateway.errors import LingangError

    root = etree.fromstring(_SAMPLES[name])
    leaves = [e for e in root.iter() if len(e) == 0]
    for position, value in changes:
        leaves[position % len(leaves)].text = value
    try:
        parsed = parse(etree.tostring(root))
    except LingangError as exc:
        assert exc.rule
    else:
        assert parsed.invoice.totals.tax_inclusive.is_finite()
