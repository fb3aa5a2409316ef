"""Properties of the waterfall over any proceeds, claim, holders and recovery order."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from auction.disposal.rules.waterfall import CLAIM_PARTS, Claim, Holder, Part, Waterfall, waterfall
from transfer.rules.shares import WHOLE_SHARE_PPM

CREDITOR_ID = 10_000


@dataclass(frozen=True)
class Case:
    proceeds_fen: int
    claim: Claim
    holders: tuple[Holder, ...]
    order: tuple[Part, ...]

    def run(self) -> Waterfall:
        return waterfall(self.proceeds_fen, self.claim, self.holders, self.order, CREDITOR_ID, "Creditor")


# Small amounts make rounding matter; large ones reach the money bound.
amounts_fen = st.one_of(st.integers(0, 1_000), st.integers(0, 10**15))


@st.composite
def holder_sets(draw: st.DrawFn) -> tuple[Holder, ...]:
    # Distinct cut points in (0, 1e6) split the whole into positive shares that sum exactly.
    cuts = sorted(draw(st.sets(st.integers(1, WHOLE_SHARE_PPM - 1), max_size=12)))
    shares_ppm = [high - low for low, high in pairwise([0, *cuts, WHOLE_SHARE_PPM])]
    participant_ids = draw(st.permutations(range(1, len(shares_ppm) + 1)))
    return tuple(
        Holder(participant_id, f"holder {participant_id}", share_ppm)
        for participant_id, share_ppm in zip(participant_ids, shares_ppm, strict=True)
    )


@st.composite
def cases(draw: st.DrawFn) -> Case:
    claim = Claim(draw(amounts_fen), draw(amounts_fen), draw(amounts_fen))
    # Proceeds near a boundary of the claim (a part just paid in full, the whole claim) as often as not.
    boundaries = [
        0,
        claim.due_fen(Part.COSTS),
        claim.costs_fen + claim.interest_fen,
        claim.total_fen,
    ]
    near_boundary = st.builds(
        lambda boundary, offset: max(0, boundary + offset), st.sampled_from(boundaries), st.integers(-2, 2)
    )
    proceeds_fen = draw(st.one_of(amounts_fen, near_boundary))
    order = tuple(draw(st.permutations(CLAIM_PARTS)))
    return Case(proceeds_fen, claim, draw(holder_sets()), order)


@given(case=cases())
def test_lines_sum_to_the_proceeds_exactly(case: Case) -> None:
    result = case.run()
    assert sum(line.amount_fen for line in result.lines) == case.proceeds_fen
    assert [line.line for line in result.lines] == list(range(1, len(result.lines) + 1))
    assert all(line.amount_fen > 0 for line in result.lines)


@given(case=cases())
def test_each_parts_lines_sum_to_what_that_part_was_paid(case: Case) -> None:
    result = case.run()
    for part in CLAIM_PARTS:
        assert 0 <= result.paid_by_part[part] <= case.claim.due_fen(part)
        lines_fen = sum(line.amount_fen for line in result.lines if line.part is part)
        assert lines_fen == result.paid_by_part[part]
    assert result.shortfall_fen == case.claim.total_fen - sum(result.paid_by_part.values())
    assert result.surplus_fen == sum(line.amount_fen for line in result.lines if line.part is Part.SURPLUS)


@given(case=cases())
def test_no_holder_gets_more_than_its_share_of_a_part_plus_one_fen(case: Case) -> None:
    result = case.run()
    shares_ppm = {holder.participant_id: holder.share_ppm for holder in case.holders}
    for line in result.lines:
        if line.part in (Part.INTEREST, Part.PRINCIPAL):
            assert line.payee_id is not None
            exact_fen = Fraction(result.paid_by_part[line.part] * shares_ppm[line.payee_id], WHOLE_SHARE_PPM)
            assert exact_fen - 1 < line.amount_fen < exact_fen + 1
        elif line.part is Part.COSTS:
            assert (line.payee_id, line.payee_name) == (CREDITOR_ID, "Creditor")
        else:
            assert line.payee_id is None


@given(case=cases())
def test_surplus_only_after_the_whole_claim(case: Case) -> None:
    result = case.run()
    if result.surplus_fen > 0:
        assert all(result.paid_by_part[part] == case.claim.due_fen(part) for part in CLAIM_PARTS)
        assert result.shortfall_fen == 0
    assert result.surplus_fen == max(0, case.proceeds_fen - case.claim.total_fen)
    assert result.shortfall_fen == max(0, case.claim.total_fen - case.proceeds_fen)


@given(case=cases())
def test_a_later_part_is_paid_only_when_every_earlier_one_is_full(case: Case) -> None:
    result = case.run()
    for earlier_index, earlier in enumerate(case.order):
        for later in case.order[earlier_index + 1 :]:
            if result.paid_by_part[later] > 0:
                assert result.paid_by_part[earlier] == case.claim.due_fen(earlier)
    # The lines come part by part in the recovery order, the surplus last.
    rank = {part: index for index, part in enumerate((*case.order, Part.SURPLUS))}
    ranks = [rank[line.part] for line in result.lines]
    assert ranks == sorted(ranks)


@given(case=cases(), data=st.data())
def test_the_table_does_not_depend_on_the_order_holders_are_given_in(case: Case, data: st.DataObject) -> None:
    shuffled = tuple(data.draw(st.permutations(case.holders)))
    first = case.run()
    second = Case(case.proceeds_fen, case.claim, shuffled, case.order).run()

    def amounts(result: Waterfall) -> set[tuple[Part, int | None, int]]:
        return {(line.part, line.payee_id, line.amount_fen) for line in result.lines}

    assert amounts(first) == amounts(second)
