"""The proceeds waterfall of a disposal (DESIGN §3 "Pledge enforcement").

The proceeds of a disposal (the price plus any forfeited deposits, or the take-in-payment price) pay
the secured claim part by part in the recovery order, each part as far as the proceeds go: when they
fall short they pay realization costs, then interest, then principal unless the contract says
otherwise (民法典第561条), so the order is a setting (`IPX_RECOVERY_ORDER`). Realization costs go back
to the creditor who bore them; interest (penalty interest included) and principal are shared among
the loan's holders (the creditor and every income-right holder) by `share_ppm`, largest remainder,
to the fen. What is left after the whole claim is the pledgor's surplus; what the proceeds do not
cover stays with the debtor as a shortfall (民法典第438条).

The answer is a table of lines that add up to the proceeds exactly, and whose holders' lines add up
to what each part was paid exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from transfer.rules.largest_remainder import allocate
from transfer.rules.shares import WHOLE_SHARE_PPM


class Part(StrEnum):
    COSTS = "costs"  # realization costs (实现债权的费用), paid back to the creditor who bore them
    INTEREST = "interest"  # interest and penalty interest, shared among the holders
    PRINCIPAL = "principal"  # shared among the holders
    SURPLUS = "surplus"  # what is left after the whole claim, to the pledgor


CLAIM_PARTS = (Part.COSTS, Part.INTEREST, Part.PRINCIPAL)
# 民法典第561条, the order when the contract says nothing else.
DEFAULT_RECOVERY_ORDER = (Part.COSTS, Part.INTEREST, Part.PRINCIPAL)
PLEDGOR_NAME = "pledgor"


@dataclass(frozen=True, slots=True)
class Claim:
    """The secured claim at disposal (民法典第389条); `interest_fen` includes penalty interest."""

    costs_fen: int
    interest_fen: int
    principal_fen: int

    def __post_init__(self) -> None:
        for part in CLAIM_PARTS:
            if self.due_fen(part) < 0:
                raise ValueError(f"claim {part.value} must not be negative, got {self.due_fen(part)}")

    def due_fen(self, part: Part) -> int:
        if part is Part.COSTS:
            return self.costs_fen
        if part is Part.INTEREST:
            return self.interest_fen
        if part is Part.PRINCIPAL:
            return self.principal_fen
        raise ValueError(f"the surplus is not a part of the claim: {part.value}")

    @property
    def total_fen(self) -> int:
        return self.costs_fen + self.interest_fen + self.principal_fen


@dataclass(frozen=True, slots=True)
class Holder:
    """A holder of the loan's collections: the creditor (its kept share) or an income-right holder."""

    participant_id: int
    name: str
    share_ppm: int


@dataclass(frozen=True, slots=True)
class Line:
    line: int  # 1, 2, … in the order paid
    part: Part
    payee_id: int | None  # None for the pledgor
    payee_name: str
    amount_fen: int
    rule: str  # the source of the line, for a reader of the table


@dataclass(frozen=True, slots=True)
class Waterfall:
    lines: tuple[Line, ...]
    paid_by_part: dict[Part, int]  # every claim part, 0 when the proceeds did not reach it
    shortfall_fen: int  # the claim the proceeds left unpaid: stays with the debtor
    surplus_fen: int  # what the proceeds left after the whole claim: the pledgor's


def parse_recovery_order(text: str) -> tuple[Part, ...]:
    """`"costs,interest,principal"` -> the parts in that order; the settings loader calls it.

    Raises ValueError unless the text names costs, interest and principal exactly once each,
    separated by commas (spaces around a name are allowed).
    """
    names = [name.strip().lower() for name in text.split(",")]
    expected = ", ".join(part.value for part in CLAIM_PARTS)
    hint = f"must name {expected} once each, separated by commas (e.g. costs,interest,principal)"
    unknown = [name for name in names if name not in {part.value for part in CLAIM_PARTS}]
    if unknown:
        raise ValueError(f"{hint}; {unknown[0]!r} is not one of them, got {text!r}")
    if len(set(names)) != len(names) or len(names) != len(CLAIM_PARTS):
        raise ValueError(f"{hint}, got {text!r}")
    return tuple(Part(name) for name in names)


def waterfall(
    proceeds_fen: int,
    claim: Claim,
    holders: Sequence[Holder],
    order: Sequence[Part],
    creditor_id: int,
    creditor_name: str,
    *,
    pledgor_name: str = PLEDGOR_NAME,
) -> Waterfall:
    """Split `proceeds_fen` over the claim's parts in `order`, then a surplus to the pledgor.

    Zero-amount lines are omitted. Within a part, holders' lines follow the order of `holders`; when
    two holders' remainders tie, the lower participant id gets the odd fen, so the table does not
    depend on the order the caller happened to load the holders in.

    Raises ValueError for negative proceeds, an order that is not a permutation of the claim parts,
    no holders, a repeated holder, a share that is not positive, or shares that do not sum to exactly
    1,000,000 ppm.
    """
    if proceeds_fen < 0:
        raise ValueError(f"proceeds_fen must not be negative, got {proceeds_fen}")
    order = _checked_order(order)
    _check_holders(holders)
    order_text = ",".join(part.value for part in order)

    remaining_fen = proceeds_fen
    paid_by_part: dict[Part, int] = {}
    # Lines are numbered once the zero-amount ones are gone, so they are built with line 0 first.
    unnumbered: list[Line] = []
    for part in order:
        paid_fen = min(claim.due_fen(part), remaining_fen)
        remaining_fen -= paid_fen
        paid_by_part[part] = paid_fen
        if part is Part.COSTS:
            rule = f"民法典第561条 order {order_text}: realization costs to the creditor who bore them"
            unnumbered.append(Line(0, part, creditor_id, creditor_name, paid_fen, rule))
        else:
            unnumbered.extend(_holder_lines(part, paid_fen, holders, order_text))
    surplus_fen = remaining_fen
    unnumbered.append(
        Line(0, Part.SURPLUS, None, pledgor_name, surplus_fen, "民法典第438条: surplus to the pledgor")
    )

    lines = tuple(
        replace(line, line=number)
        for number, line in enumerate((line for line in unnumbered if line.amount_fen > 0), start=1)
    )
    shortfall_fen = claim.total_fen - sum(paid_by_part.values())

    assert sum(line.amount_fen for line in lines) == proceeds_fen
    assert surplus_fen == 0 or shortfall_fen == 0
    assert shortfall_fen >= 0 and surplus_fen >= 0
    return Waterfall(
        lines=lines,
        paid_by_part={part: paid_by_part[part] for part in CLAIM_PARTS},
        shortfall_fen=shortfall_fen,
        surplus_fen=surplus_fen,
    )


def _holder_lines(part: Part, paid_fen: int, holders: Sequence[Holder], order_text: str) -> list[Line]:
    """One (unnumbered) line per holder of what `part` was paid, by share_ppm, largest remainder."""
    tie_order = sorted(range(len(holders)), key=lambda index: holders[index].participant_id)
    amounts_fen = allocate(paid_fen, [holder.share_ppm for holder in holders], tie_order=tie_order)
    assert sum(amounts_fen) == paid_fen
    return [
        Line(
            0,
            part,
            holder.participant_id,
            holder.name,
            amount_fen,
            f"民法典第561条 order {order_text}: {part.value} by share {holder.share_ppm} ppm, largest remainder",
        )
        for holder, amount_fen in zip(holders, amounts_fen, strict=True)
    ]


def _checked_order(order: Sequence[Part]) -> tuple[Part, ...]:
    names = ",".join(str(part) for part in order)
    message = f"order must be a permutation of costs, interest and principal, got {names!r}"
    try:
        parts = tuple(Part(part) for part in order)
    except ValueError:
        raise ValueError(message) from None
    if sorted(parts) != sorted(CLAIM_PARTS):
        raise ValueError(message)
    return parts


def _check_holders(holders: Sequence[Holder]) -> None:
    if not holders:
        raise ValueError("a loan always has at least one holder of its collections")
    participant_ids = [holder.participant_id for holder in holders]
    if len(set(participant_ids)) != len(participant_ids):
        raise ValueError("each holder must appear once; merge a repeated holder's shares first")
    if any(holder.share_ppm <= 0 for holder in holders):
        raise ValueError("every holder's share_ppm must be positive")
    share_ppm_total = sum(holder.share_ppm for holder in holders)
    if share_ppm_total != WHOLE_SHARE_PPM:
        raise ValueError(f"holders' shares must sum to {WHOLE_SHARE_PPM} ppm, got {share_ppm_total}")
