"""The operations listener (``--ops-listen`` / ``[ops] listen``) of real ``lingang worker`` and
``lingang serve`` processes, scraped and probed over real sockets.

Before it, a worker-only process served nothing: the deliveries its workers made, their
errors and retries existed in no metric an operator could scrape (``lingang serve``'s
``/metrics`` counts its own requests and the store, not another process's work). And with
mutual TLS on the API listener, Kubernetes' HTTP probes, which present no client
certificate, could not reach ``/livez`` or ``/readyz`` at all.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import trustme

from gateway.service import open_services
from gateway.settings import Settings
from gateway.testing.cluster import GatewayProcess, free_port

REPO = Path(__file__).resolve().parents[2]
PARTNERS = REPO / "tests" / "data" / "partners.toml"


def write_config(home: Path, *extra: str) -> Path:
    """A gateway with its own SQLite store delivering into a folder, without validation or
    signing (no artefacts or keys needed), store readings fresh on every scrape."""
    config = home / "lingang.toml"
    home.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "\n".join(
            [
                f"data_dir = {json.dumps(str(home))}",
                "[store]",
                f"url = {json.dumps(f'sqlite:///{home}/gateway.db')}",
                "[worker]",
                "count = 1",
                "poll_seconds = 0.1",
                "[pipeline]",
                "validate = false",
                "sign = false",
                "stage_processes = 0",
                f"partners = {json.dumps(str(PARTNERS))}",
                "[ops]",
                "counts_seconds = 0",
                "[adapters.local]",
                "type = 'folder'",
                f"path = {json.dumps(str(home / 'out'))}",
                "[routing]",
                "default = 'local'",
                *extra,
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return config


def get(url: str) -> tuple[int, str]:
    """GET ``url`` over plain HTTP: status and body."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_ready(process: GatewayProcess, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not process.ready():
        process.check()
        assert time.monotonic() < deadline, process.status()
        time.sleep(0.1)


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one series in a Prometheus exposition, ``None`` when absent."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _, value = line.rpartition(" ")
        found = dict(re.findall(r'(\w+)="([^"]*)"', series))
        if series.split("{")[0] == name and found == labels:
            return float(value)
    return None


async def submit(config: Path, body: bytes) -> str:
    services = await open_services(Settings.load(config))
    try:
        tenant = await services.store.create_tenant("ops-listener")
        submission, _ = await services.submissions.submit(
            tenant.id, body, content_type="application/xml"
        )
        return submission.id
    finally:
        await services.close()


def test_a_worker_process_serves_its_own_job_counters(tmp_path: Path, reference: Path) -> None:
    port = free_port()
    config = write_config(tmp_path / "home")
    worker = GatewayProcess(
        ["worker", "--metrics", f"127.0.0.1:{port}"], config, tmp_path / "worker.log"
    )
    worker.start()
    try:
        wait_ready(worker)
        assert f"operations listener on http://127.0.0.1:{port}" in worker.log_path.read_text()
        base = f"http://127.0.0.1:{port}"
        assert get(f"{base}/livez")[0] == 200
        status, body = get(f"{base}/readyz")
        assert (status, json.loads(body)["checks"]) == (200, {"store": {"status": "ok"}})
        status, before = get(f"{base}/metrics")
        assert status == 200
        # nothing but, perhaps, the hour's housekeeping job the pool queued as it started
        assert sample(before, "lingang_jobs_in_flight") in (0.0, 1.0)
        for kind, adapter in (("process", ""), ("deliver", "local")):  # no document's job yet
            assert sample(before, "lingang_jobs_total", kind=kind, adapter=adapter,
                          outcome="completed") is None  # fmt: skip
        # at most the hour's housekeeping job, which the pool queued as it started
        assert sample(before, "lingang_outbox_jobs", state="done") in (0.0, 1.0)
        assert get(f"{base}/v1/documents")[0] == 404  # probes and metrics only

        fapiao = reference / "fapiao/samples/xml/invoice-precheck_official-gd-special.xml"
        asyncio.run(submit(config, fapiao.read_bytes()))
        deadline = time.monotonic() + 60
        while True:
            worker.check()
            text = get(f"{base}/metrics")[1]
            done = sample(
                text, "lingang_jobs_total", kind="deliver", adapter="local", outcome="completed"
            )
            if done == 1.0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert done == 1.0, text
        processed = {"kind": "process", "adapter": "", "outcome": "completed"}
        assert sample(text, "lingang_jobs_total", **processed) == 1.0
        assert sample(text, "lingang_job_duration_seconds_count", kind="deliver") == 1.0
        assert sample(text, "lingang_outbox_jobs", state="done") == 3.0  # and housekeeping
        assert sample(text, "lingang_submissions", state="delivered") == 1.0
        assert list((tmp_path / "home" / "out").iterdir())  # really delivered
        assert worker.terminate() == 0
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"{base}/livez", timeout=2)
    finally:
        worker.terminate()


def test_probes_reach_an_mtls_serve_through_the_ops_listener(tmp_path: Path) -> None:
    """The kubelet's ``httpGet`` probe has no client certificate: the API refuses it at the
    handshake; the operations listener answers it."""
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    tls = tmp_path / "tls"
    tls.mkdir()
    server.cert_chain_pems[0].write_to_path(str(tls / "server.pem"))
    for blob in server.cert_chain_pems[1:]:
        blob.write_to_path(str(tls / "server.pem"), append=True)
    server.private_key_pem.write_to_path(str(tls / "server.key"))
    ca.cert_pem.write_to_path(str(tls / "ca.pem"))
    api_port, ops_port = free_port(), free_port()
    config = write_config(
        tmp_path / "home",
        "[server]",
        "host = '127.0.0.1'",
        f"port = {api_port}",
        f"tls_cert = {json.dumps(str(tls / 'server.pem'))}",
        f"tls_key = {json.dumps(str(tls / 'server.key'))}",
        f"client_ca = {json.dumps(str(tls / 'ca.pem'))}",
    )
    serve = GatewayProcess(
        ["serve", "--ops-listen", f"127.0.0.1:{ops_port}"], config, tmp_path / "serve.log"
    )
    serve.start()
    try:
        wait_ready(serve)
        no_cert = ssl.create_default_context()
        ca.configure_trust(no_cert)
        with pytest.raises((ssl.SSLError, ConnectionError, urllib.error.URLError)):
            urllib.request.urlopen(f"https://127.0.0.1:{api_port}/readyz", context=no_cert)
        for path in ("/livez", "/readyz"):
            assert get(f"http://127.0.0.1:{ops_port}{path}")[0] == 200
        status, text = get(f"http://127.0.0.1:{ops_port}/metrics")
        assert status == 200 and "lingang_http_requests" in text
        assert "lingang_jobs_in_flight" in text  # serve's own workers
    finally:
        assert serve.terminate() == 0


def run_gateway(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_malformed_listen_flag_is_refused_naming_it(tmp_path: Path) -> None:
    config = write_config(tmp_path / "home")
    done = run_gateway("worker", "--config", str(config), "--metrics", "9464")
    assert done.returncode == 2
    assert "--ops-listen/--metrics: must be HOST:PORT" in done.stderr


def test_an_ops_port_in_use_is_a_usage_error_naming_the_settings(tmp_path: Path) -> None:
    config = write_config(tmp_path / "home")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_gateway("worker", "--config", str(config), "--metrics", f"127.0.0.1:{port}")
    assert done.returncode == 2, done.stderr
    assert (
        f"cannot listen on 127.0.0.1:{port} for the operations listener: another process is "
        "listening there" in done.stderr
    )
    assert "--ops-listen, [ops] listen or LINGANG_OPS_LISTEN" in done.stderr
    assert "Traceback" not in done.stderr


class SlowInbox:
    """A partner's inbox that holds each delivery ``seconds`` before answering 200 (the
    far edge: a real HTTP server on 127.0.0.1, in a thread); ``received`` is set at the
    first request."""

    def __init__(self, seconds: float) -> None:
        import http.server
        import threading

        self.received = threading.Event()
        inbox = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                inbox.received.set()
                time.sleep(seconds)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/inbox"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_readiness_is_503_from_the_moment_shutdown_begins(tmp_path: Path, reference: Path) -> None:
    """After SIGTERM a process lets its workers finish their jobs (up to ten seconds) and
    serves on meanwhile: ``/readyz`` kept answering 200 all that time, so a load balancer
    went on sending it work. Readiness now says 503 (draining) at once; liveness stays 200
    until the process exits (it is not stuck: restarting it would cut the drain short)."""
    inbox = SlowInbox(4.0)
    port = free_port()
    config = write_config(tmp_path / "home")
    text = config.read_text(encoding="utf-8").replace("default = 'local'", "default = 'slow'")
    config.write_text(
        f"{text}[adapters.slow]\ntype = 'https'\nurl = {json.dumps(inbox.url)}\ninsecure = true\n",
        encoding="utf-8",
    )
    worker = GatewayProcess(
        ["worker", "--ops-listen", f"127.0.0.1:{port}"], config, tmp_path / "worker.log"
    )
    worker.start()
    try:
        wait_ready(worker)
        base = f"http://127.0.0.1:{port}"
        assert get(f"{base}/readyz")[0] == 200
        fapiao = reference / "fapiao/samples/xml/invoice-precheck_official-gd-special.xml"
        asyncio.run(submit(config, fapiao.read_bytes()))
        assert inbox.received.wait(60), worker.status()
        assert worker.process is not None
        worker.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert worker.alive  # draining: the delivery is still in flight
        status, body = get(f"{base}/readyz")
        assert status == 503, body
        assert json.loads(body) == {
            "status": "fail",
            "checks": {
                "process": {
                    "status": "fail",
                    "detail": "draining (the process is shutting down)",
                }
            },
        }
        assert get(f"{base}/livez")[0] == 200
        assert worker.process.wait(30) == 0
    finally:
        worker.terminate()
        inbox.close()
