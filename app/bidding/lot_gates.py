"""One queue per lot inside a server process for the bids on a lot the driver found to be of
another kind (sealed, descending, fixed price; app/bidding/handler.py): they take the lot's row
lock in arrival order. English bids on the driver are batched per lot instead (lot_batches.py).

The database row lock alone already makes bids correct. This gate keeps a burst on one hot lot
from parking every pooled connection on that row lock (starving bids on every other lot of
connections), and serves the burst first come, first served, so within a process a bid is not
overtaken by one that arrived after it (and then refused as too low).

A bid lets the next one through as soon as it holds the row lock (`GatePass.release`, called by the
bid path), not when it commits: the next bid then starts its transaction and queues on the row
lock while this one computes, writes and commits, so the lot's lock passes from one bid to the
next without the next one's BEGIN and read on the critical path. Order is kept: the next bid asks
for the row lock only after this one holds it, and PostgreSQL grants a row lock's waiters in turn.
At most two of a lot's bids per process hold pooled connections: the one holding the lock and the
one waiting for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class GatePass:
    """Held by the bid inside the gate; `release` lets the next bid in (once; later calls do nothing)."""

    def __init__(self, gate: asyncio.Lock) -> None:
        self._gate = gate
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._gate.release()


class LotGates:
    def __init__(self) -> None:
        self._gates: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    @asynccontextmanager
    async def hold(self, lot_id: int) -> AsyncIterator[GatePass]:
        gate = self._gates.setdefault(lot_id, asyncio.Lock())
        self._waiting[lot_id] = self._waiting.get(lot_id, 0) + 1
        try:
            await gate.acquire()  # asyncio.Lock wakes its waiters in FIFO order
            gate_pass = GatePass(gate)
            try:
                yield gate_pass
            finally:
                gate_pass.release()
        finally:
            self._waiting[lot_id] -= 1
            if self._waiting[lot_id] == 0:  # nobody inside or queued: forget the lot
                del self._waiting[lot_id]
                del self._gates[lot_id]

    def __len__(self) -> int:
        """Lots with a bid inside or queued."""
        return len(self._gates)
