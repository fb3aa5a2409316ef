"""Why a bid was refused: a stable string code for clients and a sentence for people.

The codes are part of the API contract (they appear in problem-details bodies), so a code is never
renamed; a new situation gets a new code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RefusalReason(StrEnum):
    NOT_STARTED = "not_started"
    CLOSED = "closed"
    BELOW_MINIMUM = "below_minimum"
    OFF_GRID = "off_grid"
    MAX_BELOW_AMOUNT = "max_below_amount"
    MAX_OFF_GRID = "max_off_grid"
    MAX_NOT_RAISED = "max_not_raised"
    ALREADY_SOLD = "already_sold"

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES: dict[RefusalReason, str] = {
    RefusalReason.NOT_STARTED: "the auction has not started yet",
    RefusalReason.CLOSED: "the auction has closed",
    RefusalReason.BELOW_MINIMUM: "the amount is below the minimum bid",
    RefusalReason.OFF_GRID: "the amount is not the start price plus a whole number of increments",
    RefusalReason.MAX_BELOW_AMOUNT: "the maximum amount is below the bid amount",
    RefusalReason.MAX_OFF_GRID: "the maximum amount is not the start price plus a whole number of increments",
    RefusalReason.MAX_NOT_RAISED: "you are leading; a new bid must raise your maximum above the one you gave",
    RefusalReason.ALREADY_SOLD: "another bidder has already accepted the lot",
}
assert set(_MESSAGES) == set(RefusalReason)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused bid, with the amounts a client needs to correct it.

    `minimum_fen` is the least amount the refused field could have had (below_minimum,
    max_not_raised). For off_grid and max_off_grid, `nearest_below_fen` and `nearest_above_fen` are
    the valid amounts on either side of the one given (the amount below is never under the
    minimum, because the minimum is checked first).
    """

    reason: RefusalReason
    minimum_fen: int | None = None
    nearest_below_fen: int | None = None
    nearest_above_fen: int | None = None

    @property
    def message(self) -> str:
        return self.reason.message
