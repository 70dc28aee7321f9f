"""An SMP answer whose certificate can be read but whose public key cannot is an
:class:`SmpAnswerInvalid`, like any other unusable answer (found by mutating the reference
signed service metadata): ``cryptography`` parses a certificate's key only when asked, and its
``ValueError`` left :func:`read_service_metadata` as it was."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from cryptography import x509

from adapters.peppol.errors import SmpAnswerInvalid
from adapters.peppol.smp import read_service_metadata

ANSWER = "phax-peppol-commons/smp-examples/signed-service-metadata1.xml"
MODULUS = bytes.fromhex("0282010100")
"""The DER start of the RSA key's 2048-bit modulus (INTEGER, 257 bytes, leading zero)."""


def test_a_certificate_whose_key_cannot_be_read(reference: Path) -> None:
    answer = (reference / ANSWER).read_bytes()
    found = re.search(rb"(<(?:\w+:)?X509Certificate>)([^<]+)", answer)
    assert found is not None
    der = base64.b64decode(b"".join(found.group(2).split()))
    at = der.index(MODULUS)
    broken = der[:at] + bytes.fromhex("02820102") + der[at + 4 :]  # one byte longer than it is
    x509.load_der_x509_certificate(broken)  # the certificate itself still reads
    edited = answer[: found.start(2)] + base64.b64encode(broken) + answer[found.end(2) :]
    with pytest.raises(SmpAnswerInvalid) as caught:
        read_service_metadata(edited, None)
    assert caught.value.rule == "smp.signature"
