"""Per-lot batches of bids inside a server process (app/bidding/driver_bids.py runs them).

A bid that arrives while its lot's batch is being written waits; the bids that waited go
together as the lot's next batch. No task of its own: the bid that finds its lot idle runs the
first batch; when it is done it answers every bid of that batch and hands the lead to the first
bid that queued meanwhile, which runs the next batch with everything queued by then (up to
MAX_BATCH_BIDS). So a bid waits for at most the batch in flight and its own, one lot's batches
never overlap inside a process, and bids on a lot are judged in the order they arrived.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

RequestT = TypeVar("RequestT")
OutcomeT = TypeVar("OutcomeT")

# A batch's statement carries one array element per column per bid: a bound keeps it short.
MAX_BATCH_BIDS = 64


class _Lead:
    """The answer that tells a waiting bid to run the next batch itself."""


LEAD = _Lead()


class _Waiting(Generic[RequestT, OutcomeT]):
    __slots__ = ("answer", "request")

    def __init__(self, request: RequestT) -> None:
        self.request = request
        self.answer: asyncio.Future[OutcomeT | _Lead | None] = asyncio.get_running_loop().create_future()


Run = Callable[[Sequence[RequestT]], Awaitable[Sequence[OutcomeT] | None]]


class LotBatches(Generic[RequestT, OutcomeT]):
    """`run` takes a batch's requests in arrival order and gives one outcome per request, or None
    for all of them (the lot is not batched: they take another path)."""

    def __init__(self) -> None:
        self._queues: dict[int, deque[_Waiting[RequestT, OutcomeT]]] = {}

    async def submit(self, lot_id: int, request: RequestT, run: Run[RequestT, OutcomeT]) -> OutcomeT | None:
        # Nothing awaits between a caller reading its receipt time and this queueing: arrival order
        # is receipt order.
        queue = self._queues.get(lot_id)
        if queue is not None:  # a batch is in flight: wait for the answer, or for the lead
            waiting: _Waiting[RequestT, OutcomeT] = _Waiting(request)
            queue.append(waiting)
            answer = await waiting.answer
            if not isinstance(answer, _Lead):
                return answer
        else:
            queue = self._queues[lot_id] = deque()
        members: list[_Waiting[RequestT, OutcomeT]] = []
        while queue and len(members) + 1 < MAX_BATCH_BIDS:
            members.append(queue.popleft())
        try:
            outcomes = await run([request, *(member.request for member in members)])
        except BaseException as error:
            for member in members:
                if member.answer.done():
                    continue
                if isinstance(error, Exception):
                    member.answer.set_exception(error)
                else:  # cancelled: the bids it carried cannot know whether it was written
                    member.answer.cancel()
            raise
        else:
            for index, member in enumerate(members, start=1):
                if not member.answer.done():
                    member.answer.set_result(None if outcomes is None else outcomes[index])
        finally:
            self._hand_on(lot_id, queue)
        return None if outcomes is None else outcomes[0]

    def _hand_on(self, lot_id: int, queue: deque[_Waiting[RequestT, OutcomeT]]) -> None:
        while queue:
            waiting = queue.popleft()
            if not waiting.answer.done():  # a waiter that gave up (cancelled) is skipped
                waiting.answer.set_result(LEAD)
                return
        del self._queues[lot_id]

    def __len__(self) -> int:
        """Lots with a batch in flight."""
        return len(self._queues)
