"""The bank desk reads each waterfall line's basis in Chinese: the rules' own strings, translated."""

from __future__ import annotations

from app.pages.i18n import waterfall_basis
from auction.disposal.rules.waterfall import Claim, Holder, Part, waterfall

BANK = Holder(1, "Bank of Hangzhou", 600_000)
FUND = Holder(2, "Income Fund A", 400_000)
CLAIM = Claim(costs_fen=2_000_000, interest_fen=8_500_000, principal_fen=200_000_000)
ORDER = (Part.PRINCIPAL, Part.INTEREST, Part.COSTS)


def test_every_line_the_rules_write_reads_in_chinese() -> None:
    result = waterfall(250_000_000, CLAIM, (BANK, FUND), ORDER, BANK.participant_id, BANK.name)
    basis = [waterfall_basis(line.rule, "zh") for line in result.lines]
    assert basis == [
        "民法典第561条，顺序 本金→利息→费用：本金按份额 60% 分配（最大余额法）",
        "民法典第561条，顺序 本金→利息→费用：本金按份额 40% 分配（最大余额法）",
        "民法典第561条，顺序 本金→利息→费用：利息按份额 60% 分配（最大余额法）",
        "民法典第561条，顺序 本金→利息→费用：利息按份额 40% 分配（最大余额法）",
        "民法典第561条，顺序 本金→利息→费用：实现债权的费用归承担费用的债权人",
        "民法典第438条：剩余归出质人",
    ]


def test_english_pages_show_the_basis_as_stored() -> None:
    rule = "民法典第561条 order costs,interest,principal: interest by share 1000000 ppm, largest remainder"
    assert waterfall_basis(rule, "en") == rule


def test_a_fractional_share_keeps_its_digits_and_an_unknown_shape_stays_as_stored() -> None:
    rule = "民法典第561条 order costs,interest,principal: principal by share 333333 ppm, largest remainder"
    assert (
        waterfall_basis(rule, "zh")
        == "民法典第561条，顺序 费用→利息→本金：本金按份额 33.3333% 分配（最大余额法）"
    )
    assert waterfall_basis("民法典第561条 order costs: something else", "zh") == (
        "民法典第561条 order costs: something else"
    )
    assert waterfall_basis("a note from an older release", "zh") == "a note from an older release"
