from __future__ import annotations

import asyncio

import pytest

from app.bidding.lot_gates import LotGates


async def test_bids_on_one_lot_pass_one_at_a_time_in_arrival_order_and_the_gate_is_then_forgotten() -> None:
    gates = LotGates()
    order: list[int] = []
    inside = 0
    most_inside = 0

    async def bid(index: int) -> None:
        nonlocal inside, most_inside
        async with gates.hold(7):
            inside += 1
            most_inside = max(most_inside, inside)
            await asyncio.sleep(0.001 * (5 - index % 5))  # later arrivals would finish sooner
            order.append(index)
            inside -= 1

    await asyncio.gather(*(bid(i) for i in range(20)))

    assert order == list(range(20))
    assert most_inside == 1
    assert len(gates) == 0


async def test_different_lots_do_not_wait_for_each_other() -> None:
    gates = LotGates()
    release = asyncio.Event()
    entered: list[int] = []

    async def hold_lot(lot_id: int) -> None:
        async with gates.hold(lot_id):
            entered.append(lot_id)
            await release.wait()

    tasks = [asyncio.create_task(hold_lot(lot)) for lot in (1, 2, 3)]
    await asyncio.sleep(0.01)
    assert sorted(entered) == [1, 2, 3]
    release.set()
    await asyncio.gather(*tasks)
    assert len(gates) == 0


async def test_a_failing_bid_releases_the_gate() -> None:
    gates = LotGates()

    async def failing() -> None:
        async with gates.hold(1):
            raise ValueError("refused")

    for _ in range(2):
        with pytest.raises(ValueError, match="refused"):
            await failing()
    async with gates.hold(1):
        assert len(gates) == 1
    assert len(gates) == 0


async def test_an_early_release_lets_the_next_bid_in_while_this_one_finishes() -> None:
    gates = LotGates()
    events: list[str] = []
    first_locked = asyncio.Event()
    finish_first = asyncio.Event()

    async def first() -> None:
        async with gates.hold(3) as gate_pass:
            events.append("first in")
            gate_pass.release()  # it holds the row lock now
            gate_pass.release()  # a second release is harmless
            first_locked.set()
            await finish_first.wait()
            events.append("first done")

    async def second() -> None:
        await first_locked.wait()
        async with gates.hold(3):
            events.append("second in")

    third_in = asyncio.Event()

    async def third() -> None:
        await first_locked.wait()
        await asyncio.sleep(0)
        async with gates.hold(3):
            events.append("third in")
            third_in.set()

    tasks = [asyncio.create_task(work()) for work in (first, second, third)]
    await asyncio.wait_for(third_in.wait(), 1)
    assert events == ["first in", "second in", "third in"]
    assert len(gates) == 1  # the first bid is still inside
    finish_first.set()
    await asyncio.gather(*tasks)
    assert events[-1] == "first done"
    assert len(gates) == 0
