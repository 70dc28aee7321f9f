"""``x5c`` certificates that expired after their chain entry was signed (DCSA PINT 3.0).

A transfer chain is the eBL's history: each entry is linked into the next by its checksum
and every later platform signed over it, so an earlier entry is evidence vouched for by the
signatures made since. It must verify later, when the platform's certificate has expired:
its chain is judged at the time the entry claims (its latest ``actionDateTime``). The
envelope's own signatures (the manifest and the last entry, made for this transfer) must
still be made under a certificate valid now (PINT's BSIG: "the key or signature expired").
Until now an earlier entry under a certificate expired since was BSIG, so an eBL whose
first holder's platform renewed its certificate could not be transferred onwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from adapters.dcsa_pint.options import PintOptions
from gateway.errors import VerificationError
from gateway.pint import build
from gateway.pint.chain import verify_envelope
from gateway.pint.checksums import document_checksum
from gateway.pint.codes import ActionCode, PintRejection, ResponseCode
from gateway.pint.schema import EnvelopeSchema
from gateway.signing.jose import CompactSigner, KeySet
from gateway.signing.revocation import RevocationChecker
from gateway.signing.truststore import TrustStore
from gateway.testing.pint import SCHEMA, DemoPlatform, key_sets
from tests.live_revocation import RevocationLab, revocation_lab, self_signed_ca

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def ca() -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    return self_signed_ca("PINT x5c expiry test CA", since_days=800)


@pytest.fixture
def lab(tmp_path: Path, ca: tuple[x509.Certificate, rsa.RSAPrivateKey]) -> Iterator[RevocationLab]:
    with revocation_lab(tmp_path / "ca", *ca) as made:
        yield made


@pytest.fixture
def expired(
    ca: tuple[x509.Certificate, rsa.RSAPrivateKey], platforms: dict[str, DemoPlatform]
) -> x509.Certificate:
    """B's signing certificate, valid from 400 days ago until 10 days ago."""
    return _certificate(ca, platforms["B"], since=timedelta(days=-400), until=timedelta(days=-10))


def _certificate(
    ca: tuple[x509.Certificate, rsa.RSAPrivateKey],
    platform: DemoPlatform,
    *,
    since: timedelta,
    until: timedelta,
) -> x509.Certificate:
    """``platform``'s key certified from ``NOW + since`` to ``NOW + until``."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{platform.code} signing")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca[0].subject)
        .public_key(platform.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + since)
        .not_valid_after(NOW + until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca[1], hashes.SHA256())
    )


def _envelope(
    platforms: dict[str, DemoPlatform],
    document: dict[str, Any],
    *,
    b_x5c: x509.Certificate | None = None,
    b_signed: timedelta = timedelta(days=-30),
    c_x5c: x509.Certificate | None = None,
) -> dict[str, Any]:
    """A issues to its party and transfers to B's (60 days ago); B transfers to C's
    (``b_signed`` from now, its entry with ``b_x5c``); C transfers to A's now (its entry and
    the manifest with ``c_x5c``): received at A."""
    a, b, c = platforms["A"], platforms["B"], platforms["C"]
    assert a.carrier is not None and a.carrier_key is not None
    checksum = document_checksum(document)
    then = NOW - timedelta(days=60)
    issuance = build.issuance_manifest(document, a.party, CompactSigner(a.carrier_key))
    first = build.chain_entry(
        a.signer,
        a.code,
        checksum,
        [
            build.transaction(ActionCode.ISSUE, a.carrier, a.party, at=then),
            build.transaction(ActionCode.TRANSFER, a.party, b.party, at=then),
        ],
        issuance=issuance,
    )
    b_signer = CompactSigner(b.key, x5c=[b_x5c] if b_x5c else ())
    at = NOW + b_signed
    second = build.chain_entry(
        b_signer,
        b.code,
        checksum,
        [build.transaction(ActionCode.TRANSFER, b.party, c.party, at=at)],
        previous=first,
    )
    c_signer = CompactSigner(c.key, x5c=[c_x5c] if c_x5c else ())
    third = build.chain_entry(
        c_signer,
        c.code,
        checksum,
        [build.transaction(ActionCode.TRANSFER, c.party, a.party)],
        previous=second,
    )
    return build.envelope(c_signer, document, [first, second, third])


def _keys(
    platforms: dict[str, DemoPlatform], anchor: x509.Certificate, *, revocation: bool = True
) -> tuple[KeySet, KeySet]:
    """Every platform's key, x5c chains to ``anchor``, revocation hard-fail."""
    keys, carriers = key_sets(list(platforms.values()))
    checker = RevocationChecker(timeout=2.0) if revocation else None
    keys.trust = TrustStore((anchor,), revocation=checker, soft_fail=False)
    return keys, carriers


def _at_a(env: dict[str, Any], keys: KeySet, carriers: KeySet, schema: EnvelopeSchema) -> Any:
    return verify_envelope(env, keys=keys, carriers=carriers, platform="AEOT", schema=schema)


def test_an_earlier_entry_verifies_after_its_certificate_expired(
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
    document: dict[str, Any],
    ca: tuple[x509.Certificate, rsa.RSAPrivateKey],
    expired: x509.Certificate,
) -> None:
    """B signed 30 days ago under a certificate that ended 10 days ago: historic evidence,
    valid when made. Its revocation is not asked (no CA publishes the status of an expired
    certificate), even with hard-fail revocation."""
    env = _envelope(platforms, document, b_x5c=expired)
    keys, carriers = _keys(platforms, ca[0])
    verified = _at_a(env, keys, carriers, schema)
    assert verified.title.possessor.same(platforms["A"].party)


def test_an_earlier_entry_claiming_a_time_after_its_certificate_expired_is_bsig(
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
    document: dict[str, Any],
    ca: tuple[x509.Certificate, rsa.RSAPrivateKey],
    expired: x509.Certificate,
) -> None:
    env = _envelope(platforms, document, b_x5c=expired, b_signed=timedelta(days=-5))
    keys, carriers = _keys(platforms, ca[0])
    with pytest.raises(PintRejection) as caught:
        _at_a(env, keys, carriers, schema)
    assert caught.value.response is ResponseCode.BSIG
    assert caught.value.field == "envelopeTransferChain[1]"
    assert "IQAX signing" in caught.value.message and "expired" in caught.value.message


def test_an_earlier_entry_claiming_a_time_before_its_certificate_is_bsig(
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
    document: dict[str, Any],
    ca: tuple[x509.Certificate, rsa.RSAPrivateKey],
) -> None:
    later = _certificate(ca, platforms["B"], since=timedelta(days=-20), until=timedelta(days=300))
    env = _envelope(platforms, document, b_x5c=later)  # claims 30 days ago
    keys, carriers = _keys(platforms, ca[0], revocation=False)
    with pytest.raises(PintRejection) as caught:
        _at_a(env, keys, carriers, schema)
    assert caught.value.response is ResponseCode.BSIG and "valid only from" in caught.value.message


def test_the_sender_s_own_signatures_need_a_certificate_valid_now(
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
    document: dict[str, Any],
    ca: tuple[x509.Certificate, rsa.RSAPrivateKey],
) -> None:
    """The last entry and the manifest are made for this transfer: no later signature vouches
    for them, and a JWS carries no trusted time."""
    expired = _certificate(ca, platforms["C"], since=timedelta(days=-400), until=timedelta(days=-1))
    env = _envelope(platforms, document, c_x5c=expired)
    keys, carriers = _keys(platforms, ca[0], revocation=False)
    with pytest.raises(PintRejection) as caught:
        _at_a(env, keys, carriers, schema)
    assert caught.value.response is ResponseCode.BSIG
    assert "SGTD signing" in caught.value.message and "expired" in caught.value.message


def test_an_earlier_entry_under_a_revoked_certificate_is_still_bsig(
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
    document: dict[str, Any],
    lab: RevocationLab,
) -> None:
    """A certificate still within its validity is asked about, historic entry or not."""
    revoked, _ = lab.issue("IQAX signing", platforms["B"].key)
    lab.revoke(revoked)
    lab.start_ocsp()
    env = _envelope(platforms, document, b_x5c=revoked, b_signed=timedelta(hours=-1))
    keys, carriers = _keys(platforms, lab.ca_cert)
    with pytest.raises(PintRejection) as caught:
        _at_a(env, keys, carriers, schema)
    assert caught.value.response is ResponseCode.BSIG and "revoked" in caught.value.message


def _certified_keys(
    platforms: dict[str, DemoPlatform], certified: str, certificate: x509.Certificate
) -> tuple[KeySet, KeySet]:
    """Every platform's key bare, but ``certified``'s given only in ``certificate`` (a
    partner's ``certificates`` option), no x5c trust store."""
    keys, carriers = KeySet(), KeySet()
    for each in platforms.values():
        if each.code == certified:
            keys.add(each.key.public_key(), each.code, certificate=certificate)
        else:
            keys.add(each.key, each.code)
        if each.carrier_key is not None:
            carriers.add(each.carrier_key, each.code)
    return keys, carriers


def test_a_partner_key_given_in_an_expired_certificate_no_longer_signs_now(
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
    document: dict[str, Any],
    ca: tuple[x509.Certificate, rsa.RSAPrivateKey],
) -> None:
    """A partner handed its key over in a certificate (out of band, no x5c): once that
    certificate has expired, the key's signatures made now are BSIG ("the key ... expired",
    PINT 3.0); until now the key was trusted for as long as it was configured."""
    expired = _certificate(ca, platforms["C"], since=timedelta(days=-400), until=timedelta(days=-1))
    keys, carriers = _certified_keys(platforms, "SGTD", expired)
    with pytest.raises(PintRejection) as caught:
        _at_a(_envelope(platforms, document), keys, carriers, schema)
    assert caught.value.response is ResponseCode.BSIG
    assert f"CN=SGTD signing (serial {expired.serial_number:x})" in caught.value.message
    renewed = _certificate(ca, platforms["C"], since=timedelta(days=-2), until=timedelta(days=300))
    keys.add(platforms["C"].key.public_key(), "SGTD", certificate=renewed)
    assert _at_a(_envelope(platforms, document), keys, carriers, schema).sender == "SGTD"


def test_an_earlier_entry_by_a_partner_key_certified_then_still_verifies(
    platforms: dict[str, DemoPlatform],
    schema: EnvelopeSchema,
    document: dict[str, Any],
    expired: x509.Certificate,
) -> None:
    keys, carriers = _certified_keys(platforms, "IQAX", expired)
    assert _at_a(_envelope(platforms, document), keys, carriers, schema).sender == "SGTD"
    late = _envelope(platforms, document, b_signed=timedelta(days=-5))
    with pytest.raises(PintRejection, match="not at the time the signature claims"):
        _at_a(late, keys, carriers, schema)


def test_partner_certificates_option_limits_the_key_to_their_validity(
    tmp_path: Path,
    reference: Path,
    platforms: dict[str, DemoPlatform],
    ca: tuple[x509.Certificate, rsa.RSAPrivateKey],
) -> None:
    paths = platforms["A"].write(tmp_path / "keys")
    expired = _certificate(ca, platforms["C"], since=timedelta(days=-400), until=timedelta(days=-1))
    (tmp_path / "sgtd.pem").write_bytes(expired.public_bytes(serialization.Encoding.PEM))
    options = {
        "platform": "AEOT",
        "signing_key": str(paths["key"]),
        "envelope_schema": str(reference / SCHEMA),
        "partners": {"SGTD": {"url": "https://sgtd.example", "certificates": ["sgtd.pem"]}},
    }
    parsed = PintOptions.parse("pint", options, tmp_path)
    (trusted,) = [k for k in parsed.keys.keys.values() if k.owner == "SGTD"]
    assert trusted.certificates == (expired,)
    with pytest.raises(VerificationError, match="certified by"):
        trusted.check_certified()
