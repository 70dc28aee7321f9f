"""gateway.signing.names on hostile input: whatever a signature's X509IssuerName or
IssuerSerialV2 holds, reading it gives a name or a ValueError (a specific verification
failure upstream), never another exception."""

from __future__ import annotations

import contextlib
import random

import pytest

from gateway.signing import names

ALPHABET = 'CN=O,;+\\"#0123456789abcdefABCDEF .OID=x\u00e9'


@pytest.mark.parametrize("seed", range(4))
def test_any_string_reads_or_is_a_value_error(seed: int) -> None:
    chance = random.Random(seed)
    for _ in range(2000):
        text = "".join(chance.choice(ALPHABET) for _ in range(chance.randint(0, 30)))
        with contextlib.suppress(ValueError):
            names.parse_rfc4514(text)


@pytest.mark.parametrize("seed", range(4))
def test_any_der_reads_or_is_a_value_error(seed: int) -> None:
    chance = random.Random(seed)
    for _ in range(2000):
        body = bytes(chance.randint(0, 255) for _ in range(chance.randint(0, 40)))
        data = b"\x30" + bytes([len(body)]) + body if chance.random() < 0.5 else body
        for read in (names.from_der, names.read_issuer_serial_v2):
            with contextlib.suppress(ValueError):
                read(data)
