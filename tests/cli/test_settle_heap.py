"""settle_heap: what start-up made moves out of the cyclic collector's way, and stays alive."""

from __future__ import annotations

import gc

from gateway.cli._runtime import settle_heap


def test_start_up_objects_are_frozen_and_later_ones_are_not() -> None:
    kept = {"made": "at start-up"}
    gc.collect()
    try:
        settle_heap()
        frozen = gc.get_freeze_count()
        assert frozen > 0 and kept["made"] == "at start-up"
        later = [[n] for n in range(100)]
        assert gc.get_freeze_count() == frozen  # made afterwards: still collected as usual
        assert any(gc.is_tracked(item) for item in later)
    finally:
        gc.unfreeze()
