"""Risk compensation (the pilot plan's item 12, 风险补偿前置): what a fund advances on a default and
what it finally bears once the case ends (DESIGN.md section 3, "Risk compensation").

A fund shares only the principal loss on the IP part of the collateral, at its ratio, capped per
loan: on default it advances its ratio of the covered base (outstanding principal × IP share); when
the case ends the final loss is the principal still outstanding after the disposal, and the fund's
final share is ratio × final loss × IP share, capped the same way. The difference to the advance is
refunded by the holders or topped up by the fund. All in fen, rounded down: a fund never pays a fen
more than its share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from transfer.rules.largest_remainder import allocate

BPS = 10_000
PPM = 1_000_000


def covered_base_fen(outstanding_principal_fen: int, ip_share_ppm: int) -> int:
    """The principal a fund covers: only the IP part of mixed collateral."""
    assert outstanding_principal_fen >= 0 and 0 <= ip_share_ppm <= PPM
    return outstanding_principal_fen * ip_share_ppm // PPM


def fund_share_fen(base_fen: int, fund_share_bps: int, per_loan_cap_fen: int) -> int:
    """The fund's ratio of a covered amount, rounded down, within its per-loan cap."""
    assert base_fen >= 0 and 0 <= fund_share_bps <= BPS and per_loan_cap_fen >= 0
    return min(base_fen * fund_share_bps // BPS, per_loan_cap_fen)


def final_share_fen(
    final_loss_fen: int, ip_share_ppm: int, fund_share_bps: int, per_loan_cap_fen: int
) -> int:
    """What the fund bears once the case has ended: its ratio of the real principal loss on the IP
    part. `final_loss_fen` is the principal outstanding at default less the principal recovered."""
    return fund_share_fen(covered_base_fen(final_loss_fen, ip_share_ppm), fund_share_bps, per_loan_cap_fen)


@dataclass(frozen=True, slots=True)
class Payable:
    """What a fund can pay of what it owes: its balance bounds it, and the rest is a recorded
    shortfall of the fund, never an overdraft."""

    paid_fen: int
    shortfall_fen: int


def payable(owed_fen: int, fund_balance_fen: int) -> Payable:
    assert owed_fen >= 0
    paid_fen = max(0, min(owed_fen, fund_balance_fen))
    return Payable(paid_fen, owed_fen - paid_fen)


def by_share(total_fen: int, shares_ppm: Sequence[int]) -> list[int]:
    """A fund's payment to the loan's holders, or their refund to it, by share_ppm, largest
    remainder (the holders come in a fixed order: by holder id)."""
    return allocate(total_fen, shares_ppm)


@dataclass(frozen=True, slots=True)
class Refund:
    paid_fen: int
    owed_fen: int


def refund_from(due_fen: int, available_fen: int) -> Refund:
    """A holder refunds what it can from its available funds; the rest it owes the fund."""
    assert due_fen >= 0
    paid_fen = max(0, min(due_fen, available_fen))
    return Refund(paid_fen, due_fen - paid_fen)
