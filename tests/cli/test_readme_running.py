"""The README's "Running it", step by step, as a normal user, with ``deploy/local.toml``.

Item 14 of the hardening issue: the only example configuration needed ``/var/lib`` (root) and
keys the README never made, listened on 0.0.0.0 without TLS, and ``lingang tenants create``
without ``--config`` wrote to another store than the server read.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from gateway.settings import Settings

REPO = Path(__file__).resolve().parents[2]
LOCAL = REPO / "deploy" / "local.toml"


def test_local_config_is_for_a_normal_user_on_loopback(tmp_path: Path) -> None:
    settings = Settings.load(LOCAL, env={"LINGANG_HOME": str(tmp_path)})
    assert settings.server.host == "127.0.0.1" and not settings.server.tls_enabled
    assert settings.store.url == f"sqlite:///{tmp_path / 'gateway.db'}"
    assert Settings.load(None, env={"LINGANG_HOME": str(tmp_path)}).store.url == settings.store.url
    assert settings.signing.key == tmp_path / "pki/signer-ec.key.pem"
    assert "/var/lib" not in LOCAL.read_text(encoding="utf-8").split("production example")[0]


def _lingang(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(method: str, url: str, key: str, body: bytes, media: str) -> dict[str, object]:
    request = urllib.request.Request(url, data=body or None, method=method)
    request.add_header("Authorization", f"Bearer {key}")
    if body:
        request.add_header("Content-Type", media)
    with urllib.request.urlopen(request, timeout=30) as response:
        data: dict[str, object] = json.loads(response.read())
        return data


@pytest.mark.slow
def test_the_running_it_steps_deliver_a_document(tmp_path: Path, artefacts_home: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "artefacts").symlink_to(artefacts_home / "artefacts")
    port = _free_port()
    env = {
        **os.environ,
        "LINGANG_HOME": str(home),
        "LINGANG_CONFIG": str(LOCAL),
        "LINGANG_PORT": str(port),
        "LINGANG_STAGE_PROCESSES": "0",
    }
    _lingang(env, "keys", "test-pki", str(home / "pki"))
    _lingang(env, "migrate")
    created = _lingang(
        {k: v for k, v in env.items() if k != "LINGANG_CONFIG"}, "tenants", "create", "Acme Exports"
    )
    key = created.strip().splitlines()[-1]
    server = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        assert "listening on http://127.0.0.1:" in server.stdout.readline()
        base = f"http://127.0.0.1:{port}"
        partners = (REPO / "tests/data/partners.toml").read_bytes()
        _call("PUT", f"{base}/v1/partners", key, partners, "application/toml")
        sample = (REPO / "gateway/samples/export-zero-rate.xml").read_bytes()
        accepted = _call("POST", f"{base}/v1/documents", key, sample, "application/xml")
        status: object = None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and status not in {"delivered", "dead", "rejected"}:
            time.sleep(0.5)
            status = _call("GET", f"{base}/v1/documents/{accepted['id']}", key, b"", "")["status"]
        assert status == "delivered"
        assert list((home / "outbox").iterdir())
    finally:
        server.terminate()
        server.wait(timeout=60)
