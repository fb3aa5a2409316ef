from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

# A clock is passed into every service so tests can travel in time at the edge only.
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)
