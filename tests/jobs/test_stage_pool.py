"""The stage pool: real child processes, one pipe message each way, a dead child replaced."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator

import pytest

from gateway.jobs.stage_pool import INLINE_BYTES, StagePool, StageProcessDied

from .stage_children import echo_main


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
    assert len(died) <= 1
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
