from __future__ import annotations

import pytest

from tests.unit.exact import exactly
from transfer.rules.uscc import (
    USCC_ALPHABET,
    USCC_WEIGHTS,
    is_valid_uscc,
    normalize_uscc,
    uscc_check_character,
    validate_uscc,
)

# Published codes of well-known companies (Huawei Technologies, Shenzhen Tencent Computer Systems).
HUAWEI_USCC = "914403001922038216"
TENCENT_USCC = "91440300708461136T"


def test_check_character_of_a_real_code_matches_the_gb_32100_formula_worked_by_hand() -> None:
    body = HUAWEI_USCC[:17]
    # Character values: digits are themselves; letters continue from 10 in the 31-symbol alphabet.
    values = [9, 1, 4, 4, 0, 3, 0, 0, 1, 9, 2, 2, 0, 3, 8, 2, 1]
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    weighted_sum = sum(v * w for v, w in zip(values, weights, strict=True))
    assert weighted_sum == 831
    assert (31 - weighted_sum % 31) % 31 == 6
    assert uscc_check_character(body) == "6"
    assert validate_uscc(HUAWEI_USCC) is None


def test_code_with_a_letter_check_character_is_valid() -> None:
    assert uscc_check_character(TENCENT_USCC[:17]) == "T"
    assert is_valid_uscc(TENCENT_USCC)


@pytest.mark.parametrize("code", [HUAWEI_USCC, TENCENT_USCC])
def test_every_single_character_change_is_detected(code: str) -> None:
    for position in range(len(code)):
        for replacement in USCC_ALPHABET:
            if replacement == code[position]:
                continue
            changed = code[:position] + replacement + code[position + 1 :]
            assert not is_valid_uscc(changed), changed


def test_check_character_zero_when_the_sum_is_a_multiple_of_31() -> None:
    body = "0" * 17
    assert uscc_check_character(body) == "0"
    assert is_valid_uscc(body + "0")


@pytest.mark.parametrize(
    ("code", "reason_part"),
    [
        ("", "18 characters"),
        (HUAWEI_USCC[:17], "18 characters"),
        (HUAWEI_USCC + "0", "18 characters"),
        ("91440300708461136t", "upper case"),
        ("91440300708461I36T", "not one of"),
        ("91440300708461O36T", "not one of"),
        ("9144030070846113-T", "not one of"),
        ("914403001922038217", "check character"),
    ],
)
def test_invalid_codes_get_a_reason(code: str, reason_part: str) -> None:
    reason = validate_uscc(code)
    assert reason is not None
    assert reason_part in reason


def test_normalize_strips_whitespace_and_upper_cases() -> None:
    assert normalize_uscc("  91440300708461136t\n") == TENCENT_USCC


def test_check_character_refuses_a_malformed_body() -> None:
    with pytest.raises(ValueError, match=exactly("the body of a credit code has 17 characters, got 3")):
        uscc_check_character("123")
    with pytest.raises(
        ValueError, match=exactly("the body of a credit code uses only the characters " + USCC_ALPHABET)
    ):
        uscc_check_character("I" * 17)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("", "must have 18 characters, got 0"),
        (HUAWEI_USCC + "0", "must have 18 characters, got 19"),
        ("t1440300708461136T", "character 1 ('t') must be upper case"),
        ("91440300708461136t", "character 18 ('t') must be upper case"),
        ("91440300708461I36T", "character 15 ('I') is not one of " + USCC_ALPHABET),
        ("914403001922038217", "check character is '7' but the first 17 characters give '6'"),
    ],
)
def test_a_reason_names_the_position_and_the_characters_at_fault(code: str, reason: str) -> None:
    assert validate_uscc(code) == reason


def test_weights_are_the_gb_32100_powers_of_3_modulo_31() -> None:
    # GB 32100-2015 §5: W_i = 3^(i-1) mod 31. The published codes above have 0 at positions 5, 7 and 8,
    # so they cannot tell a wrong weight there from the right one; this pins every weight.
    assert tuple(3**index % 31 for index in range(17)) == USCC_WEIGHTS


@pytest.mark.parametrize("position", range(1, 18))
def test_a_single_one_at_each_position_gives_the_check_character_of_that_positions_weight(
    position: int,
) -> None:
    # A body of zeros with one "1": the weighted sum is the weight of that position alone, so every
    # position's weight shows in the check character (31 - W mod 31).
    weight = 3 ** (position - 1) % 31
    body = "0" * (position - 1) + "1" + "0" * (17 - position)
    assert uscc_check_character(body) == USCC_ALPHABET[(31 - weight) % 31]


def test_check_character_of_a_body_with_no_zero_anywhere_worked_by_hand() -> None:
    # Values 1..17 (digits, then A=10 … H=17): sum of value × weight is 3088, 3088 mod 31 = 19, and
    # 31 - 19 = 12 is "C".
    body = "123456789ABCDEFGH"
    assert sum((index + 1) * weight for index, weight in enumerate(USCC_WEIGHTS)) == 3088
    assert uscc_check_character(body) == "C"
    assert validate_uscc(body + "C") is None
    assert validate_uscc(body + "D") == "check character is 'D' but the first 17 characters give 'C'"
