"""One queue per lot inside a server process: bids on a lot enter their transaction in arrival order.

The database row lock alone already makes bids correct. This gate keeps a burst on one hot lot
from parking every pooled connection on that row lock (starving bids on every other lot of
connections), and serves the burst first come, first served, so within a process a bid is not
overtaken by one that arrived after it (and then refused as too low).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class LotGates:
    def __init__(self) -> None:
        self._gates: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    @asynccontextmanager
    async def hold(self, lot_id: int) -> AsyncIterator[None]:
        gate = self._gates.setdefault(lot_id, asyncio.Lock())
        self._waiting[lot_id] = self._waiting.get(lot_id, 0) + 1
        try:
            async with gate:  # asyncio.Lock wakes its waiters in FIFO order
                yield
        finally:
            self._waiting[lot_id] -= 1
            if self._waiting[lot_id] == 0:  # nobody queued: forget the lot
                del self._waiting[lot_id]
                del self._gates[lot_id]

    def __len__(self) -> int:
        """Lots with a bid inside or queued."""
        return len(self._gates)
