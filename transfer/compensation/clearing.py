"""The fund's money around a default: the advance in the default's own transaction, the final
clearing in the transaction that ends the disposal case (风险补偿前置, then 清算).

Each fund (layered funds: each enrolment, in fund id order) pays or takes back by the holders'
share_ppm, largest remainder; a fund short of money records its shortfall, never overdraws; a
holder short of money to refund owes the difference. Every fen is a line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from transfer import ledger
from transfer.compensation.enrolment import ADVANCED, CLEARED, ENROLLED, UNSEASONED, loan_ip_share_ppm
from transfer.compensation.funds import fund_balance_fen
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import Account
from transfer.models.compensation import CompensationEnrolment, CompensationFund, CompensationLine
from transfer.models.loans import IncomeRight, Loan
from transfer.rules.compensation import (
    by_share,
    covered_base_fen,
    final_share_fen,
    fund_share_fen,
    payable,
    refund_from,
)


@dataclass(frozen=True, slots=True)
class _Holders:
    ids: list[int]
    shares_ppm: list[int]
    accounts: dict[int, int]  # holder id -> its available account


async def _holders(unit: UnitOfWork, loan_id: int) -> _Holders:
    rows = (
        await unit.session.execute(
            select(IncomeRight.holder_id, IncomeRight.share_ppm)
            .where(IncomeRight.loan_id == loan_id)
            .order_by(IncomeRight.holder_id)
        )
    ).all()
    ids = [holder_id for holder_id, _ in rows]
    accounts = await ledger.participant_account_ids(unit.session, ids, ledger.AVAILABLE)
    return _Holders(ids, [share for _, share in rows], accounts)


async def _enrolments(
    unit: UnitOfWork, loan_ids: Sequence[int], states: Sequence[str]
) -> list[tuple[CompensationEnrolment, CompensationFund]]:
    if not loan_ids:
        return []
    rows = await unit.session.execute(
        select(CompensationEnrolment, CompensationFund)
        .join(CompensationFund, CompensationFund.id == CompensationEnrolment.fund_id)
        .where(CompensationEnrolment.loan_id.in_(loan_ids), CompensationEnrolment.state.in_(states))
        .order_by(CompensationEnrolment.loan_id, CompensationEnrolment.fund_id)
        .with_for_update(of=CompensationEnrolment)
    )
    return [(enrolment, fund) for enrolment, fund in rows.all()]


class _Lines:
    """The movements and lines of one unit's compensation work, written together at the end."""

    def __init__(self, unit: UnitOfWork) -> None:
        self.unit = unit
        self.movements: list[ledger.Movement] = []

    def pay(
        self,
        enrolment: CompensationEnrolment,
        fund: CompensationFund,
        holders: _Holders,
        total_fen: int,
        kind: str,
    ) -> None:
        """The fund pays `total_fen` to the holders by share."""
        for holder_id, amount_fen in zip(holders.ids, by_share(total_fen, holders.shares_ppm), strict=True):
            if amount_fen:
                transfer_id = self._transfer_id(enrolment, kind, holder_id)
                self.movements.append(
                    ledger.Movement(
                        transfer_id,
                        fund.account_id,
                        holders.accounts[holder_id],
                        amount_fen,
                        f"compensation_{kind}",
                        f"loan:{enrolment.loan_id}",
                    )
                )
                self._line(enrolment, kind, holder_id, amount_fen, transfer_id)

    async def take_back(
        self,
        enrolment: CompensationEnrolment,
        fund: CompensationFund,
        holders: _Holders,
        total_fen: int,
        kind: str,
    ) -> tuple[int, int]:
        """The holders refund `total_fen` to the fund by share, each as far as its funds go (what
        this unit already credited it included); the rest each owes. Returns (paid, owed)."""
        paid_total_fen = owed_total_fen = 0
        dues = by_share(total_fen, holders.shares_ppm)
        for holder_id, due_fen in zip(holders.ids, dues, strict=True):
            if not due_fen:
                continue
            account_id = holders.accounts[holder_id]
            stored = (
                await self.unit.session.execute(select(Account.balance_fen).where(Account.id == account_id))
            ).scalar_one()
            pending = sum(
                movement.amount_fen for movement in self.movements if movement.credit_account_id == account_id
            ) - sum(
                movement.amount_fen for movement in self.movements if movement.debit_account_id == account_id
            )
            refund = refund_from(due_fen, stored + self.unit.balance_deltas_fen.get(account_id, 0) + pending)
            if refund.paid_fen:
                transfer_id = self._transfer_id(enrolment, kind, holder_id)
                self.movements.append(
                    ledger.Movement(
                        transfer_id,
                        account_id,
                        fund.account_id,
                        refund.paid_fen,
                        f"compensation_{kind}",
                        f"loan:{enrolment.loan_id}",
                    )
                )
                self._line(enrolment, kind, holder_id, refund.paid_fen, transfer_id)
            if refund.owed_fen:
                self._line(enrolment, "owed", holder_id, refund.owed_fen, None)
            paid_total_fen += refund.paid_fen
            owed_total_fen += refund.owed_fen
        return paid_total_fen, owed_total_fen

    def _transfer_id(self, enrolment: CompensationEnrolment, kind: str, holder_id: int) -> str:
        # The advance and the first clearing happen once each (their enrolment's state is claimed
        # under its lock); a later clawback may come again, so it carries what the holders had given
        # back before it (refunded or owed), which every clawback raises: two in the same instant
        # (two revenues booked at once) still get ids of their own.
        suffix = f":{enrolment.refunded_fen + enrolment.owed_fen}" if kind == "clawback" else ""
        return f"compensation:{enrolment.id}:{kind}:{holder_id}{suffix}"

    def _line(
        self,
        enrolment: CompensationEnrolment,
        kind: str,
        holder_id: int,
        amount_fen: int,
        transfer_id: str | None,
    ) -> None:
        self.unit.session.add(
            CompensationLine(
                enrolment_id=enrolment.id,
                fund_id=enrolment.fund_id,
                loan_id=enrolment.loan_id,
                kind=kind,
                holder_id=holder_id,
                amount_fen=amount_fen,
                transfer_id=transfer_id,
                created_at=self.unit.now,
            )
        )

    async def post(self) -> None:
        await ledger.post_movements(self.unit, self.movements)


# How long an enrolment must run before a default is advanced on (the README's settings table).
DEFAULT_SEASONING_DAYS = 90


async def advance_on_default(
    unit: UnitOfWork, loan: Loan, case_id: int, *, seasoning_days: int = DEFAULT_SEASONING_DAYS
) -> int:
    """Each fund the loan is enrolled in advances its ratio of the covered base (the outstanding
    principal's IP part), within its per-loan cap and its balance. Returns the total advanced.

    An enrolment younger than `seasoning_days` advances nothing and stays out of the final
    clearing (`unseasoned`): a bank that enrols a loan and defaults it at once does not turn a
    fund's balance into its own money."""
    pairs = await _enrolments(unit, [loan.id], [ENROLLED])
    if not pairs:
        return 0
    seasoned_before = unit.now - timedelta(days=seasoning_days)
    share_ppm = await loan_ip_share_ppm(unit, loan.id)
    holders = await _holders(unit, loan.id)
    lines = _Lines(unit)
    total_fen = 0
    for enrolment, fund in pairs:
        if enrolment.enrolled_at > seasoned_before:
            enrolment.state = UNSEASONED
            enrolment.case_id = case_id
            enrolment.principal_at_default_fen = loan.outstanding_principal_fen
            unit.record(
                "compensation.not_advanced",
                f"loan:{loan.id}",
                {
                    "fund_id": fund.id,
                    "disposal_id": case_id,
                    "reason": "unseasoned",
                    "enrolled_at": enrolment.enrolled_at.isoformat(),
                    "seasoning_days": seasoning_days,
                },
            )
            continue
        base_fen = covered_base_fen(loan.outstanding_principal_fen, share_ppm)
        owed_fen = fund_share_fen(base_fen, fund.fund_share_bps, fund.per_loan_cap_fen)
        pay = payable(owed_fen, await fund_balance_fen(unit, fund, lock=True))
        lines.pay(enrolment, fund, holders, pay.paid_fen, "advance")
        enrolment.state = ADVANCED
        enrolment.case_id = case_id
        enrolment.ip_share_ppm = share_ppm
        enrolment.principal_at_default_fen = loan.outstanding_principal_fen
        enrolment.covered_base_fen = base_fen
        enrolment.advance_fen = pay.paid_fen
        enrolment.fund_shortfall_fen = pay.shortfall_fen
        enrolment.advanced_at = unit.now
        total_fen += pay.paid_fen
        unit.record(
            "compensation.advanced",
            f"loan:{loan.id}",
            {
                "fund_id": fund.id,
                "disposal_id": case_id,
                "covered_base_fen": base_fen,
                "advance_fen": pay.paid_fen,
                "fund_shortfall_fen": pay.shortfall_fen,
            },
        )
    await lines.post()
    return total_fen


async def cleared_loan_ids(unit: UnitOfWork, loan_ids: Sequence[int]) -> list[int]:
    """Those of the loans with a fund that advanced or cleared on them: the loans clear_on_end
    would do anything for (a later recovery's clawback among thousands of loans)."""
    if not loan_ids:
        return []
    rows = await unit.session.execute(
        select(CompensationEnrolment.loan_id)
        .where(
            CompensationEnrolment.loan_id.in_(list(loan_ids)),
            CompensationEnrolment.state.in_([ADVANCED, CLEARED]),
        )
        .distinct()
        .order_by(CompensationEnrolment.loan_id)
    )
    return list(rows.scalars())


def _borne_fen(enrolment: CompensationEnrolment) -> int:
    """What the fund has borne so far: paid out, less what came back or is owed back to it."""
    return enrolment.advance_fen + enrolment.top_up_fen - enrolment.refunded_fen - enrolment.owed_fen


async def clear_on_end(unit: UnitOfWork, loans: Sequence[Loan]) -> None:
    """The cases of these loans end (their loans' outstanding principal already lowered by what the
    disposal recovered): each fund's final share is its ratio of the real principal loss on the IP
    part; the holders refund what the advance exceeded it by, or the fund tops it up. Called again
    after a later recovery (an earn-out), it takes the fund's share of that back (a clawback)."""
    by_id = {loan.id: loan for loan in loans}
    pairs = await _enrolments(unit, sorted(by_id), [ADVANCED, CLEARED])
    holders_of: dict[int, _Holders] = {}
    lines = _Lines(unit)
    for enrolment, fund in pairs:
        loan = by_id[enrolment.loan_id]
        assert enrolment.principal_at_default_fen is not None
        if enrolment.loan_id not in holders_of:
            holders_of[enrolment.loan_id] = await _holders(unit, enrolment.loan_id)
        holders = holders_of[enrolment.loan_id]
        loss_fen = max(0, min(enrolment.principal_at_default_fen, loan.outstanding_principal_fen))
        final_fen = final_share_fen(
            loss_fen, enrolment.ip_share_ppm, fund.fund_share_bps, fund.per_loan_cap_fen
        )
        difference_fen = final_fen - _borne_fen(enrolment)
        if difference_fen > 0:
            pay = payable(difference_fen, await fund_balance_fen(unit, fund, lock=True))
            lines.pay(enrolment, fund, holders, pay.paid_fen, "top_up")
            enrolment.top_up_fen += pay.paid_fen
            # What the fund still owes of its final share, unpaid for want of money.
            enrolment.fund_shortfall_fen = pay.shortfall_fen
        else:
            enrolment.fund_shortfall_fen = 0
        if difference_fen < 0:
            kind = "refund" if enrolment.state == ADVANCED else "clawback"
            paid_fen, owed_fen = await lines.take_back(enrolment, fund, holders, -difference_fen, kind)
            enrolment.refunded_fen += paid_fen
            enrolment.owed_fen += owed_fen
        enrolment.state = CLEARED
        enrolment.final_loss_fen = loss_fen
        enrolment.final_share_fen = final_fen
        enrolment.cleared_at = unit.now
        unit.record(
            "compensation.cleared",
            f"loan:{loan.id}",
            {
                "fund_id": fund.id,
                "disposal_id": enrolment.case_id,
                "final_loss_fen": loss_fen,
                "final_share_fen": final_fen,
                "advance_fen": enrolment.advance_fen,
                "top_up_fen": enrolment.top_up_fen,
                "refunded_fen": enrolment.refunded_fen,
                "owed_fen": enrolment.owed_fen,
                "fund_shortfall_fen": enrolment.fund_shortfall_fen,
            },
        )
    await lines.post()
