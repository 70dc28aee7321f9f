"""单位 (MeaUnits) texts → UN/ECE Recommendation 20 / 21 unit codes (BT-130).

A fapiao prints its unit as free text, Chinese or Latin, in any case. The table maps the common
ones; an unknown text is not guessed: it becomes ``C62`` ("one", the neutral unit) and the
caller warns. The printed text always travels as an item attribute (BT-160 / BT-161), so the
receiver sees what the fapiao said. Every code here is in the Peppol / PINT Rec 20 code list.
"""

from __future__ import annotations

NEUTRAL_UNIT = "C62"
"""UN/ECE Rec 20 C62 "one": a unit of count with no further meaning."""

_CHINESE: dict[str, str] = {
    # count
    "个": "H87", "件": "H87", "只": "H87", "块": "H87", "根": "H87", "条": "H87", "片": "H87",
    "支": "H87", "枚": "H87", "株": "H87", "粒": "H87", "把": "H87", "张": "XST",
    "台": "C62", "辆": "C62", "项": "C62", "份": "C62", "部": "C62", "座": "C62", "本": "C62",
    "套": "SET", "组": "10", "头": "HEA",
    "双": "PR", "对": "PR", "副": "PR", "批": "LO",
    # packages (Rec 21, X-prefixed)
    "箱": "XBX", "盒": "XBX", "纸箱": "XCT", "瓶": "XBO", "包": "XPK", "袋": "XBG",
    "桶": "XBA", "卷": "XRO", "罐": "XCA", "托": "XPX", "托盘": "XPX", "筐": "XBK",
    # mass
    "克": "GRM", "千克": "KGM", "公斤": "KGM", "吨": "TNE",
    # volume
    "毫升": "MLT", "升": "LTR", "公升": "LTR", "立方米": "MTQ", "立方": "MTQ", "方": "MTQ",
    # length, area
    "毫米": "MMT", "厘米": "CMT", "米": "MTR", "千米": "KMT", "公里": "KMT",
    "平方米": "MTK", "平米": "MTK", "平方": "MTK",
    # energy
    "千瓦时": "KWH", "度": "KWH",
    # time
    "秒": "SEC", "分钟": "MIN", "小时": "HUR", "时": "HUR", "天": "DAY", "日": "DAY",
    "周": "WEE", "月": "MON", "个月": "MON", "年": "ANN",
    # occurrence: 次 (a time, a service rendered) is a service unit (FORMAT.md §12); 趟 and
    # 人次 count journeys (a trip, a passenger trip)
    "次": "E48", "人次": "E54", "趟": "E54",
}  # fmt: skip

_LATIN: dict[str, str] = {
    "pc": "H87", "pcs": "H87", "piece": "H87", "pieces": "H87", "ea": "EA", "each": "EA",
    "unit": "C62", "units": "C62", "set": "SET", "sets": "SET", "pair": "PR", "pairs": "PR",
    "lot": "LO", "kg": "KGM", "kgs": "KGM", "g": "GRM", "t": "TNE", "mt": "TNE", "ton": "TNE",
    "tons": "TNE", "tonne": "TNE", "ml": "MLT", "l": "LTR", "ltr": "LTR", "m": "MTR",
    "mm": "MMT", "cm": "CMT", "km": "KMT", "m2": "MTK", "m²": "MTK", "㎡": "MTK", "sqm": "MTK",
    "m3": "MTQ", "m³": "MTQ", "㎥": "MTQ", "cbm": "MTQ", "kwh": "KWH", "h": "HUR",
    "hr": "HUR", "hrs": "HUR", "hour": "HUR", "hours": "HUR", "day": "DAY", "days": "DAY",
    "week": "WEE", "month": "MON", "months": "MON", "year": "ANN", "years": "ANN",
    "box": "XBX", "ctn": "XCT", "ctns": "XCT", "carton": "XCT", "cartons": "XCT",
    "bottle": "XBO", "bottles": "XBO", "pkg": "XPK", "pack": "XPK", "package": "XPK",
    "bag": "XBG", "bags": "XBG", "roll": "XRO", "rolls": "XRO", "pallet": "XPX",
    "pallets": "XPX", "trip": "E54",
}  # fmt: skip

REC20_CODES = frozenset({*_CHINESE.values(), *_LATIN.values(), NEUTRAL_UNIT})
"""Codes a unit text may itself be (``KGM``, ``H87`` … printed as the unit)."""


def unit_code(text: str | None) -> tuple[str, bool]:
    """The Rec 20 / 21 code for a MeaUnits text, and whether the text was recognised.

    No text means a plain count (``C62``, recognised); an unknown text gives ``C62`` and
    ``False`` so the caller can warn.
    """
    if text is None or not text.strip():
        return NEUTRAL_UNIT, True
    cleaned = text.strip().replace(" ", "")
    if cleaned in _CHINESE:
        return _CHINESE[cleaned], True
    lower = cleaned.lower().rstrip(".")
    if lower in _LATIN:
        return _LATIN[lower], True
    if cleaned.upper() in REC20_CODES:
        return cleaned.upper(), True
    return NEUTRAL_UNIT, False
