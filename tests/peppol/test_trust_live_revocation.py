"""Revocation of Peppol AP certificates against live services on 127.0.0.1: a real OCSP
responder (Debian's ``openssl ocsp`` over a CA index) and a CRL served over HTTP.

Good certificate accepted by OCSP, revoked one refused; responder down → the soft-fail
setting decides (both settings); responder down with a CRL distribution point → the CRL
fetched over HTTP decides."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.errors import VerificationError
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.signing.revocation import RevocationChecker, RevokedError
from gateway.signing.truststore import TrustStore
from tests.live_revocation import RevocationLab, free_port, revocation_lab

if shutil.which("openssl") is None and not os.environ.get("CI"):
    pytest.skip("openssl is not installed", allow_module_level=True)


@pytest.fixture
def lab(tmp_path: Path, pki: PeppolTestPki) -> Iterator[RevocationLab]:
    with revocation_lab(tmp_path / "ca", pki.ap_ca.cert, pki.ap_ca.key) as made:
        yield made


def _store(pki: PeppolTestPki, *, soft_fail: bool) -> TrustStore:
    return TrustStore(
        (pki.ap_ca.cert,),
        revocation=RevocationChecker(timeout=2.0),
        soft_fail=soft_fail,
        what="access point certificate",
    )


def test_live_ocsp_good_accepted_revoked_refused(pki: PeppolTestPki, lab: RevocationLab) -> None:
    good, _ = lab.issue("PSG000011")
    revoked, _ = lab.issue("PSG000012")
    lab.revoke(revoked)
    lab.start_ocsp()
    checker = RevocationChecker(timeout=2.0, fetch_crls=False)
    assert checker.status(good, pki.ap_ca.cert) == f"good:ocsp {lab.ocsp_url}"
    with pytest.raises(RevokedError, match="OCSP"):
        checker.status(revoked, pki.ap_ca.cert)
    for soft_fail in (True, False):
        store = _store(pki, soft_fail=soft_fail)
        assert store.check(good)[-1] == pki.ap_ca.cert
        with pytest.raises(RevokedError):
            store.check(revoked)


def test_responder_down_soft_fail_decides(pki: PeppolTestPki, lab: RevocationLab) -> None:
    good, _ = lab.issue("PSG000013")
    lab.start_ocsp()
    assert _store(pki, soft_fail=False).check(good)  # up: answered good
    lab.stop_ocsp()
    checker = RevocationChecker(timeout=2.0)
    assert checker.status(good, pki.ap_ca.cert) == "unknown"
    assert _store(pki, soft_fail=True).check(good)[-1] == pki.ap_ca.cert
    with pytest.raises(VerificationError) as caught:
        _store(pki, soft_fail=False).check(good)
    assert caught.value.check == "revocation-unknown"


def test_crl_over_http_when_the_responder_is_down(pki: PeppolTestPki, lab: RevocationLab) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    good, _ = lab.issue("PSG000014", ocsp_url=nobody, crl_url=lab.crl_url)
    revoked, _ = lab.issue("PSG000015", ocsp_url=nobody, crl_url=lab.crl_url)
    lab.revoke(revoked)
    lab.start_crl_server()
    checker = RevocationChecker(timeout=2.0)
    assert checker.status(good, pki.ap_ca.cert) == f"good:crl {lab.crl_url}"
    with pytest.raises(RevokedError, match="CRL"):
        RevocationChecker(timeout=2.0).status(revoked, pki.ap_ca.cert)
    assert _store(pki, soft_fail=False).check(good)[-1] == pki.ap_ca.cert
    with pytest.raises(RevokedError):
        _store(pki, soft_fail=True).check(revoked)
