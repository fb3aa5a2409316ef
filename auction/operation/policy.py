"""The configurable numbers of buyouts and pools (settings with their sources in the README)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OperationPolicy:
    # IPX_BUYOUT_MAX_VALIDITY_S: how far ahead an offer's or a commitment's valid_until may lie
    # (180 days): money is held for as long, so the hold must end.
    max_validity_s: int = 15_552_000
    # IPX_EARN_OUT_MAX_S: how far ahead an earn-out's `until` may lie (20 years, a patent's term).
    earn_out_max_s: int = 631_152_000

    def __post_init__(self) -> None:
        for name in ("max_validity_s", "earn_out_max_s"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
