"""The key cache trusts a key only under the revocation generation it was resolved under, reads the
generation ahead in the background (one reading at a time) so no request waits for it under
steady traffic, never serves from a reading older than GENERATION_CHECK_S, and the failed-authentication
counter slows failures past its threshold per address and per key prefix."""

from __future__ import annotations

import asyncio

from app.http.auth import Actor
from app.http.auth_failures import FailedAuthentications
from app.http.key_cache import (
    GENERATION_CHECK_S,
    KEY_CACHE_TTL_JITTER,
    KEY_CACHE_TTL_S,
    REFRESH_AHEAD_S,
    KeyCache,
)

ACTOR = Actor(7, "Bank", frozenset({"bank"}), False)
KEY = "ipx_cached-key-000000000000000000"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Generations:
    """The database's generation, counting the readings."""

    def __init__(self) -> None:
        self.value = 4
        self.reads = 0

    async def read(self) -> int:
        self.reads += 1
        await asyncio.sleep(0)
        return self.value


async def _warm(cache: KeyCache, clock: Clock, generations: Generations) -> None:
    assert await cache.actor(KEY, generations.read) is None
    cache.observe(generations.value, clock())
    cache.remember(KEY, ACTOR, generations.value)


async def test_a_key_is_served_from_the_cache_and_the_generation_read_ahead_in_the_background() -> None:
    clock, generations = Clock(), Generations()
    cache = KeyCache(now=clock)
    await _warm(cache, clock, generations)
    reads = generations.reads
    for _ in range(10):
        clock.now += REFRESH_AHEAD_S / 10 - 0.001
        assert await cache.actor(KEY, generations.read) is ACTOR
    assert generations.reads == reads  # all before the reading ahead is due
    clock.now += 0.02
    assert await cache.actor(KEY, generations.read) is ACTOR
    await asyncio.sleep(0.01)  # the reading ahead runs on its own
    assert generations.reads == reads + 1


class HeldGenerations(Generations):
    """A generation reading that takes as long as the test says."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def read(self) -> int:
        self.reads += 1
        await self.release.wait()
        return self.value


async def test_no_request_waits_for_the_reading_ahead_and_a_new_generation_applies_when_it_lands() -> None:
    clock, generations = Clock(), HeldGenerations()
    cache = KeyCache(now=clock)
    assert await cache.actor(KEY, Generations().read) is None
    cache.observe(generations.value, clock())
    cache.remember(KEY, ACTOR, generations.value)
    generations.value += 1  # a revocation somewhere
    clock.now += REFRESH_AHEAD_S + 0.001
    # The reading is slow, but these requests do not wait for it: the last reading is fresh enough.
    for _ in range(5):
        assert await asyncio.wait_for(cache.actor(KEY, generations.read), 0.1) is ACTOR
    assert generations.reads == 1  # one reading for all of them
    generations.release.set()
    await asyncio.sleep(0.01)
    assert await cache.actor(KEY, generations.read) is None  # the new generation emptied the cache


async def test_past_the_check_interval_a_request_waits_for_the_reading() -> None:
    clock, generations = Clock(), HeldGenerations()
    cache = KeyCache(now=clock)
    assert await cache.actor(KEY, Generations().read) is None
    cache.observe(generations.value, clock())
    cache.remember(KEY, ACTOR, generations.value)
    generations.value += 1
    clock.now += GENERATION_CHECK_S
    waiting = asyncio.ensure_future(cache.actor(KEY, generations.read))
    await asyncio.sleep(0.01)
    assert not waiting.done()  # never served from a reading older than GENERATION_CHECK_S
    generations.release.set()
    assert await waiting is None


async def test_a_failed_reading_ahead_fails_no_request_and_the_next_one_is_tried() -> None:
    clock, generations = Clock(), Generations()
    cache = KeyCache(now=clock)
    await _warm(cache, clock, generations)
    calls = 0

    async def failing() -> int:
        nonlocal calls
        calls += 1
        raise ConnectionError("database restarting")

    clock.now += REFRESH_AHEAD_S + 0.001
    assert await cache.actor(KEY, failing) is ACTOR
    await asyncio.sleep(0.01)
    assert await cache.actor(KEY, failing) is ACTOR
    await asyncio.sleep(0.01)
    assert calls == 2


async def test_a_new_generation_empties_the_cache_at_the_next_check() -> None:
    clock, generations = Clock(), Generations()
    cache = KeyCache(now=clock)
    await _warm(cache, clock, generations)
    generations.value += 1  # a revocation somewhere
    clock.now += GENERATION_CHECK_S
    assert await cache.actor(KEY, generations.read) is None
    # Resolved again under the new generation, it is served again.
    cache.remember(KEY, ACTOR, generations.value)
    assert await cache.actor(KEY, generations.read) is ACTOR


async def test_a_key_resolved_under_an_older_generation_is_not_kept() -> None:
    clock, generations = Clock(), Generations()
    cache = KeyCache(now=clock)
    await _warm(cache, clock, generations)
    cache.observe(generations.value + 1, clock())  # another request saw the revocation first
    cache.remember(KEY, ACTOR, generations.value)  # this one read the key before it
    assert await cache.actor(KEY, generations.read) is None


async def test_a_burst_that_finds_the_check_due_shares_one_reading() -> None:
    clock, generations = Clock(), Generations()
    cache = KeyCache(now=clock)
    await _warm(cache, clock, generations)
    clock.now += GENERATION_CHECK_S
    reads = generations.reads
    answers = await asyncio.gather(*(cache.actor(KEY, generations.read) for _ in range(20)))
    assert answers == [ACTOR] * 20
    assert generations.reads == reads + 1


async def test_entries_expire_spread_around_their_time_to_live_not_all_at_once() -> None:
    clock, generations = Clock(), Generations()
    spreads = iter([0.0, 0.5, 0.999])
    cache = KeyCache(now=clock, spread=lambda: next(spreads))
    assert await cache.actor(KEY, generations.read) is None
    cache.observe(generations.value, clock())
    keys = [f"{KEY}{i}" for i in range(3)]
    for key in keys:
        cache.remember(key, ACTOR, generations.value)

    async def alive() -> list[bool]:
        cache.observe(generations.value, clock())  # the generation read is not what this tests
        return [await cache.actor(key, generations.read) is ACTOR for key in keys]

    clock.now += KEY_CACHE_TTL_S * (1 - KEY_CACHE_TTL_JITTER) - 0.01
    assert await alive() == [True, True, True]
    clock.now += 0.02
    assert await alive() == [False, True, True]
    clock.now += KEY_CACHE_TTL_S * KEY_CACHE_TTL_JITTER
    assert await alive() == [False, False, True]
    clock.now += KEY_CACHE_TTL_S * KEY_CACHE_TTL_JITTER
    assert await alive() == [False, False, False]


def test_failures_past_the_threshold_wait_per_address_and_per_prefix_in_their_window() -> None:
    clock = Clock()
    failures = FailedAuthentications(threshold=2, window_s=60.0, delay_s=1.5, now=clock)
    assert [failures.record_failure("10.0.0.1", "ipx_aaaaaa") for _ in range(3)] == [0.0, 0.0, 1.5]
    assert failures.record_failure("10.0.0.2", "ipx_bbbbbb") == 0.0  # another address, another prefix
    assert failures.record_failure("10.0.0.3", "ipx_aaaaaa") == 1.5  # the hammered prefix
    assert failures.record_failure("10.0.0.4", None) == 0.0
    assert (failures.failures("client", "10.0.0.1"), failures.failures("key_prefix", "ipx_aaaaaa")) == (3, 4)
    clock.now += 60.0  # a new window
    assert failures.record_failure("10.0.0.1", "ipx_aaaaaa") == 0.0
    assert failures.failures("client", "10.0.0.1") == 1
