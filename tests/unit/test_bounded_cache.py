"""app/bidding/bounded_cache.py: at most max_entries, all forgotten at once when full; its keys
compare as a set."""

from __future__ import annotations

from collections.abc import Set

import pytest

from app.bidding.bounded_cache import BoundedCache


def test_a_full_cache_forgets_everything_before_remembering_the_next_entry() -> None:
    cache: BoundedCache[int, str] = BoundedCache(3)
    for key in (1, 2, 3):
        cache.put(key, f"lot {key}")
    assert (len(cache), cache.get(3)) == (3, "lot 3")

    cache.put(4, "lot 4")

    assert len(cache) == 1
    assert [cache.get(key) for key in (1, 2, 3, 4)] == [None, None, None, "lot 4"]


def test_pop_forgets_the_key_and_answers_none_for_one_never_seen() -> None:
    cache: BoundedCache[str, int] = BoundedCache(10)
    cache.put("a", 1)

    assert (cache.pop("a"), cache.pop("a"), cache.pop("never")) == (1, None, None)
    assert "a" not in cache


def test_its_keys_compare_as_a_set_and_clear_empties_it() -> None:
    cache: BoundedCache[int, None] = BoundedCache(10)
    cache.put(7, None)
    cache.put(9, None)
    cache.put(7, None)
    keys: Set[int] = cache  # the cache itself, seen as the set it is

    assert keys == {7, 9}
    assert sorted(cache) == [7, 9]
    cache.clear()
    assert keys == set()


def test_a_cache_must_hold_at_least_one_entry() -> None:
    with pytest.raises(AssertionError):
        BoundedCache(0)
