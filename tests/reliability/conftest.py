"""Fixtures for reliability tests: PKIs, the receiving endpoint, a cluster configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from cryptography import x509

from gateway.signing.testpki import TestPki, make_test_pki
from gateway.testing.cluster import ClusterConfig
from gateway.testing.receiver import Receiver
from gateway.testing.tls import TlsFiles, make_tls

REPO = Path(__file__).resolve().parents[2]
PARTNERS = REPO / "tests" / "data" / "partners.toml"


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls(tmp_path_factory.mktemp("reliability-tls"))


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return make_test_pki(tmp_path_factory.mktemp("reliability-pki"))


@pytest.fixture
async def receiver(tls: TlsFiles, pki: TestPki) -> AsyncIterator[Receiver]:
    public = x509.load_pem_x509_certificate(pki.path("signer-ec.pem").read_bytes()).public_key()
    server = Receiver(ssl_context=tls.server_context(), verify_key=public, hang_seconds=3.0)
    await server.start()
    yield server
    await server.stop()


MakeConfig = Callable[..., ClusterConfig]


@pytest.fixture
def make_config(
    tmp_path: Path, tls: TlsFiles, pki: TestPki, artefacts_home: Path, receiver: Receiver
) -> MakeConfig:
    def make(store_url: str, **options: object) -> ClusterConfig:
        return ClusterConfig(
            home=tmp_path / "home",
            store_url=store_url,
            receiver_url=receiver.url,
            tls=tls,
            signing_key=pki.path("signer-ec.key.pem"),
            signing_cert=pki.path("signer-ec.pem"),
            artefacts_dir=artefacts_home,
            partners_file=PARTNERS,
            **options,  # type: ignore[arg-type]
        )

    return make
