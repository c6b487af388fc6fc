import asyncio
import gc
import weakref

from taxicrm.collector import collect_everything, freeze_survivors, tend_collector


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_survivors_are_frozen_and_a_full_collection_frees_cycles_among_them():
    try:
        kept = cycle()
        alive = kept()  # Still in use when frozen, dropped afterwards: cyclic garbage among frozen objects.
        freeze_survivors()
        assert gc.get_freeze_count() > 0
        del alive
        gc.collect()  # An ordinary collection does not see frozen objects: the dropped cycle survives it.
        assert kept() is not None
        collect_everything()
        assert kept() is None
    finally:
        gc.unfreeze()


def test_young_garbage_is_collected_before_freezing_so_it_is_not_kept_forever():
    try:
        young = cycle()
        freeze_survivors()
        assert young() is None
    finally:
        gc.unfreeze()


async def test_the_tender_freezes_on_schedule_and_stops_when_cancelled():
    try:
        gc.unfreeze()
        tender = asyncio.create_task(tend_collector(freeze_every=0.01, full_every=3600))
        await asyncio.sleep(0.05)
        assert gc.get_freeze_count() > 0
        tender.cancel()
        await asyncio.gather(tender, return_exceptions=True)
        assert tender.cancelled()
    finally:
        gc.unfreeze()


async def test_while_tended_the_collector_does_not_run_by_itself():
    assert gc.isenabled()
    tender = asyncio.create_task(tend_collector(freeze_every=3600, full_every=3600))
    try:
        await asyncio.sleep(0)
        assert not gc.isenabled()
    finally:
        tender.cancel()
        await asyncio.gather(tender, return_exceptions=True)
    assert gc.isenabled()


async def test_cyclic_garbage_is_freed_once_the_process_memory_has_grown_enough():
    try:
        gc.unfreeze()
        kept = cycle()
        alive = kept()
        used = [100]  # The process's memory as the tender sees it.
        tender = asyncio.create_task(tend_collector(freeze_every=0.01, full_every=3600, growth=2.0,
                                                    growth_floor=0, memory=lambda: used[0]))
        await asyncio.sleep(0.05)  # Frozen while still in use, then dropped: garbage only a full collection sees.
        del alive
        await asyncio.sleep(0.05)
        assert kept() is not None
        used[0] = 201  # Memory more than doubled.
        await asyncio.sleep(0.1)
        assert kept() is None
        tender.cancel()
        await asyncio.gather(tender, return_exceptions=True)
    finally:
        gc.unfreeze()
