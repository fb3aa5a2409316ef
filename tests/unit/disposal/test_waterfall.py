from __future__ import annotations

import pytest

from auction.disposal.rules.waterfall import (
    DEFAULT_RECOVERY_ORDER,
    Claim,
    Holder,
    Line,
    Part,
    Waterfall,
    parse_recovery_order,
    waterfall,
)

BANK = Holder(1, "Bank of Hangzhou", 600_000)
FUND = Holder(2, "Income Fund A", 250_000)
TRUST = Holder(3, "Trust B", 150_000)
HOLDERS = (BANK, FUND, TRUST)
# costs 20,000.00, interest 85,000.00, principal 2,000,000.00 yuan
CLAIM = Claim(costs_fen=2_000_000, interest_fen=8_500_000, principal_fen=200_000_000)
COSTS_RULE = "民法典第561条 order costs,interest,principal: realization costs to the creditor who bore them"


def holder_rule(part: str, share_ppm: int) -> str:
    return f"民法典第561条 order costs,interest,principal: {part} by share {share_ppm} ppm, largest remainder"


def run(
    proceeds_fen: int, claim: Claim = CLAIM, order: tuple[Part, ...] = DEFAULT_RECOVERY_ORDER
) -> Waterfall:
    return waterfall(proceeds_fen, claim, HOLDERS, order, BANK.participant_id, BANK.name)


def test_short_proceeds_pay_costs_then_interest_then_part_of_the_principal() -> None:
    # 1,234,567.89 yuan against a claim of 2,105,000.00
    result = run(123_456_789)
    assert result.lines == (
        Line(1, Part.COSTS, 1, "Bank of Hangzhou", 2_000_000, COSTS_RULE),
        Line(2, Part.INTEREST, 1, "Bank of Hangzhou", 5_100_000, holder_rule("interest", 600_000)),
        Line(3, Part.INTEREST, 2, "Income Fund A", 2_125_000, holder_rule("interest", 250_000)),
        Line(4, Part.INTEREST, 3, "Trust B", 1_275_000, holder_rule("interest", 150_000)),
        # 1,129,567.89 yuan of principal: exact shares 677,740.734 / 282,391.9725 / 169,435.1835;
        # the floors leave one fen, and the largest remainder (0.4 fen) is the bank's.
        Line(5, Part.PRINCIPAL, 1, "Bank of Hangzhou", 67_774_074, holder_rule("principal", 600_000)),
        Line(6, Part.PRINCIPAL, 2, "Income Fund A", 28_239_197, holder_rule("principal", 250_000)),
        Line(7, Part.PRINCIPAL, 3, "Trust B", 16_943_518, holder_rule("principal", 150_000)),
    )
    assert result.paid_by_part == {
        Part.COSTS: 2_000_000,
        Part.INTEREST: 8_500_000,
        Part.PRINCIPAL: 112_956_789,
    }
    assert result.shortfall_fen == 87_043_211  # 870,432.11 yuan stays with the debtor
    assert result.surplus_fen == 0


def test_proceeds_above_the_claim_leave_a_surplus_to_the_pledgor_on_the_last_line() -> None:
    result = run(250_000_000)
    assert result.shortfall_fen == 0
    assert result.surplus_fen == 250_000_000 - 210_500_000
    assert result.lines[-1] == Line(
        8, Part.SURPLUS, None, "pledgor", 39_500_000, "民法典第438条: surplus to the pledgor"
    )
    assert result.paid_by_part == {
        Part.COSTS: 2_000_000,
        Part.INTEREST: 8_500_000,
        Part.PRINCIPAL: 200_000_000,
    }


def test_pledgor_name_is_the_callers() -> None:
    result = waterfall(
        300, Claim(0, 0, 100), (BANK, FUND, TRUST), DEFAULT_RECOVERY_ORDER, 1, "Bank", pledgor_name="Acme Ltd"
    )
    assert result.lines[-1].payee_name == "Acme Ltd"
    assert result.lines[-1].amount_fen == 200


def test_proceeds_exactly_the_claim_leave_neither_shortfall_nor_surplus() -> None:
    result = run(CLAIM.total_fen)
    assert (result.shortfall_fen, result.surplus_fen) == (0, 0)
    assert all(line.part is not Part.SURPLUS for line in result.lines)


def test_proceeds_below_the_costs_pay_only_the_creditor() -> None:
    result = run(1_500_000)
    assert result.lines == (Line(1, Part.COSTS, 1, "Bank of Hangzhou", 1_500_000, COSTS_RULE),)
    assert result.paid_by_part == {Part.COSTS: 1_500_000, Part.INTEREST: 0, Part.PRINCIPAL: 0}
    assert result.shortfall_fen == CLAIM.total_fen - 1_500_000


def test_zero_proceeds_give_no_lines_and_the_whole_claim_short() -> None:
    result = run(0)
    assert result.lines == ()
    assert result.shortfall_fen == 210_500_000


def test_contract_order_principal_first_pays_principal_before_costs() -> None:
    order = (Part.PRINCIPAL, Part.INTEREST, Part.COSTS)
    result = run(201_000_000, order=order)
    assert result.paid_by_part == {Part.PRINCIPAL: 200_000_000, Part.INTEREST: 1_000_000, Part.COSTS: 0}
    assert [line.part for line in result.lines] == [Part.PRINCIPAL] * 3 + [Part.INTEREST] * 3
    assert result.lines[0].rule == (
        "民法典第561条 order principal,interest,costs: principal by share 600000 ppm, largest remainder"
    )
    assert [line.amount_fen for line in result.lines[3:]] == [600_000, 250_000, 150_000]


def test_creditor_that_holds_no_share_still_gets_the_costs() -> None:
    holders = (Holder(7, "Fund", 1_000_000),)
    result = waterfall(2_500_000, CLAIM, holders, DEFAULT_RECOVERY_ORDER, 9, "Selling Bank")
    assert result.lines[0] == Line(1, Part.COSTS, 9, "Selling Bank", 2_000_000, COSTS_RULE)
    assert result.lines[1].payee_id == 7 and result.lines[1].amount_fen == 500_000


def test_a_tied_odd_fen_goes_to_the_lower_participant_id_whatever_the_order_given() -> None:
    claim = Claim(0, 0, 1)
    halves = (Holder(20, "B", 500_000), Holder(10, "A", 500_000))
    result = waterfall(1, claim, halves, DEFAULT_RECOVERY_ORDER, 20, "B")
    assert [(line.payee_id, line.amount_fen) for line in result.lines] == [(10, 1)]
    reversed_result = waterfall(1, claim, tuple(reversed(halves)), DEFAULT_RECOVERY_ORDER, 20, "B")
    assert [(line.payee_id, line.amount_fen) for line in reversed_result.lines] == [(10, 1)]


def test_zero_amount_lines_are_omitted_and_lines_stay_numbered_consecutively() -> None:
    # No costs, no interest: the principal's lines are 1 to 3. Exact shares of 10 fen are 6, 2.5 and
    # 1.5: the tied half fen goes to the lower participant id.
    result = waterfall(10, Claim(0, 0, 10), HOLDERS, DEFAULT_RECOVERY_ORDER, 1, "Bank")
    assert [(line.line, line.payee_id, line.amount_fen) for line in result.lines] == [
        (1, 1, 6),
        (2, 2, 3),
        (3, 3, 1),
    ]
    # One fen: the holders with 0.25 and 0.15 fen get nothing, and no zero line is written for them.
    result = waterfall(1, Claim(0, 0, 10), HOLDERS, DEFAULT_RECOVERY_ORDER, 1, "Bank")
    assert [(line.line, line.payee_id, line.amount_fen) for line in result.lines] == [(1, 1, 1)]


@pytest.mark.parametrize(
    ("holders", "message"),
    [
        ((), "at least one holder"),
        ((Holder(1, "A", 500_000), Holder(1, "A", 500_000)), "must appear once"),
        ((Holder(1, "A", 1_000_000), Holder(2, "B", 0)), "must be positive"),
        ((Holder(1, "A", 600_000), Holder(2, "B", 300_000)), "must sum to 1000000 ppm, got 900000"),
        ((Holder(1, "A", 600_000), Holder(2, "B", 500_000)), "must sum to 1000000 ppm, got 1100000"),
    ],
)
def test_bad_holders_are_refused(holders: tuple[Holder, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        waterfall(100, CLAIM, holders, DEFAULT_RECOVERY_ORDER, 1, "Bank")


@pytest.mark.parametrize(
    "order",
    [
        (Part.COSTS, Part.INTEREST),
        (Part.COSTS, Part.COSTS, Part.PRINCIPAL),
        (Part.COSTS, Part.INTEREST, Part.PRINCIPAL, Part.SURPLUS),
        (Part.SURPLUS, Part.INTEREST, Part.PRINCIPAL),
        ("costs", "interest", "fees"),
    ],
)
def test_an_order_that_is_not_a_permutation_of_the_claim_parts_is_refused(order: tuple[Part, ...]) -> None:
    with pytest.raises(ValueError, match="order must be a permutation of costs, interest and principal"):
        run(100, order=order)


def test_plain_strings_in_the_order_are_taken_as_parts() -> None:
    result = run(100, order=("principal", "interest", "costs"))  # type: ignore[arg-type]
    assert result.paid_by_part[Part.PRINCIPAL] == 100


def test_negative_proceeds_or_claim_parts_are_refused() -> None:
    with pytest.raises(ValueError, match="proceeds_fen must not be negative"):
        run(-1)
    with pytest.raises(ValueError, match="claim interest must not be negative, got -5"):
        Claim(0, -5, 0)


def test_the_surplus_is_not_a_part_of_the_claim() -> None:
    with pytest.raises(ValueError, match="surplus is not a part of the claim"):
        CLAIM.due_fen(Part.SURPLUS)


@pytest.mark.parametrize(
    ("text", "order"),
    [
        ("costs,interest,principal", (Part.COSTS, Part.INTEREST, Part.PRINCIPAL)),
        (" Principal , interest,COSTS ", (Part.PRINCIPAL, Part.INTEREST, Part.COSTS)),
        ("interest,costs,principal", (Part.INTEREST, Part.COSTS, Part.PRINCIPAL)),
    ],
)
def test_recovery_order_parses_a_permutation(text: str, order: tuple[Part, ...]) -> None:
    assert parse_recovery_order(text) == order


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "'' is not one of them"),
        ("costs,interest", "must name costs, interest, principal once each"),
        ("costs,interest,principal,principal", "once each"),
        ("costs,costs,principal", "once each"),
        ("costs,interest,principal,surplus", "'surplus' is not one of them"),
        ("costs;interest;principal", "'costs;interest;principal' is not one of them"),
        ("costs,,interest,principal", "'' is not one of them"),
        ("fees,interest,principal", "'fees' is not one of them, got 'fees,interest,principal'"),
    ],
)
def test_recovery_order_refuses_anything_but_a_permutation(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_recovery_order(text)
