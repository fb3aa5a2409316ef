"""Failed authentications counted per client address and per key prefix, and slowed down past a
threshold.

A presented key that is unknown, revoked or malformed counts once against the client's address
and once against its first characters (the prefix an operator sees in key lists). Once either
count passes IPX_AUTH_FAILURE_THRESHOLD within IPX_AUTH_FAILURE_WINDOW_S, each further failure
is answered only after IPX_AUTH_FAILURE_DELAY_S, and one warning line names the address or prefix
per window. Only failures wait: a request with a good key never reaches this module, so a burst
of bad keys from anywhere never slows a good key's requests. The counts live in this process
(each process of IPX_WORKERS counts its own), bounded in size.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

# A bound on memory: a flood from ever new addresses clears the table rather than growing it.
MAX_TRACKED = 10_000
log = structlog.get_logger("ipx.auth")


@dataclass(slots=True)
class _Window:
    started_at: float
    failures: int
    warned: bool


class FailedAuthentications:
    def __init__(
        self,
        *,
        threshold: int,
        window_s: float,
        delay_s: float,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.window_s = window_s
        self.delay_s = delay_s
        self._now = now
        self._windows: dict[tuple[str, str], _Window] = {}

    def failures(self, kind: str, value: str) -> int:
        window = self._windows.get((kind, value))
        return 0 if window is None or self._now() - window.started_at >= self.window_s else window.failures

    def record_failure(self, address: str, key_prefix: str | None) -> float:
        """Count one failure; the seconds its answer should wait (0 below the threshold)."""
        over = self._count("client", address)
        if key_prefix:
            over = self._count("key_prefix", key_prefix) or over
        return self.delay_s if over else 0.0

    def _count(self, kind: str, value: str) -> bool:
        now = self._now()
        window = self._windows.get((kind, value))
        if window is None or now - window.started_at >= self.window_s:
            if len(self._windows) >= MAX_TRACKED:
                self._windows.clear()
            window = self._windows[(kind, value)] = _Window(now, 0, False)
        window.failures += 1
        if window.failures <= self.threshold:
            return False
        if not window.warned:
            window.warned = True
            log.warning(
                "authentication failures over threshold: answers slowed",
                **{kind: value},
                failures=window.failures,
                threshold=self.threshold,
                window_s=self.window_s,
                delay_s=self.delay_s,
            )
        return True
