"""Annuity bodies and answers: money as yuan strings, dates as YYYY-MM-DD."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from app.http.input_bounds import Yuan
from transfer.annuities.alerts import AlertView
from transfer.annuities.escrow import EscrowDeposit
from transfer.annuities.payments import Payment
from transfer.annuities.queries import AnnuityLine, LoanAnnuities, PatentAnnuities
from transfer.clearing.escrow_payouts import EscrowPayout
from transfer.kernel.money import format_fen

# Short enough that the escrow's ledger transfer id (loan, source and reference) fits its column.
MAX_REFERENCE_LENGTH = 60


def _money(value: int | None) -> str | None:
    return None if value is None else format_fen(value)


class EscrowIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Yuan
    # The bank's reference of the prepayment (clearing) or the creditor's own: booked once.
    reference: Annotated[
        str, msgspec.Meta(min_length=1, max_length=MAX_REFERENCE_LENGTH, pattern=r"^[\x21-\x7e]+$")
    ]


class EscrowOut(msgspec.Struct):
    loan_id: int
    transfer_id: str
    # received (clearing recorded the enterprise's prepayment) | creditor_funds
    source: str
    amount: str
    escrow_balance: str

    @classmethod
    def of(cls, deposit: EscrowDeposit) -> EscrowOut:
        return cls(
            deposit.loan_id,
            deposit.transfer_id,
            deposit.source,
            format_fen(deposit.amount_fen),
            format_fen(deposit.balance_fen),
        )


class EscrowPayoutIn(msgspec.Struct, forbid_unknown_fields=True):
    # The bank's reference of the payout to the enterprise: booked once.
    reference: Annotated[
        str, msgspec.Meta(min_length=1, max_length=MAX_REFERENCE_LENGTH, pattern=r"^[\x21-\x7e]+$")
    ]


class EscrowPayoutOut(msgspec.Struct):
    loan_id: int
    amount: str
    reference: str
    # paid (transfer_id names the ledger transfer) | awaiting_approval (approval_id names it)
    status: str
    transfer_id: str | None
    approval_id: int | None

    @classmethod
    def of(cls, payout: EscrowPayout) -> EscrowPayoutOut:
        return cls(
            payout.loan_id,
            format_fen(payout.amount_fen),
            payout.reference,
            "paid" if payout.approval is None else "awaiting_approval",
            payout.transfer_id,
            None if payout.approval is None else payout.approval.id,
        )


class PayIn(msgspec.Struct, forbid_unknown_fields=True):
    pass


class AnnuityOut(msgspec.Struct):
    id: int
    patent_year: int
    anniversary_on: date
    due_on: date
    fee: str
    full_fee: str
    # scheduled | in_grace | paid | lapsed | restored
    status: str
    # Paid: the late fee paid; unpaid: what it would carry if paid today.
    late_fee: str
    restoration_fee: str | None
    grace_ends_on: date
    restore_by: date
    lapsed_on: date | None
    paid_on: date | None
    paid_from: str | None
    receipt: str | None

    @classmethod
    def of(cls, line: AnnuityLine) -> AnnuityOut:
        fee = line.fee
        return cls(
            id=fee.id,
            patent_year=fee.patent_year,
            anniversary_on=fee.anniversary_on,
            due_on=fee.due_on,
            fee=format_fen(fee.fee_fen),
            full_fee=format_fen(fee.full_fee_fen),
            status=fee.status,
            late_fee=format_fen(line.late_fee_fen),
            restoration_fee=_money(fee.restoration_fee_fen),
            grace_ends_on=fee.grace_ends_on,
            restore_by=fee.restore_by,
            lapsed_on=fee.lapsed_on,
            paid_on=fee.paid_on,
            paid_from=fee.paid_from,
            receipt=fee.receipt,
        )


class PatentOut(msgspec.Struct):
    collateral_id: int
    kind: str
    registry_number: str
    filed_on: date | None
    granted_on: date | None
    fee_reduction_bps: int | None
    state: str
    annuities: list[AnnuityOut]

    @classmethod
    def of(cls, patent: PatentAnnuities) -> PatentOut:
        item = patent.item
        return cls(
            item.id,
            item.kind,
            item.registry_number,
            item.filed_on,
            item.granted_on,
            item.fee_reduction_bps,
            item.state,
            [AnnuityOut.of(line) for line in patent.lines],
        )


class LoanAnnuitiesOut(msgspec.Struct):
    loan_id: int
    matures_on: date
    as_of: date
    escrow_balance: str
    # Unpaid fees and late fees through maturity (restorable lapses too) less the escrow, never < 0.
    coverage: str
    ip_share_ppm: int
    appraisal_in_force: str
    patents: list[PatentOut]

    @classmethod
    def of(cls, view: LoanAnnuities) -> LoanAnnuitiesOut:
        return cls(
            loan_id=view.loan.loan.id,
            matures_on=view.loan.loan.matures_on,
            as_of=view.today,
            escrow_balance=format_fen(view.escrow_balance_fen),
            coverage=format_fen(view.coverage_fen),
            ip_share_ppm=view.loan.ip_share_ppm,
            appraisal_in_force=format_fen(view.loan.appraisal_in_force_fen),
            patents=[PatentOut.of(patent) for patent in view.patents],
        )


class PaymentOut(msgspec.Struct):
    annuity_id: int
    status: str
    fee: str
    late_fee: str
    restoration_fee: str
    total: str
    receipt: str

    @classmethod
    def of(cls, payment: Payment) -> PaymentOut:
        return cls(
            payment.annuity_id,
            payment.status,
            format_fen(payment.fee_fen),
            format_fen(payment.late_fee_fen),
            format_fen(payment.restoration_fee_fen),
            format_fen(payment.total_fen),
            payment.receipt,
        )


class AlertOut(msgspec.Struct):
    id: int
    # escrow_short | annuity_in_grace | annuity_lapsed
    kind: str
    loan_id: int
    annuity_id: int | None
    amount: str | None
    due_on: date | None
    created_at: str

    @classmethod
    def of(cls, alert: AlertView) -> AlertOut:
        return cls(
            alert.id,
            alert.kind,
            alert.loan_id,
            alert.annuity_id,
            _money(alert.amount_fen),
            alert.due_on,
            alert.created_at.isoformat(),
        )


class AlertPage(msgspec.Struct):
    items: list[AlertOut]
    total: int
    limit: int
    offset: int
