"""Fixtures for adapter tests: a throw-away TLS PKI, a signing key, the local receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from adapters.https import DetachedJwsSigner
from gateway.testing.receiver import Receiver
from gateway.testing.tls import TlsFiles, make_tls


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def body_signer(tmp_path_factory: pytest.TempPathFactory) -> DetachedJwsSigner:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path_factory.mktemp("jws") / "signing.key"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return DetachedJwsSigner.from_files(Path(path))


@pytest.fixture
async def receiver(tls: TlsFiles, body_signer: DetachedJwsSigner) -> AsyncIterator[Receiver]:
    server = Receiver(
        ssl_context=tls.server_context(require_client_cert=True),
        verify_key=body_signer.key.public_key(),
        hang_seconds=5.0,
    )
    await server.start()
    yield server
    await server.stop()
