"""The one kind of cache a server process keeps: at most so many entries, all forgotten at once when
it is full. Every cache here holds a guess that something else checks (the database, or the key's
expiry), so forgetting an entry costs a read, never a wrong answer, and a plain clear is all the
eviction it needs: nothing to order, nothing to sweep."""

from __future__ import annotations

from collections.abc import Iterator, Set
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Set[K], Generic[K, V]):
    """The keys remembered (a set, so a cache that only remembers keys compares equal to one),
    each with its value."""

    __slots__ = ("_entries", "max_entries")

    def __init__(self, max_entries: int) -> None:
        assert max_entries > 0
        self.max_entries = max_entries
        self._entries: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        return self._entries.get(key)

    def pop(self, key: K) -> V | None:
        """The key's value, forgotten (None if it was not remembered)."""
        return self._entries.pop(key, None)

    def put(self, key: K, value: V) -> None:
        """Remember the key's value; a full cache is cleared first."""
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = value

    def clear(self) -> None:
        self._entries.clear()

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[K]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
