"""The paths the gateway's errors write, as RFC 6901 JSON Pointers (items from 0)."""

from __future__ import annotations

import pytest

from gateway.jsontext import json_pointer


@pytest.mark.parametrize(
    ("path", "pointer"),
    [
        ("documents[1].name", "/documents/1/name"),
        ("to", "/to"),
        ("$.consignmentItems[0].cargoItems", "/consignmentItems/0/cargoItems"),
        ("$", ""),
        ("$.a['b.c'][2]", "/a/b.c/2"),
        ("/already/0", "/already/0"),
        ("partners[0].accounts[1].bic", "/partners/0/accounts/1/bic"),
        ("a~b", "/a~0b"),
        ("x/y", "/x~1y"),
        ("documents[x]", None),
    ],
)
def test_paths_become_json_pointers(path: str, pointer: str | None) -> None:
    assert json_pointer(path) == pointer
