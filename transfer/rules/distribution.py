"""Distribute one repayment of a loan to its income-right holders, to the fen.

Principal and interest are split separately, each by the largest-remainder method over the holders'
share_ppm, so each column adds up exactly to what was collected: the loan's books and every holder's
books reconcile on principal and on interest, not just on the total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from transfer.rules.largest_remainder import allocate
from transfer.rules.shares import WHOLE_SHARE_PPM


@dataclass(frozen=True, slots=True)
class HolderShare:
    holder_id: int
    share_ppm: int


@dataclass(frozen=True, slots=True)
class DistributionLine:
    holder_id: int
    share_ppm: int
    principal_fen: int
    interest_fen: int

    @property
    def amount_fen(self) -> int:
        return self.principal_fen + self.interest_fen


def distribute_repayment(
    principal_fen: int, interest_fen: int, holders: Sequence[HolderShare]
) -> list[DistributionLine]:
    """One line per holder, in the order given; principal and interest each sum exactly.

    When two holders' remainders tie, the one listed first gets the odd fen, so the caller should pass
    holders in a stable order (for example by holder_id) to make a re-run give the same lines.

    Raises ValueError for negative amounts, no holders, a repeated holder, a share that is not
    positive, or shares that do not sum to exactly 1,000,000 ppm.
    """
    if principal_fen < 0 or interest_fen < 0:
        raise ValueError("principal_fen and interest_fen must not be negative")
    if not holders:
        raise ValueError("a loan always has at least one income-right holder")
    holder_ids = [holder.holder_id for holder in holders]
    if len(set(holder_ids)) != len(holder_ids):
        raise ValueError("each holder must appear once; merge repeated holders' shares first")
    if any(holder.share_ppm <= 0 for holder in holders):
        raise ValueError("every holder's share_ppm must be positive")
    share_ppm_total = sum(holder.share_ppm for holder in holders)
    if share_ppm_total != WHOLE_SHARE_PPM:
        raise ValueError(f"shares must sum to {WHOLE_SHARE_PPM} ppm, got {share_ppm_total}")

    shares_ppm = [holder.share_ppm for holder in holders]
    principal_parts_fen = allocate(principal_fen, shares_ppm)
    interest_parts_fen = allocate(interest_fen, shares_ppm)
    lines = [
        DistributionLine(
            holder_id=holder.holder_id,
            share_ppm=holder.share_ppm,
            principal_fen=principal_part_fen,
            interest_fen=interest_part_fen,
        )
        for holder, principal_part_fen, interest_part_fen in zip(
            holders, principal_parts_fen, interest_parts_fen, strict=True
        )
    ]

    assert sum(line.principal_fen for line in lines) == principal_fen
    assert sum(line.interest_fen for line in lines) == interest_fen
    return lines
