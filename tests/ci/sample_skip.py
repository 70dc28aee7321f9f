"""A test that skips: run only by name, by ``test_guards.py`` (its file name is not collected
otherwise)."""

import pytest


def test_skips() -> None:
    pytest.skip("a sample skip")
