"""What a loan's annuity escrow holds when its pledges end (the loan repaid in full, or its disposal
case ended) goes back to whoever paid it in.

The rule (README, "Patent annuities"): the fees are the enterprise's obligation, so its prepayment
(`received` deposits) is taken to have paid them first, and the creditor's own money
(`creditor_funds` deposits) only what the prepayment did not cover. So of the balance left, the
creditor's deposits not yet spent come back first: to each creditor that paid in, up to what it
paid in and has not had back, the latest deposit first; the rest is the enterprise's, kept in the
escrow until clearing pays it out with a bank reference (transfer.clearing.escrow_payouts: an
external payout, under dual control above the threshold).

The escrow account is locked (PostgreSQL; SQLite has one writer) before its balance is read: the
daily annuity run locks it too before it pays, so a repayment racing the run either waits for the
run's payments or makes the run find the patents released and pay nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from transfer import ledger
from transfer.annuities.escrow import CREDITOR_FUNDS, ESCROW_CODE
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import Account, LedgerTransfer
from transfer.models.annuities import AnnuityEscrow

RETURN_CODE = "annuity_escrow_return"


@dataclass(frozen=True, slots=True)
class EscrowParts:
    """An escrow's balance split by the rule: what the creditors have back now, what is the
    enterprise's."""

    balance_fen: int
    creditor_fen: dict[int, int]  # available account of a creditor that paid in -> fen back
    enterprise_fen: int


async def _creditor_unreturned(session: AsyncSession, loan_id: int, account_id: int) -> list[tuple[int, int]]:
    """Per creditor account that paid in: (account, fen paid in less fen returned), latest deposit first."""
    prefix = f"annuity_escrow:{loan_id}:{CREDITOR_FUNDS}:"
    paid_in = (
        await session.execute(
            select(
                LedgerTransfer.debit_account_id,
                func.sum(LedgerTransfer.amount_fen),
                func.max(LedgerTransfer.created_at),
            )
            .where(
                LedgerTransfer.credit_account_id == account_id,
                LedgerTransfer.code == ESCROW_CODE,
                LedgerTransfer.id.startswith(prefix, autoescape=True),
            )
            .group_by(LedgerTransfer.debit_account_id)
        )
    ).all()
    returned = dict(
        (
            await session.execute(
                select(LedgerTransfer.credit_account_id, func.sum(LedgerTransfer.amount_fen))
                .where(LedgerTransfer.debit_account_id == account_id, LedgerTransfer.code == RETURN_CODE)
                .group_by(LedgerTransfer.credit_account_id)
            )
        ).all()
    )
    latest_first = sorted(paid_in, key=lambda row: (row[2], row[0]), reverse=True)
    return [
        (payer, int(total) - int(returned.get(payer, 0)))
        for payer, total, _ in latest_first
        if int(total) > int(returned.get(payer, 0))
    ]


async def escrow_parts(unit: UnitOfWork, loan_id: int, *, lock: bool) -> tuple[int, EscrowParts] | None:
    """The loan's escrow account and its balance split by the rule; None without an escrow."""
    escrow = await unit.session.get(AnnuityEscrow, loan_id)
    if escrow is None:
        return None
    await ledger.apply_balance_deltas(unit)
    query = select(Account.balance_fen).where(Account.id == escrow.account_id)
    if lock and (await unit.session.connection()).dialect.name == "postgresql":
        query = query.with_for_update()
    balance_fen = int((await unit.session.execute(query)).scalar_one())
    creditor_fen: dict[int, int] = {}
    left_fen = balance_fen
    for payer, unreturned_fen in await _creditor_unreturned(unit.session, loan_id, escrow.account_id):
        back_fen = min(left_fen, unreturned_fen)
        if back_fen:
            creditor_fen[payer] = back_fen
            left_fen -= back_fen
    return escrow.account_id, EscrowParts(balance_fen, creditor_fen, left_fen)


async def close_escrows(unit: UnitOfWork, loan_ids: Sequence[int]) -> int:
    """The loans' pledges have ended: each escrow gives the creditors' unspent money back now and
    keeps the enterprise's for clearing to pay out. Idempotent (a second call finds nothing of the
    creditors' left). Returns the fen given back to creditors."""
    returned_fen = 0
    for loan_id in sorted(set(loan_ids)):
        found = await escrow_parts(unit, loan_id, lock=True)
        if found is None:
            continue
        account_id, parts = found
        if not parts.creditor_fen:
            # Nothing of the creditors' is left (or it went back before): the enterprise's part
            # waits in the escrow for clearing's payout, which records itself.
            continue
        movements = [
            ledger.Movement(
                f"annuity_escrow:{loan_id}:returned:{payer}:{unit.now.timestamp():.6f}",
                account_id,
                payer,
                amount_fen,
                RETURN_CODE,
                f"loan:{loan_id}",
            )
            for payer, amount_fen in sorted(parts.creditor_fen.items())
        ]
        await ledger.post_movements(unit, movements)
        returned_fen += sum(parts.creditor_fen.values())
        unit.record(
            "annuity.escrow_closed",
            f"loan:{loan_id}",
            {
                "balance_fen": parts.balance_fen,
                "to_creditors": sorted(parts.creditor_fen.items()),
                "enterprise_fen": parts.enterprise_fen,
            },
        )
    return returned_fen
