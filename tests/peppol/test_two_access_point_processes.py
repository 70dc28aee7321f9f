"""Two ``lingang serve`` processes on TLS on 127.0.0.1, each an access point with its own Peppol
certificate and ``/as4``: fapiao submitted through the API of each are sent to the other over
AS4 (an invoice and a credit note each way), reach the local systems (folder at B, webhook at
A), and the Message Level Status each receiver sends back over AS4 shows in the sent
document's history through the API."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.signing.peppol_pki import PeppolTestPki
from gateway.testing.cluster import GatewayProcess, free_port
from gateway.testing.tenants import make_tenants, participant_tenants
from gateway.testing.tls import TlsFiles
from tests.peppol.as4_gateway import Side, gateway_config
from tests.peppol.test_two_access_points import BUYERS, FAPIAO, erp  # noqa: F401
from tests.peppol_duties.test_inbound_duties import SECRET, LocalSystem


def start(home: Path, port: int, config_text: str, tls: TlsFiles) -> GatewayProcess:
    """A ``lingang serve`` process on TLS at ``port`` (not started yet)."""
    server = (
        f'[server]\nhost = "127.0.0.1"\nport = {port}\n'
        f'tls_cert = "{tls.server_cert}"\ntls_key = "{tls.server_key}"\n'
    )
    (home / "lingang.toml").write_text(config_text + server, encoding="utf-8")
    return GatewayProcess(["serve"], home / "lingang.toml", home / "serve.log")


def api_key(home: Path, tenant: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "tenants", "create", tenant,
         "--config", str(home / "lingang.toml")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = re.search(r"lgk_\S+", done.stdout)
    assert found is not None, done.stdout
    return found.group(0)


async def mls_codes(session: aiohttp.ClientSession, base: str, key: str, ident: str) -> list[str]:
    async with session.get(
        f"{base}/v1/documents/{ident}", headers={"Authorization": f"Bearer {key}"}
    ) as response:
        shown: dict[str, Any] = await response.json()
    return [
        e["detail"]["mls"]["code"]
        for e in shown.get("history", [])
        if "Message Level Status" in (e.get("reason") or "")
    ]


async def test_two_serve_processes_exchange_both_ways_with_mls(
    tmp_path: Path,
    pki: PeppolTestPki,
    tls: TlsFiles,
    artefacts_home: Path,
    erp: LocalSystem,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LINGANG_HOME", raising=False)  # each process its own data_dir
    port_a, port_b = free_port(), free_port()
    homes = {"a": tmp_path / "a", "b": tmp_path / "b"}
    for home in homes.values():
        home.mkdir()
    (homes["a"] / "webhook.secret").write_bytes(SECRET)
    sides = {
        "a": Side(
            key="ap-sender",
            seat="PSG000001",
            local=BUYERS,
            route=(f"https://127.0.0.1:{port_b}/as4", "ap-receiver"),
            local_system=f'type = "webhook"\nurl = "{erp.url}"\nca = "{tls.ca}"\n'
            'secret_file = "webhook.secret"',
            mls_type="ALWAYS_SEND",
        ),
        "b": Side(
            local=BUYERS,
            route=(f"https://127.0.0.1:{port_a}/as4", "ap-sender"),
            mls_type="ALWAYS_SEND",
        ),
    }
    processes = {}
    for name, port in (("a", port_a), ("b", port_b)):
        text = gateway_config(
            homes[name], pki=pki, tls=tls, artefacts_home=artefacts_home,
            store_url=f"sqlite:///{homes[name] / 'gateway.db'}", side=sides[name],
            extra="[worker]\ncount = 1\npoll_seconds = 0.1\nretry_base_seconds = 0.2\n"
            "retry_cap_seconds = 1.0",
        ).replace("[worker]\nmax_attempts = 2\n", "")  # fmt: skip
        store_url = f"sqlite:///{homes[name] / 'gateway.db'}"
        await make_tenants(store_url, participant_tenants(sides[name].local))
        processes[name] = start(homes[name], port, text, tls)
    keys = {name: api_key(homes[name], f"exporter-{name}") for name in homes}
    for process in processes.values():
        process.start()
    try:
        deadline = time.monotonic() + 120
        while not all(p.ready() for p in processes.values()):
            assert all(p.alive for p in processes.values()), [
                p.log_path.read_text()[-2000:] for p in processes.values()
            ]
            assert time.monotonic() < deadline, "the gateways did not start"
            await asyncio.sleep(0.2)
        bases = {"a": f"https://127.0.0.1:{port_a}", "b": f"https://127.0.0.1:{port_b}"}
        connector = aiohttp.TCPConnector(ssl=tls.client_context())
        async with aiohttp.ClientSession(connector=connector) as session:
            sent: dict[str, list[str]] = {"a": [], "b": []}
            for name in ("a", "b"):
                for path in FAPIAO.values():
                    async with session.post(
                        f"{bases[name]}/v1/documents",
                        data=path.read_bytes(),
                        headers={
                            "Authorization": f"Bearer {keys[name]}",
                            "Content-Type": "application/xml",
                        },
                    ) as response:
                        assert response.status == 202, await response.text()
                        sent[name].append((await response.json())["id"])
            deadline = time.monotonic() + 240
            while True:
                codes = {
                    (name, ident): await mls_codes(session, bases[name], keys[name], ident)
                    for name in sent
                    for ident in sent[name]
                }
                if all(c == ["AP"] for c in codes.values()):
                    break
                assert time.monotonic() < deadline, (
                    codes,
                    [p.log_path.read_text()[-3000:] for p in processes.values()],
                )
                await asyncio.sleep(0.5)
        at_b = [p for p in (homes["b"] / "received").iterdir() if p.suffix == ".xml"]
        assert sorted(b"<CreditNote" in p.read_bytes()[:500] for p in at_b) == [False, True]
        assert sorted(got["document_kind"] for got in erp.received) == ["CreditNote", "Invoice"]
    finally:
        for process in processes.values():
            process.terminate()
