"""A refused bid as a domain error: the rule's code, and the amounts that would have been valid."""

from __future__ import annotations

from auction.rules import Refusal, RefusalReason
from transfer.kernel.errors import DomainError, ErrorKind
from transfer.kernel.money import format_fen

# Refusals about the request's own numbers are 422; refusals because of the auction's state are 409.
_INVALID_REASONS = frozenset(
    {RefusalReason.OFF_GRID, RefusalReason.MAX_BELOW_AMOUNT, RefusalReason.MAX_OFF_GRID}
)
_MAX_FIELD_REASONS = frozenset(
    {RefusalReason.MAX_BELOW_AMOUNT, RefusalReason.MAX_OFF_GRID, RefusalReason.MAX_NOT_RAISED}
)


class BidRefused(DomainError):
    def __init__(self, refusal: Refusal) -> None:
        extra: dict[str, object] = {}
        for name, value in (
            ("minimum", refusal.minimum_fen),
            ("nearest_below", refusal.nearest_below_fen),
            ("nearest_above", refusal.nearest_above_fen),
        ):
            if value is not None:
                extra[name] = format_fen(value)
        field = "max_amount" if refusal.reason in _MAX_FIELD_REASONS else "amount"
        if refusal.reason in (RefusalReason.NOT_STARTED, RefusalReason.CLOSED, RefusalReason.ALREADY_SOLD):
            field = "auction"
        message = refusal.message
        if "minimum" in extra and refusal.reason is RefusalReason.BELOW_MINIMUM:
            message = f"{message} ({extra['minimum']})"
        super().__init__(
            refusal.reason.value,
            message,
            field=field,
            kind=ErrorKind.INVALID if refusal.reason in _INVALID_REASONS else ErrorKind.CONFLICT,
            extra=extra,
        )
        self.refusal = refusal
