"""This process's cache of resolved API keys, and the revocation generation that empties it.

A key resolved from the database is trusted for KEY_CACHE_TTL_S, so a burst of bids does not look
it up every time, but only while the revocation generation (transfer/models/api_keys.py, raised in
the transaction of every revocation, suspension and reinstatement) is the one it was resolved
under. The generation is read at most every GENERATION_CHECK_S, by the first request that finds
the last reading too old (one reading in flight at a time); a change empties the cache. So a
revoked key or a suspended participant is refused by every process within GENERATION_CHECK_S
plus one database round trip of the revocation's commit. Both the authentication middleware and
the bid fast path (app/bidding/fast_path.py) ask this cache; there is no other cache of keys.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.bidding.bounded_cache import BoundedCache
from transfer.registry.api_keys import digest_api_key

if TYPE_CHECKING:
    from app.http.auth import Actor

KEY_CACHE_TTL_S = 5.0
KEY_CACHE_MAX_ENTRIES = 10_000
# Half a second: a revoked key is refused everywhere within a second (issue 17), at the price of
# one primary-key read per process twice a second while requests come in.
GENERATION_CHECK_S = 0.5

GenerationReader = Callable[[], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class _Entry:
    expires_at: float
    generation: int
    actor: Actor


class KeyCache:
    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        # Key digest -> the participant it was resolved to, under which generation, until when.
        self._entries: BoundedCache[str, _Entry] = BoundedCache(KEY_CACHE_MAX_ENTRIES)
        self._generation: int | None = None
        self._checked_at = float("-inf")
        self._reading: asyncio.Task[None] | None = None

    def clear(self) -> None:
        self._entries.clear()
        self._checked_at = float("-inf")

    async def forget_after_commit(self) -> None:
        """An after-commit callback: the process that revoked or suspended refuses at once."""
        self.clear()

    def holds(self, api_key: str) -> bool:
        """Whether this key would be served from the cache now (for tests and diagnostics)."""
        return self._fresh(api_key) is not None and self._now() - self._checked_at < GENERATION_CHECK_S

    def _fresh(self, api_key: str) -> Actor | None:
        entry = self._entries.get(digest_api_key(api_key))
        if entry is None or entry.generation != self._generation or entry.expires_at <= self._now():
            return None
        return entry.actor

    async def actor(self, api_key: str, read_generation: GenerationReader) -> Actor | None:
        """The participant of a key resolved recently under the current generation, else None
        (the caller resolves it from the database and calls remember)."""
        if self._now() - self._checked_at >= GENERATION_CHECK_S:
            await self._check(read_generation)
        return self._fresh(api_key)

    def observe(self, generation: int, read_started_at: float) -> None:
        """A generation read at read_started_at: a new one empties the cache."""
        if generation != self._generation:
            self._entries.clear()
            self._generation = generation
        self._checked_at = max(self._checked_at, read_started_at)

    def remember(self, api_key: str, actor: Actor, generation: int) -> None:
        """A key just resolved under `generation` (read before the key itself, so a revocation
        committed in between raised it past this one)."""
        if generation != self._generation:
            return  # resolved under another generation than the cache holds: not kept
        self._entries.put(digest_api_key(api_key), _Entry(self._now() + KEY_CACHE_TTL_S, generation, actor))

    def started(self) -> float:
        return self._now()

    async def _check(self, read_generation: GenerationReader) -> None:
        # One reading at a time: a burst that finds the reading due waits for the same one.
        if self._reading is None or self._reading.done():
            self._reading = asyncio.ensure_future(self._read(read_generation))
        await asyncio.shield(self._reading)

    async def _read(self, read_generation: GenerationReader) -> None:
        started_at = self._now()
        self.observe(await read_generation(), started_at)
