"""Domain errors: what a service refuses and why, without knowing about HTTP.

The web face maps each kind to one status code in one place (app/problems.py).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    INVALID = "invalid"  # the request breaks a rule about its own content
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # the request is fine but the current state refuses it
    FORBIDDEN = "forbidden"  # the caller may not do this to this object


class DomainError(Exception):
    kind: ErrorKind = ErrorKind.INVALID

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        kind: ErrorKind | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        if kind is not None:
            self.kind = kind
        self.extra = extra or {}


class NotFound(DomainError):
    kind = ErrorKind.NOT_FOUND


class Conflict(DomainError):
    kind = ErrorKind.CONFLICT


class Forbidden(DomainError):
    kind = ErrorKind.FORBIDDEN


class InsufficientFunds(Conflict):
    def __init__(self, participant_id: int, needed_fen: int, available_fen: int) -> None:
        from transfer.kernel.money import format_fen

        shortfall_fen = needed_fen - available_fen
        super().__init__(
            "insufficient_funds",
            f"available funds {format_fen(available_fen)} are short of {format_fen(needed_fen)}"
            f" by {format_fen(shortfall_fen)}",
            extra={
                "participant_id": participant_id,
                "needed": format_fen(needed_fen),
                "available": format_fen(available_fen),
                "shortfall": format_fen(shortfall_fen),
            },
        )
        self.shortfall_fen = shortfall_fen
