"""Fixtures for the signing tests: test PKIs and the OCSP / CRL responder on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.signing.testpki import TestPki, make_test_pki

from .signing_support import Responder


@pytest.fixture(scope="session")
def responder() -> Iterator[Responder]:
    server = Responder()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pki(responder: Responder, tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """A test PKI whose certificates point at the running responder (OCSP and CRL DPs)."""
    folder = tmp_path_factory.mktemp("pki")
    made = make_test_pki(
        folder, ocsp_url=f"{responder.base}/ocsp", crl_base=f"{responder.base}/crl"
    )
    responder.pki = made
    return made


@pytest.fixture
def live_responder(responder: Responder) -> Iterator[Responder]:
    """The responder, reset to answering after the test."""
    yield responder
    responder.ocsp_down = False
    responder.crl_down = False
    responder.rogue = False
    responder.replay = False
    responder.sha1_only = False
    responder.answer_hash = None


@pytest.fixture(scope="session")
def offline_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """A PKI without OCSP or CRL URLs (revocation only from CRL files)."""
    return make_test_pki(tmp_path_factory.mktemp("offline-pki"))


@pytest.fixture(scope="session")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """An unrelated PKI (its root is not trusted by the tests' verifiers)."""
    return make_test_pki(tmp_path_factory.mktemp("other-pki"))


@pytest.fixture(scope="session")
def bis_invoice(reference: Path) -> bytes:
    return (
        reference / "openpeppol-peppol-bis-invoice-3/rules/examples/base-example.xml"
    ).read_bytes()


@pytest.fixture(scope="session")
def bis_credit_note(reference: Path) -> bytes:
    path = (
        reference / "openpeppol-peppol-bis-invoice-3/rules/examples/base-creditnote-correction.xml"
    )
    return path.read_bytes()
