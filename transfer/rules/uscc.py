"""Unified social credit code (统一社会信用代码), GB 32100-2015.

Eighteen characters from a 31-symbol alphabet (the digits and the capitals without I, O, S, V, Z,
which are too easily confused with 1, 0, 5, U and 2). The last character is a check character over
the first seventeen: weighted sum modulo 31. Because 31 is prime and no weight is a multiple of it,
any single wrong character changes the sum modulo 31 and is always detected.

Only the length, the alphabet and the check character are validated. The registration-authority and
organisation-type codes in positions 1–2 have grown new values since 2015, so refusing unknown ones
would reject real codes.
"""

from __future__ import annotations

USCC_LENGTH = 18
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_VALUE_OF = {character: value for value, character in enumerate(USCC_ALPHABET)}
assert len(USCC_ALPHABET) == 31
assert len(USCC_WEIGHTS) == USCC_LENGTH - 1


def normalize_uscc(code: str) -> str:
    """Strip surrounding whitespace and upper-case: how people paste codes from documents."""
    return code.strip().upper()


def uscc_check_character(body: str) -> str:
    """The check character for the first seventeen characters of a code."""
    if len(body) != USCC_LENGTH - 1:
        raise ValueError(f"the body of a credit code has {USCC_LENGTH - 1} characters, got {len(body)}")
    if any(character not in _VALUE_OF for character in body):
        raise ValueError("the body of a credit code uses only the characters " + USCC_ALPHABET)
    weighted_sum = sum(
        _VALUE_OF[character] * weight for character, weight in zip(body, USCC_WEIGHTS, strict=True)
    )
    return USCC_ALPHABET[(31 - weighted_sum % 31) % 31]


def validate_uscc(code: str) -> str | None:
    """Why `code` is not a valid credit code, or None when it is. No normalisation: see normalize_uscc."""
    if len(code) != USCC_LENGTH:
        return f"must have {USCC_LENGTH} characters, got {len(code)}"
    for position, character in enumerate(code, start=1):
        if character not in _VALUE_OF:
            if character.upper() in _VALUE_OF:
                return f"character {position} ({character!r}) must be upper case"
            return f"character {position} ({character!r}) is not one of {USCC_ALPHABET}"
    expected = uscc_check_character(code[:-1])
    if code[-1] != expected:
        return f"check character is {code[-1]!r} but the first 17 characters give {expected!r}"
    return None


def is_valid_uscc(code: str) -> bool:
    return validate_uscc(code) is None
