"""Numbers in adapter option tables: refused at start-up naming the option."""

from __future__ import annotations

import math

import pytest

from adapters.option_values import positive_integer, positive_number
from gateway.errors import ConfigError


def test_numbers_and_defaults_are_read() -> None:
    assert positive_number("a", {"timeout": 2.5}, "timeout", 30) == 2.5
    assert positive_number("a", {"timeout": "7"}, "timeout", 30) == 7.0
    assert positive_number("a", {}, "timeout", 30) == 30.0
    assert positive_integer("a", {"max": 4096}, "max", 1) == 4096
    assert positive_integer("a", {"max": 2.0}, "max", 1) == 2


@pytest.mark.parametrize(
    "bad", ["soon", None, [], {}, True, False, 0, -1, math.nan, math.inf, "-inf", "nan"]
)
def test_anything_else_names_the_option(bad: object) -> None:
    with pytest.raises(ConfigError) as caught:
        positive_number("relay", {"timeout": bad}, "timeout", 30)
    assert caught.value.field == "adapters.relay.timeout"
    assert "timeout" in str(caught.value)


def test_a_whole_number_refuses_a_fraction() -> None:
    with pytest.raises(ConfigError) as caught:
        positive_integer("relay", {"max_document_bytes": 10.5}, "max_document_bytes", 1)
    assert caught.value.field == "adapters.relay.max_document_bytes"
