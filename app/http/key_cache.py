"""This process's cache of resolved API keys, and the revocation generation that empties it.

A key resolved from the database is trusted for about KEY_CACHE_TTL_S, so a burst of bids does not
look it up every time, but only while the revocation generation (transfer/models/api_keys.py,
raised in the transaction of every revocation, suspension, reinstatement and change of roles) is
the one it was resolved under. No request is served from a reading older than GENERATION_CHECK_S: the first request that finds
the last reading older than REFRESH_AHEAD_S starts the next one in the background and is served
at once, so under steady traffic a fresh reading is there before any request would have to wait
for it; only a request that finds the last reading older than GENERATION_CHECK_S (after a quiet
spell) waits for one. One reading is in flight at a time; a change empties the cache. So a
revoked key or a suspended participant is refused by every process within GENERATION_CHECK_S
plus one database round trip of the revocation's commit. Both the authentication middleware and
the bid fast path (app/bidding/fast_path.py) ask this cache; there is no other cache of keys.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.bidding.bounded_cache import BoundedCache
from transfer.registry.api_keys import digest_api_key

if TYPE_CHECKING:
    from app.http.auth import Actor

# An entry lives about this long: revocation and suspension reach it through the generation, so
# the lifetime only bounds how stale `last_used_at` may be. Each entry's lifetime is spread by up
# to KEY_CACHE_TTL_JITTER either way, so keys resolved together (a burst's bidders) do not all
# expire in the same instant and send every request in flight through the database at once.
KEY_CACHE_TTL_S = 30.0
KEY_CACHE_TTL_JITTER = 0.2
KEY_CACHE_MAX_ENTRIES = 10_000
# Half a second: a revoked key is refused everywhere within a second (issue 17), at the price of
# one primary-key read per process twice a second while requests come in.
GENERATION_CHECK_S = 0.5
# Waiting for the reading in the request made every request in flight at that moment wait for a
# database round trip twice a second: the bids' p99 (BENCHMARKS.md, session 10).
REFRESH_AHEAD_S = 0.3

GenerationReader = Callable[[], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class _Entry:
    expires_at: float
    generation: int
    actor: Actor


class KeyCache:
    def __init__(
        self, now: Callable[[], float] = time.monotonic, spread: Callable[[], float] = random.random
    ) -> None:
        self._now = now
        self._spread = spread  # a number in [0, 1) per entry
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
        age_s = self._now() - self._checked_at
        if age_s >= REFRESH_AHEAD_S:
            reading = self._start_reading(read_generation)
            if age_s >= GENERATION_CHECK_S:
                await asyncio.shield(reading)
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
        lifetime_s = KEY_CACHE_TTL_S * (1 + KEY_CACHE_TTL_JITTER * (2 * self._spread() - 1))
        self._entries.put(digest_api_key(api_key), _Entry(self._now() + lifetime_s, generation, actor))

    def started(self) -> float:
        return self._now()

    def _start_reading(self, read_generation: GenerationReader) -> asyncio.Task[None]:
        # One reading at a time: a burst that finds the reading due shares the same one.
        if self._reading is None or self._reading.done():
            self._reading = asyncio.ensure_future(self._read(read_generation))
            # A reading nobody waits for that fails is not an error of anyone's request; the
            # next one is tried by the next request, and past GENERATION_CHECK_S one waits for it.
            self._reading.add_done_callback(_retrieve_exception)
        return self._reading

    async def _read(self, read_generation: GenerationReader) -> None:
        started_at = self._now()
        self.observe(await read_generation(), started_at)


def _retrieve_exception(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()
