"""Money at the edge: decimal strings of yuan with two places <-> integer fen.

No float ever touches money: parsing is done on the characters of the string.
"""

from __future__ import annotations

import re

# 10^15 fen = 10 trillion yuan: far above any single loan, far below BIGINT (9.2e18), so sums of
# many amounts cannot overflow a 64-bit column.
MAX_AMOUNT_FEN = 10**15

_MAX_WHOLE_DIGITS = len(str(MAX_AMOUNT_FEN // 100))
_YUAN_PATTERN = re.compile(r"^(0|[1-9][0-9]*)(?:\.([0-9]{1,2}))?$")


class MoneyFormatError(ValueError):
    """A money string is not a non-negative amount of yuan with at most two decimals."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def parse_yuan(value: object, field: str, *, allow_zero: bool = False) -> int:
    """Parse a decimal string of yuan ("1500000.00") into integer fen.

    Refuses numbers given as JSON numbers, signs, exponents, a third decimal and amounts above
    MAX_AMOUNT_FEN, each with a reason naming the rule.
    """
    if not isinstance(value, str):
        raise MoneyFormatError(field, 'must be a string of yuan with two decimals, e.g. "1500.00"')
    # fullmatch: `$` alone would also match before a final newline ("100.00\n").
    match = _YUAN_PATTERN.fullmatch(value)
    if match is None:
        if value.startswith("-"):
            raise MoneyFormatError(field, "must not be negative")
        if re.fullmatch(r"[0-9]+\.[0-9]{3,}", value):
            raise MoneyFormatError(field, "has more than two decimals (the smallest unit is one fen)")
        raise MoneyFormatError(field, f'is not an amount of yuan like "1500.00": {value[:40]!r}')
    whole, decimals = match.group(1), match.group(2) or ""
    # Checked on the digits first: int() of a string thousands of digits long raises, and is slow.
    if len(whole) > _MAX_WHOLE_DIGITS:
        raise MoneyFormatError(field, f"exceeds the maximum of {format_fen(MAX_AMOUNT_FEN)}")
    amount_fen = int(whole) * 100 + int(decimals.ljust(2, "0"))
    if amount_fen > MAX_AMOUNT_FEN:
        raise MoneyFormatError(field, f"exceeds the maximum of {format_fen(MAX_AMOUNT_FEN)}")
    if amount_fen == 0 and not allow_zero:
        raise MoneyFormatError(field, "must be greater than zero")
    return amount_fen


def format_fen(amount_fen: int) -> str:
    """Integer fen -> "1500.00" (negative amounts keep their sign: "-0.05")."""
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), 100)
    return f"{sign}{yuan}.{fen:02d}"
