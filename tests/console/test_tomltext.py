"""The partner directory written as TOML reads back to the same directory."""

from __future__ import annotations

import tomllib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.api.console.tomltext import dump_directory

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
SCALAR = st.one_of(
    TEXT,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
)
VALUE = st.one_of(SCALAR, st.lists(TEXT, max_size=3), st.dictionaries(TEXT, TEXT, max_size=2))
TABLE = st.dictionaries(TEXT, VALUE, max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.lists(TABLE, max_size=3), st.lists(TABLE, max_size=3))
def test_dump_reads_back(partners: list[dict[str, Any]], exporters: list[dict[str, Any]]) -> None:
    directory = {"partners": partners, "exporters": exporters}
    written = {section: tables for section, tables in directory.items() if tables}
    assert tomllib.loads(dump_directory(directory)) == written


def test_lone_surrogates_become_replacement_characters() -> None:
    text = dump_directory({"partners": [{"buyer_name": "a\ud800b"}]})
    assert tomllib.loads(text) == {"partners": [{"buyer_name": "a\ufffdb"}]}


def test_chinese_stays_readable() -> None:
    assert '"示例商贸有限公司"' in dump_directory(
        {"partners": [{"buyer_name": "示例商贸有限公司"}]}
    )
