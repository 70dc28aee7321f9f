"""The stage pool: real child processes, one pipe message each way per batch of queued
requests, a dead child replaced."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator

import pytest
from prometheus_client import generate_latest

from gateway.jobs import stage_pool
from gateway.jobs.metrics import JobMetrics
from gateway.jobs.stage_pool import INLINE_BYTES, StagePool, StageProcessDied, pack, unpack

from .stage_children import batch_main, echo_main, short_main


@pytest.fixture
def pool() -> Iterator[StagePool]:
    made = StagePool(2, echo_main, ())
    yield made
    made.close()


async def test_each_call_is_answered_by_a_child(pool: StagePool) -> None:
    assert pool.pids == []  # nothing spawned before the first call
    answers = await asyncio.gather(*(pool.call(f"doc-{n}".encode()) for n in range(20)))
    assert answers == [f"doc-{n}".encode() for n in range(20)]
    pids = {int(await pool.call(b"pid")) for _ in range(4)}
    assert pids <= set(pool.pids) and os.getpid() not in pids


async def test_messages_larger_than_a_pipe_buffer_cross_both_ways(pool: StagePool) -> None:
    request = b"y" * (4 * INLINE_BYTES)
    assert await pool.call(request) == request
    assert len(await pool.call(f"big:{3 * 1024 * 1024}".encode())) == 3 * 1024 * 1024


async def test_calls_beyond_the_pool_size_wait_for_an_idle_child(pool: StagePool) -> None:
    answers = await asyncio.gather(*(pool.call(b"pid") for _ in range(10)))
    assert len(answers) == 10 and {int(a) for a in answers} <= set(pool.pids)


async def test_a_killed_child_fails_its_call_retryably_and_is_replaced(pool: StagePool) -> None:
    victim = int(await pool.call(b"pid"))
    os.kill(victim, signal.SIGKILL)
    outcomes = await asyncio.gather(*(pool.call(b"pid") for _ in range(4)), return_exceptions=True)
    died = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(isinstance(o, StageProcessDied) and o.retryable for o in died)
    assert len(died) <= pool.batch  # the calls of the victim's one message, at most
    assert victim not in pool.pids and len(pool.pids) == 2
    answers = await asyncio.gather(*(pool.call(b"pid") for _ in range(6)))
    assert {int(a) for a in answers} <= set(pool.pids)


async def test_a_closed_pool_refuses_calls() -> None:
    pool = StagePool(1, echo_main, ())
    assert await pool.call(b"hello") == b"hello"
    pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        await pool.call(b"again")


async def test_pinned_children_run_on_one_core_each_in_turn_and_a_replacement_keeps_its_slot() -> (
    None
):
    cpus = sorted(os.sched_getaffinity(0))
    pool = StagePool(2, echo_main, (), cpus=cpus)
    try:
        await asyncio.gather(*(pool.call(b"pid") for _ in range(4)))
        first, second = pool.pids
        assert os.sched_getaffinity(first) == {cpus[0]}
        assert os.sched_getaffinity(second) == {cpus[1 % len(cpus)]}
        os.kill(second, signal.SIGKILL)
        for _ in range(50):
            if second not in pool.pids:
                break
            await asyncio.gather(pool.call(b"pid"), pool.call(b"pid"), return_exceptions=True)
        replaced = next(pid for pid in pool.pids if pid != first)
        assert os.sched_getaffinity(replaced) == {cpus[1 % len(cpus)]}
    finally:
        pool.close()


async def test_unpinned_children_keep_the_parents_cores(pool: StagePool) -> None:
    await pool.call(b"pid")
    assert all(os.sched_getaffinity(pid) == os.sched_getaffinity(0) for pid in pool.pids)


def test_a_message_carries_its_requests_whole_and_in_order() -> None:
    parts = [b"", b"a", b"\x00" * 5, b"y" * 70_000]
    assert unpack(pack(parts)) == parts
    assert unpack(pack([])) == []


async def test_a_busy_child_takes_what_queued_meanwhile_in_batches() -> None:
    """One child, busy with a slow request while six more queue: it takes four, then two."""
    pool = StagePool(1, batch_main, (), batch=4)
    try:
        slow = asyncio.ensure_future(pool.call(b"sleep:0.3"))
        await asyncio.sleep(0)  # the slow one is sent before the rest queue
        rest = [asyncio.ensure_future(pool.call(f"doc-{n}".encode())) for n in range(6)]
        assert await slow == b"1"
        assert await asyncio.gather(*rest) == [b"4"] * 4 + [b"2"] * 2
    finally:
        pool.close()


async def test_a_cancelled_caller_is_left_out_or_its_answer_dropped() -> None:
    """Cancelled while queued, its request is never sent; cancelled while its batch runs,
    the others of that batch still get their answers."""
    pool = StagePool(1, batch_main, (), batch=4)
    try:
        slow = asyncio.ensure_future(pool.call(b"sleep:0.3"))
        await asyncio.sleep(0)
        queued = [asyncio.ensure_future(pool.call(b"x")) for _ in range(3)]
        await asyncio.sleep(0)
        queued[1].cancel()
        assert await slow == b"1"
        assert await queued[0] == b"2" and await queued[2] == b"2"
        busy = asyncio.ensure_future(pool.call(b"sleep:0.2"))
        await asyncio.sleep(0)
        running = [asyncio.ensure_future(pool.call(b"sleep:0.1")) for _ in range(3)]
        assert await busy == b"1"  # the three are on their way, as one message
        running[0].cancel()
        assert await asyncio.gather(*running[1:]) == [b"3", b"3"]
        assert await pool.call(b"after") == b"1"
    finally:
        pool.close()


async def test_a_replacement_that_cannot_start_is_tried_again_and_queued_calls_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The only child is killed and its first two replacements fail to start (as when the
    system is out of processes): a call made meanwhile waits, and the third try answers it."""
    monkeypatch.setattr(stage_pool, "RESPAWN_FIRST", 0.05)
    pool = StagePool(1, echo_main, ())
    try:
        victim = int(await pool.call(b"pid"))
        spawn, failures = pool._spawn, []

        def failing_spawn(slot: int) -> object:
            if len(failures) < 2:
                failures.append(slot)
                raise OSError(11, "Resource temporarily unavailable")
            return spawn(slot)

        monkeypatch.setattr(pool, "_spawn", failing_spawn)
        os.kill(victim, signal.SIGKILL)
        outcome = await asyncio.wait_for(
            asyncio.gather(pool.call(b"pid"), return_exceptions=True), timeout=20
        )
        if isinstance(outcome[0], StageProcessDied):  # it was sent to the dying child
            outcome = [await asyncio.wait_for(pool.call(b"pid"), timeout=20)]
        assert failures == [0, 0]
        assert int(outcome[0]) == pool.pids[0] != victim
        assert await pool.call(b"again") == b"again"
    finally:
        pool.close()


async def test_a_child_that_breaks_the_protocol_is_killed_not_waited_for() -> None:
    """A reply with the wrong number of answers fails its calls; the child, still running,
    is killed (not waited for) and replaced."""
    pool = StagePool(1, short_main, ())
    try:
        first = int(await pool.call(b"pid"))
        with pytest.raises(RuntimeError, match="answered 0 of 1"):
            await pool.call(b"short")
        assert int(await pool.call(b"pid")) == pool.pids[0] != first
        for _ in range(100):
            if not os.path.exists(f"/proc/{first}") or _state(first) == "Z":
                break
            await asyncio.sleep(0.02)
        assert not os.path.exists(f"/proc/{first}") or _state(first) == "Z"
    finally:
        pool.close()


def _state(pid: int) -> str:
    """A process's state letter (``Z``: it has ended and waits to be collected)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


async def test_the_engines_health_is_served_as_metrics(pool: StagePool) -> None:
    """``lingang worker``'s stage processes (each with its Schematron engine) died and were
    replaced without a trace an operator could scrape: a child killed for its memory again
    and again looked like a healthy worker. Their number and their deaths are metrics now."""
    metrics = JobMetrics()
    metrics.watch_stages(lambda: (pool.size, pool.alive, pool.deaths))

    def scraped() -> str:
        return generate_latest(metrics.registry).decode()

    assert 'lingang_stage_processes{state="running"} 0.0' in scraped()  # none before a call
    victim = int(await pool.call(b"pid"))
    assert 'lingang_stage_processes{state="configured"} 2.0' in scraped()
    assert "lingang_stage_process_deaths_total 0.0" in scraped()
    os.kill(victim, signal.SIGKILL)
    await asyncio.gather(*(pool.call(b"pid") for _ in range(4)), return_exceptions=True)
    await asyncio.gather(*(pool.call(b"pid") for _ in range(4)))
    assert "lingang_stage_process_deaths_total 1.0" in scraped()
    assert f'lingang_stage_processes{{state="running"}} {float(len(pool.pids))}' in scraped()
