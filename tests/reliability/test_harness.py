"""Tests of the harness itself: each way delivery can go wrong makes the exactly-once check
fail, and a gateway process that ends on its own fails a run at once, saying how it ended."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gateway.store import JobSpec, open_store
from gateway.testing.cluster import (
    READY_LINES,
    GatewayDied,
    GatewayProcess,
    ephemeral_ports,
    free_port,
    process_environment,
)
from reliability.harness import (
    check_exactly_once,
    one_id_per_key,
    stop_tasks,
    supervised,
    watch_jobs,
)

SAFETY_NET = 300.0
"""Ends a harness test that would otherwise wait for ever (never reached when it works)."""


class SeenByReceiver:
    """What the receiver recorded: message id → body sha256 and → submission id."""

    def __init__(self) -> None:
        self.accepted: dict[str, str] = {}
        self.submissions: dict[str, str] = {}

    def got(self, message_id: str, submission_id: str, body: bytes) -> None:
        self.accepted[message_id] = hashlib.sha256(body).hexdigest()
        self.submissions[message_id] = submission_id


async def stored(url: str, count: int) -> list[str]:
    store = await open_store(url)
    try:
        tenant = await store.create_tenant("t")
        ids = []
        for n in range(count):
            sub, _ = await store.create_submission(tenant.id, b"x", content_type="text/plain")
            await store.put_output(sub.id, "signed", "application/xml", f"<d n='{n}'/>".encode())
            await store.record_event(sub.id, "delivered")
            ids.append(sub.id)
        return ids
    finally:
        await store.close()


async def test_every_way_to_go_wrong_fails_the_check(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    one, two = await stored(url, 2)

    def receiver(*deliveries: tuple[str, str, bytes]) -> Any:
        seen = SeenByReceiver()
        for message_id, submission_id, body in deliveries:
            seen.got(message_id, submission_id, body)
        return seen

    good = receiver(("m1", one, b"<d n='0'/>"), ("m2", two, b"<d n='1'/>"))
    await check_exactly_once(url, good, {one, two}, documents=2)
    with pytest.raises(AssertionError, match="never delivered"):
        await check_exactly_once(url, receiver(("m1", one, b"<d n='0'/>")), {one, two})
    with pytest.raises(AssertionError, match="nobody acknowledged"):
        await check_exactly_once(url, good, {one})
    twice = receiver(
        ("m1", one, b"<d n='0'/>"), ("m1b", one, b"<d n='0'/>"), ("m2", two, b"<d n='1'/>")
    )
    with pytest.raises(AssertionError, match="several message ids"):
        await check_exactly_once(url, twice, {one, two})
    with pytest.raises(AssertionError, match="other bytes"):
        await check_exactly_once(
            url, receiver(("m1", one, b"<d n='0'/>"), ("m2", two, b"<x/>")), {one, two}
        )
    with pytest.raises(AssertionError, match="3 documents sent"):
        await check_exactly_once(url, good, {one, two}, documents=3)


def test_a_key_acknowledged_as_two_submissions_fails() -> None:
    assert one_id_per_key({"doc-1": {"a"}, "doc-2": {"b"}}) == {"a", "b"}
    with pytest.raises(AssertionError, match="several submissions"):
        one_id_per_key({"doc-1": {"a", "a2"}, "doc-2": {"b"}})


def minimal_config(home: Path) -> Path:
    """A worker on a SQLite store, no rules, no signing: quick to start."""
    config, database = home / "lingang.toml", home / "g.db"
    config.write_text(
        f"data_dir = '{home}'\n[store]\nurl = 'sqlite:///{database}'\n"
        "[pipeline]\nvalidate = false\nsign = false\nstage_processes = 0\n",
        encoding="utf-8",
    )
    return config


async def never() -> None:
    """Work that only ends when cancelled, like a wait for deliveries that never come."""
    await asyncio.Event().wait()


async def until_ready(process: GatewayProcess) -> None:
    while not process.ready():
        process.check()
        await asyncio.sleep(0.05)


async def test_a_process_that_dies_at_start_up_fails_the_run_at_once(tmp_path: Path) -> None:
    config = tmp_path / "lingang.toml"
    config.write_text("[sever]\nport = 9999\n", encoding="utf-8")
    server = GatewayProcess(["serve"], config, tmp_path / "serve.log")
    server.start()
    try:
        async with asyncio.timeout(SAFETY_NET):
            with pytest.raises(GatewayDied) as died:
                await supervised(never(), [server])
        message = str(died.value)
        assert "lingang serve (start 1) ended on its own with exit code 1" in message
        assert "unknown table `sever`" in message  # the end of its log
        with pytest.raises(GatewayDied, match="ended on its own"):
            server.start()  # not silently started again
        assert server.starts == 1
    finally:
        server.terminate()


async def test_a_process_crashing_while_it_runs_fails_the_run_with_its_signal(
    tmp_path: Path,
) -> None:
    worker = GatewayProcess(["worker"], minimal_config(tmp_path), tmp_path / "worker.log")
    worker.start()
    try:
        async with asyncio.timeout(SAFETY_NET):
            await until_ready(worker)
            assert worker.process is not None
            os.kill(worker.process.pid, signal.SIGSEGV)  # what an engine crash looks like
            with pytest.raises(GatewayDied) as died:
                await supervised(never(), [worker])
        assert "lingang worker (start 1) ended on its own with signal SIGSEGV" in str(died.value)
        assert "lingang worker: 2 worker(s) running" in str(died.value)
    finally:
        worker.terminate()


async def test_kills_and_stops_by_the_test_are_no_failure(tmp_path: Path) -> None:
    worker = GatewayProcess(["worker"], minimal_config(tmp_path), tmp_path / "worker.log")
    worker.start()
    try:
        async with asyncio.timeout(SAFETY_NET):
            await until_ready(worker)
            worker.kill()
            assert await supervised(asyncio.sleep(0.3, "done"), [worker]) == "done"
            worker.start()
            await until_ready(worker)
            assert (worker.starts, worker.kills) == (2, 1)
    finally:
        assert worker.terminate() == 0
    worker.check()


async def test_a_failing_companion_fails_the_run_at_once() -> None:
    async def chaos() -> None:
        raise RuntimeError("the chaos task broke")

    companion = asyncio.create_task(chaos())
    async with asyncio.timeout(SAFETY_NET):
        with pytest.raises(RuntimeError, match="chaos task broke"):
            await supervised(never(), [], companions=[companion])


def test_ready_lines_are_the_ready_lines_only() -> None:
    worker = READY_LINES["worker"]
    assert worker.search(b"lingang worker: 2 worker(s) running\n")
    assert not worker.search(b'{"message": "lease lost while running", "job_id": "j1"}\n')
    serve = READY_LINES["serve"]
    assert serve.search(b'{"half a record"lingang serve: listening on http://127.0.0.1:1\n')
    assert not serve.search(b'{"message": "listening", "url": "http://127.0.0.1:1"}\n')


def test_free_ports_are_outside_the_ephemeral_range() -> None:
    """A restarted gateway binds its port again: an outgoing connection must not hold it."""
    ports = {free_port() for _ in range(20)}
    assert not ports & set(ephemeral_ports())


async def failed_jobs(url: str, error: str, count: int, *, dead: bool) -> None:
    """``count`` jobs whose last attempt failed with ``error``, dead-lettered or pending."""
    store = await open_store(url)
    try:
        tenant = await store.create_tenant("t")
        for _ in range(count):
            await store.create_submission(
                tenant.id, b"x", content_type="text/plain", enqueue=JobSpec("process")
            )
        for job in await store.claim_jobs("w", limit=count):
            later = None if dead else 3600.0
            await store.fail_job(job.id, "w", error, retryable=True, retry_after=later)
    finally:
        await store.close()


async def test_watch_jobs_fails_on_a_dead_letter_and_on_stage_process_deaths(
    store_url: str,
) -> None:
    watch = asyncio.create_task(watch_jobs(store_url, every=0.05))
    await failed_jobs(store_url, "DeliveryError: HTTP 503", 2, dead=False)
    await failed_jobs(store_url, "StageProcessDied: stage process 7 ended", 2, dead=False)
    await asyncio.sleep(0.3)
    assert not watch.done()  # retries, and fewer stage deaths than the limit: no failure
    await stop_tasks(watch)

    await failed_jobs(store_url, "StageProcessDied: stage process 8 ended", 1, dead=False)
    async with asyncio.timeout(SAFETY_NET):
        with pytest.raises(AssertionError, match="3 jobs failed by a stage process"):
            await watch_jobs(store_url, every=0.05)
    await failed_jobs(store_url, "ValidationError: broken", 1, dead=True)
    async with asyncio.timeout(SAFETY_NET):
        with pytest.raises(AssertionError, match=r"dead-lettered: process job .* broken"):
            await watch_jobs(store_url, every=0.05)


async def test_a_stall_says_where_each_process_stands(tmp_path: Path) -> None:
    worker = GatewayProcess(["worker"], minimal_config(tmp_path), tmp_path / "worker.log")
    worker.start()

    async def stalled() -> None:
        await until_ready(worker)
        raise AssertionError("doc-7 was never acknowledged (nothing acknowledged for 120s)")

    try:
        async with asyncio.timeout(SAFETY_NET):
            with pytest.raises(AssertionError) as failed:
                await supervised(stalled(), [worker])
        assert str(failed.value).startswith("doc-7 was never acknowledged")
        assert "lingang worker: ready; 1 starts, 0 kills; last lines of" in str(failed.value)
    finally:
        worker.terminate()


async def test_a_crash_the_test_killed_while_it_dumped_still_fails_the_run(
    tmp_path: Path,
) -> None:
    worker = GatewayProcess(["worker"], minimal_config(tmp_path), tmp_path / "worker.log")
    worker.start()
    try:
        async with asyncio.timeout(SAFETY_NET):
            await until_ready(worker)
            with worker.log_path.open("ab") as log:  # what the fault handler writes first
                log.write(b"Fatal Python error: Segmentation fault\n\nCurrent thread 0x1:\n")
            worker.kill()  # the chaos lands on the process while it dumps core: a kill
            with pytest.raises(GatewayDied) as died:
                await supervised(never(), [worker])
        assert "lingang worker crashed in native code (start 1)" in str(died.value)
        assert "Fatal Python error: Segmentation fault" in str(died.value)
    finally:
        worker.terminate()


def test_gateway_processes_keep_their_data_in_the_file_s_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``LINGANG_HOME`` (the test run's own data directory) would win over the ``data_dir``
    the test wrote: every gateway process would keep its ledger anchor in that one folder."""
    monkeypatch.setenv("LINGANG_HOME", str(tmp_path / "shared"))
    config = tmp_path / "home" / "lingang.toml"
    config.parent.mkdir()
    config.write_text(f"data_dir = {str(config.parent)!r}\n", encoding="utf-8")
    env = process_environment()
    assert "LINGANG_HOME" not in env
    assert env["PYTHONFAULTHANDLER"] == "1"
    shown = subprocess.run(
        [sys.executable, "-c", "import sys; from gateway.settings import Settings; "
         "print(Settings.load(sys.argv[1]).data_dir)", str(config)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert shown.stdout.strip() == str(config.parent)
