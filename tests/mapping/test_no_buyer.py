"""A fapiao that names no buyer is refused as such, not as a partner missing from the directory.

With neither 购买方名称 nor 购买方纳税人识别号 printed, ``convert`` (and the API's worker) said
"no [[partners]] entry for the buyer … add one with `buyer_name` (exact)": advice nobody can
follow, since no entry can match a buyer with no name. FORMAT.md requires BuyerName on every
fapiao, EN 16931 BR-07 the buyer name (BT-44) on every invoice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "gateway" / "samples"
DIRECTORY = Path(__file__).resolve().parents[1] / "data" / "partners.toml"


def _xml_without_buyer(tmp_path: Path) -> Path:
    text = (SAMPLES / "red-letter.xml").read_text(encoding="utf-8")
    stripped = re.sub(r"<BuyerInformation>.*?</BuyerInformation>", "", text, flags=re.S)
    assert stripped != text
    path = tmp_path / "no-buyer.xml"
    path.write_text(stripped, encoding="utf-8")
    return path


def _json_without_buyer(tmp_path: Path) -> Path:
    data = json.loads((SAMPLES / "platform-export.json").read_text(encoding="utf-8"))
    data["gmfmc"] = ""
    data["gmfnsrsbh"] = ""
    path = tmp_path / "no-buyer.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("make", [_xml_without_buyer, _json_without_buyer], ids=["xml", "json"])
def test_a_fapiao_without_a_buyer_is_refused_naming_the_missing_buyer(
    make: Callable[[Path], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = make(tmp_path)
    out = tmp_path / "invoice.xml"

    status = main(
        ["convert", str(source), "--partners", str(DIRECTORY), "--no-validate", "-o", str(out)]
    )

    err = capsys.readouterr().err
    assert status == 1
    assert "the fapiao names no buyer" in err
    assert "购买方名称" in err and "BR-07" in err
    assert "(mapping.buyer-named)" in err
    assert "add one with" not in err, "no [[partners]] entry can match a buyer with no name"
    assert not out.exists()


def test_a_buyer_with_a_name_missing_from_the_directory_still_says_add_an_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "partners.toml"
    empty.write_text("partners = []\n", encoding="utf-8")
    status = main(
        ["convert", str(SAMPLES / "red-letter.xml"), "--partners", str(empty), "--no-validate"]
    )
    assert status == 1
    assert "no [[partners]] entry for the buyer" in capsys.readouterr().err
