"""app/lot_batches.py: bids that arrive while their lot's batch is written go together as the next
batch, in arrival order; every bid gets its own answer; a failure reaches exactly its batch."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from app.bidding.lot_batches import MAX_BATCH_BIDS, LotBatches


class Recorder:
    """A batch runner that remembers its batches, answers each request doubled, and lets the test
    hold a batch in flight."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.release.set()
        self.fail_on: int | None = None

    async def run(self, requests: Sequence[int]) -> list[int]:
        self.batches.append(list(requests))
        await self.release.wait()
        if self.fail_on in requests:
            raise RuntimeError(f"batch with {self.fail_on} failed")
        return [2 * r for r in requests]


async def _queued(
    batches: LotBatches[int, int], recorder: Recorder, lot: int, request: int
) -> asyncio.Task[int | None]:
    task = asyncio.create_task(batches.submit(lot, request, recorder.run))
    await asyncio.sleep(0)  # let it queue
    return task


async def test_bids_queued_behind_a_batch_go_together_in_arrival_order() -> None:
    batches: LotBatches[int, int] = LotBatches()
    recorder = Recorder()
    recorder.release.clear()
    first = await _queued(batches, recorder, 7, 1)
    rest = [await _queued(batches, recorder, 7, r) for r in (2, 3, 4)]
    other_lot = await _queued(batches, recorder, 8, 50)  # another lot never waits for lot 7
    assert recorder.batches == [[1], [50]]

    recorder.release.set()
    answers = await asyncio.gather(first, *rest, other_lot)

    assert answers == [2, 4, 6, 8, 100]
    assert recorder.batches == [[1], [50], [2, 3, 4]]
    assert len(batches) == 0  # idle lots are forgotten


async def test_a_batch_holds_at_most_max_batch_bids() -> None:
    batches: LotBatches[int, int] = LotBatches()
    recorder = Recorder()
    recorder.release.clear()
    tasks = [await _queued(batches, recorder, 1, r) for r in range(MAX_BATCH_BIDS + 6)]
    recorder.release.set()

    answers = await asyncio.gather(*tasks)

    assert answers == [2 * r for r in range(MAX_BATCH_BIDS + 6)]
    assert [len(b) for b in recorder.batches] == [1, MAX_BATCH_BIDS, 5]
    assert [r for b in recorder.batches for r in b] == list(range(MAX_BATCH_BIDS + 6))


async def test_a_failed_batch_fails_its_own_bids_and_the_next_batch_still_runs() -> None:
    batches: LotBatches[int, int] = LotBatches()
    recorder = Recorder()
    recorder.release.clear()
    recorder.fail_on = 3
    first = await _queued(batches, recorder, 7, 1)
    failing = [await _queued(batches, recorder, 7, r) for r in (2, 3)]
    recorder.release.set()
    assert await first == 2
    await asyncio.sleep(0)
    later = await _queued(batches, recorder, 7, 4)  # queued behind the failing batch

    results = await asyncio.gather(*failing, later, return_exceptions=True)

    assert [str(r) for r in results[:2]] == ["batch with 3 failed"] * 2
    assert results[2] == 8
    assert recorder.batches == [[1], [2, 3], [4]]
    assert len(batches) == 0


async def test_none_answers_every_bid_of_the_batch_with_none() -> None:
    batches: LotBatches[int, int] = LotBatches()
    gate = asyncio.Event()
    seen: list[list[int]] = []

    async def not_batched(requests: Sequence[int]) -> None:
        seen.append(list(requests))
        await gate.wait()
        return None

    tasks = [asyncio.create_task(batches.submit(5, r, not_batched)) for r in (1, 2, 3)]
    await asyncio.sleep(0)
    gate.set()

    assert await asyncio.gather(*tasks) == [None, None, None]
    assert seen == [[1], [2, 3]]


async def test_a_bid_that_gave_up_waiting_is_skipped_when_the_lead_is_handed_on() -> None:
    batches: LotBatches[int, int] = LotBatches()
    recorder = Recorder()
    recorder.release.clear()
    first = await _queued(batches, recorder, 7, 1)
    gave_up = await _queued(batches, recorder, 7, 2)
    gave_up.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gave_up
    after = await _queued(batches, recorder, 7, 3)
    recorder.release.set()

    assert list(await asyncio.gather(first, after)) == [2, 6]
    assert recorder.batches == [[1], [3]]
    assert len(batches) == 0
