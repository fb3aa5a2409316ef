"""What a loan's parties see of its annuities: per patent every fee to maturity with its status,
late fee and receipt; the escrow balance; and `coverage`, what is still needed to carry every
pledged patent to maturity."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.annuities.facts import LIVE_STATES
from transfer.annuities.schedules import LAPSED, UNPAID
from transfer.annuities.sql import late_fee_on
from transfer.models import Account
from transfer.models.annuities import Annuity, AnnuityEscrow
from transfer.models.loans import CollateralItem
from transfer.registry.loans import LAPSED as ITEM_LAPSED
from transfer.registry.loans import LoanView, get_loan
from transfer.rules.annuity_schedule import AnnuityPolicy, restoration_late_fee_fen


@dataclass(frozen=True, slots=True)
class AnnuityLine:
    fee: Annuity
    # Paid: the late fee paid. Unpaid: the late fee it would carry if paid today.
    late_fee_fen: int
    # What paying it today would cost in all (0 once paid, or past restoring).
    still_needed_fen: int


@dataclass(frozen=True, slots=True)
class PatentAnnuities:
    item: CollateralItem
    lines: list[AnnuityLine]


@dataclass(frozen=True, slots=True)
class LoanAnnuities:
    loan: LoanView
    patents: list[PatentAnnuities]
    escrow_balance_fen: int
    coverage_fen: int
    today: date


def _restoration_fen(fee: Annuity, policy: AnnuityPolicy) -> int:
    return fee.fee_fen + restoration_late_fee_fen(fee.full_fee_fen, policy) + policy.restoration_fee_fen


def _still_needed(fee: Annuity, late_fee_fen: int, carried: bool, today: date, policy: AnnuityPolicy) -> int:
    """What paying `fee` today costs, if its patent is still carried (pledged, or lapsed and still
    restorable); a fee past grace that today's run has not lapsed yet costs its restoration."""
    if not carried:
        return 0
    if fee.status in UNPAID:
        return fee.fee_fen + late_fee_fen if today <= fee.grace_ends_on else _restoration_fen(fee, policy)
    if fee.status == LAPSED and today <= fee.restore_by:
        return _restoration_fen(fee, policy)
    return 0


async def escrow_balance(session: AsyncSession, loan_id: int) -> int:
    balance = (
        await session.execute(
            select(Account.balance_fen)
            .join(AnnuityEscrow, AnnuityEscrow.account_id == Account.id)
            .where(AnnuityEscrow.loan_id == loan_id)
        )
    ).scalar_one_or_none()
    return int(balance or 0)


async def loan_annuities(
    session: AsyncSession,
    loan_id: int,
    *,
    viewer_id: int,
    viewer_roles: Iterable[str],
    today: date,
    policy: AnnuityPolicy,
) -> LoanAnnuities:
    """The loan's parties and the center's staff only (the same 404 as the loan's for anyone else)."""
    view = await get_loan(session, loan_id, viewer_id=viewer_id, viewer_roles=viewer_roles)
    rows = await session.execute(
        select(Annuity, late_fee_on(today))
        .where(Annuity.loan_id == loan_id)
        .order_by(Annuity.collateral_id, Annuity.patent_year)
    )
    fees_of: dict[int, list[tuple[Annuity, int]]] = {}
    for fee, late_now in rows.all():
        late_fee_fen = fee.late_fee_fen if fee.late_fee_fen is not None else int(late_now)
        fees_of.setdefault(fee.collateral_id, []).append((fee, late_fee_fen))
    by_item: dict[int, list[AnnuityLine]] = {}
    for item in view.collateral:
        fees = fees_of.get(item.id, [])
        carried = item.state in LIVE_STATES or (
            item.state == ITEM_LAPSED
            and any(fee.status == LAPSED and today <= fee.restore_by for fee, _ in fees)
        )
        by_item[item.id] = [
            AnnuityLine(fee, late_fee_fen, _still_needed(fee, late_fee_fen, carried, today, policy))
            for fee, late_fee_fen in fees
        ]
    patents = [
        PatentAnnuities(item, by_item.get(item.id, []))
        for item in view.collateral
        if item.filed_on is not None
    ]
    balance_fen = await escrow_balance(session, loan_id)
    needed_fen = sum(line.still_needed_fen for patent in patents for line in patent.lines)
    return LoanAnnuities(view, patents, balance_fen, max(0, needed_fen - balance_fen), today)
