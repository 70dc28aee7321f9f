"""Settings from file + environment, and `lingang serve` over TLS with client certificates."""

from __future__ import annotations

import asyncio
import os
import ssl
from pathlib import Path

import aiohttp
import pytest

from gateway.pipeline.routing import Router
from gateway.settings import ConfigError, Routing, Settings, default_stage_processes
from gateway.testing.cluster import GatewayProcess, free_port
from gateway.testing.tls import make_tls


def test_file_then_environment(tmp_path: Path) -> None:
    config = tmp_path / "lingang.toml"
    config.write_text(
        'data_dir = "data"\n[worker]\ncount = 3\n[adapters.hk]\ntype = "https"\n'
        'url = "https://a.example"\n[routing]\ndefault = "hk"\n',
        encoding="utf-8",
    )
    env = {"LINGANG_WORKERS": "5", "LINGANG_ADAPTER_HK_TIMEOUT": "7", "LINGANG_HOME": str(tmp_path)}
    settings = Settings.load(config, env=env)
    assert settings.workers == 5
    assert settings.data_dir == tmp_path
    assert settings.store_url == f"sqlite:///{tmp_path / 'gateway.db'}"
    assert dict(settings.adapters["hk"].options) == {"url": "https://a.example", "timeout": "7"}
    assert settings.routing.default == "hk"


def test_stage_processes_default_follows_the_cpus() -> None:
    assert Settings.from_dict({}, env={}).stage_processes == default_stage_processes()
    cpus = os.cpu_count() or 1
    assert default_stage_processes() == (min(cpus, 4) if cpus > 1 else 0)
    env = {"LINGANG_STAGE_PROCESSES": "0"}
    assert Settings.from_dict({}, env=env).stage_processes == 0
    assert Settings.from_dict({"pipeline": {"stage_processes": 2}}, env={}).stage_processes == 2


def test_bad_values_name_the_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_dict({"worker": {"count": "many"}}, env={})
    assert caught.value.field == "worker.count"
    broken = tmp_path / "broken.toml"
    broken.write_text("[worker\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Settings.load(broken, env={})
    with pytest.raises(ConfigError, match="not configured"):
        Router(Routing(default="nowhere"), ["hk"])


@pytest.mark.slow
async def test_serve_with_mutual_tls(tmp_path: Path, artefacts_home: Path) -> None:
    tls = make_tls(tmp_path / "tls")
    port = free_port()
    config = tmp_path / "lingang.toml"
    config.write_text(
        f'data_dir = "{tmp_path}"\n[server]\nport = {port}\n'
        f'tls_cert = "{tls.server_cert}"\ntls_key = "{tls.server_key}"\nclient_ca = "{tls.ca}"\n'
        f'[pipeline]\nartefacts = "{artefacts_home}"\n'
        '[adapters.drop]\ntype = "folder"\npath = "out"\n',
        encoding="utf-8",
    )
    server = GatewayProcess(["serve", "--no-worker"], config, tmp_path / "serve.log")
    server.start()
    url = f"https://127.0.0.1:{port}/healthz"
    try:
        status = 0
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(url, ssl=tls.client_context()) as response:
                        status = response.status
                        break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.1)
            assert status == 200
            anonymous = ssl.create_default_context(cafile=str(tls.ca))
            with pytest.raises(aiohttp.ClientError):
                async with session.get(url, ssl=anonymous) as response:
                    await response.read()
    finally:
        code = server.terminate()
    assert code == 0
