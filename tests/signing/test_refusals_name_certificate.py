"""Every certificate refusal names the certificate by subject and serial number (hex, as
``openssl x509 -serial`` and CA portals show it) and the rule.

An operator holding a refusal must find the certificate among a partner's several (renewed
ones share their subject). The expiry, not-yet-valid, untrusted-issuer, not-a-CA and
revocation-unknown refusals named the subject only, and a revocation named the serial in
decimal, which no CA portal shows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from gateway.errors import VerificationError
from gateway.signing.revocation import RevocationChecker, RevokedError
from gateway.signing.truststore import TrustStore
from tests.live_revocation import revocation_lab, self_signed_ca
from tests.signing.issued import Issued, issue

NOW = datetime.now(UTC)


def _issue(
    name: str,
    issuer: Issued | None,
    *,
    ca: bool = False,
    since: timedelta = timedelta(days=-1),
    until: timedelta = timedelta(days=30),
) -> Issued:
    return issue(name, issuer, ca=ca, since=since, until=until, now=NOW)


def _refusal(store: TrustStore, cert: x509.Certificate, **given: Any) -> str:
    with pytest.raises(VerificationError) as caught:
        store.check(cert, **given)
    return caught.value.message


def test_validity_refusals_name_the_serial_and_the_rule() -> None:
    root = _issue("Naming Root", None, ca=True)
    expired = _issue("Naming Signer", root, since=timedelta(days=-30), until=timedelta(days=-2))
    message = _refusal(TrustStore((root[0],)), expired[0])
    assert f"CN=Naming Signer (serial {expired[0].serial_number:x}) expired" in message
    assert "RFC 5280 4.1.2.5" in message
    later = _issue("Naming Signer", root, since=timedelta(days=2))
    message = _refusal(TrustStore((root[0],)), later[0])
    assert f"(serial {later[0].serial_number:x}) is valid only from" in message


def test_path_refusals_name_the_serial() -> None:
    root, stranger = _issue("Naming Root", None, ca=True), _issue("Stranger Root", None, ca=True)
    leaf = _issue("Naming Signer", stranger)
    message = _refusal(TrustStore((root[0],), what="access point certificate"), leaf[0])
    assert f"no trusted issuer for CN=Naming Signer (serial {leaf[0].serial_number:x})" in message
    not_ca = _issue("Not A CA", root)
    below = _issue("Naming Signer", not_ca)
    message = _refusal(TrustStore((root[0],)), below[0], intermediates=[not_ca[0]])
    assert f"CN=Not A CA (serial {not_ca[0].serial_number:x}) is not a CA" in message
    assert "RFC 5280 4.2.1.9" in message


def test_revocation_refusals_name_the_serial_in_hex(tmp_path: Path) -> None:
    with revocation_lab(tmp_path / "ca", *self_signed_ca("Naming Revocation CA")) as lab:
        revoked, _ = lab.issue("Naming Revoked")
        unknown, _ = lab.issue("Naming Unknown", ocsp_url="http://127.0.0.1:9/")
        lab.revoke(revoked)
        lab.start_ocsp()
        with pytest.raises(RevokedError) as caught:
            RevocationChecker(timeout=2.0).status(revoked, lab.ca_cert)
        assert f"(serial {revoked.serial_number:x}) is revoked" in caught.value.message
        store = TrustStore(
            (lab.ca_cert,),
            revocation=RevocationChecker(timeout=2.0),
            soft_fail=False,
            what="x5c signing certificate",
        )
        message = _refusal(store, unknown)
        assert f"CN=Naming Unknown (serial {unknown.serial_number:x}) is unknown" in message
        assert "hard-fail" in message
