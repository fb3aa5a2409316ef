"""The creditor pays a fee from its own funds (POST /loans/{id}/annuities/{aid}/pay): a fee due or in
grace with today's late fee, or a lapsed one within its restoration window (the missed fee, the
capped late fee and the restoration fee), which restores the patent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update

from transfer import ledger
from transfer.annuities.facts import LIVE_STATES
from transfer.annuities.lapse import lapse_overdue, loan_figures
from transfer.annuities.schedules import LAPSED, PAID, RESTORED, UNPAID
from transfer.annuities.sql import late_fee_on
from transfer.kernel.errors import Conflict, NotFound
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import Account
from transfer.models.annuities import Annuity
from transfer.models.loans import CollateralItem, Loan
from transfer.registry.collateral import IN_DISPOSAL, PLEDGED
from transfer.registry.loans import DEFAULTED
from transfer.rules.annuity_schedule import AnnuityPolicy, restoration_late_fee_fen
from transfer.rules.fee_waiver import shanghai_trade_date

CREDITOR = "creditor"


@dataclass(frozen=True, slots=True)
class Payment:
    annuity_id: int
    status: str
    fee_fen: int
    late_fee_fen: int
    restoration_fee_fen: int
    receipt: str

    @property
    def total_fen(self) -> int:
        return self.fee_fen + self.late_fee_fen + self.restoration_fee_fen


async def _lock_payer_and_payee(unit: UnitOfWork, payer_id: int, payee_id: int) -> None:
    """Both accounts first, in id order, as the daily run locks the payee first: the two then take
    turns instead of each holding what the other waits for."""
    if (await unit.session.connection()).dialect.name == "postgresql":
        await unit.session.execute(
            select(Account.id)
            .where(Account.id.in_([payer_id, payee_id]))
            .order_by(Account.id)
            .with_for_update()
        )


async def _creditors_fee(
    unit: UnitOfWork, loan_id: int, annuity_id: int, creditor_id: int
) -> tuple[Loan, Annuity]:
    loan = await unit.session.get(Loan, loan_id)
    if loan is None or loan.creditor_id != creditor_id:
        raise NotFound("loan_not_found", f"loan {loan_id} does not exist", field="loan_id")
    annuity = (
        await unit.session.execute(
            select(Annuity).where(Annuity.id == annuity_id, Annuity.loan_id == loan_id)
        )
    ).scalar_one_or_none()
    if annuity is None:
        raise NotFound(
            "annuity_not_found", f"annuity {annuity_id} is not a fee of loan {loan_id}", field="annuity_id"
        )
    return loan, annuity


async def pay_by_creditor(
    unit: UnitOfWork, loan_id: int, annuity_id: int, creditor_id: int, policy: AnnuityPolicy
) -> Payment:
    payer_id = await ledger.participant_account_id(unit.session, creditor_id, ledger.AVAILABLE)
    payee_id = await ledger.account_id(unit.session, ledger.center_account_key(ledger.PATENT_OFFICE))
    await _lock_payer_and_payee(unit, payer_id, payee_id)
    loan, annuity = await _creditors_fee(unit, loan_id, annuity_id, creditor_id)
    today = shanghai_trade_date(unit.now)
    if annuity.status in UNPAID and today > annuity.grace_ends_on:
        # Grace is over though today's run has not said so yet: the lapse comes first, on record.
        await lapse_overdue(unit, today, Annuity.id == annuity_id)
        await unit.session.refresh(annuity)
    seen = annuity.status
    new_status, suffix, late_fee_fen, restoration_fee_fen = await _what_is_owed(unit, annuity, today, policy)
    receipt = f"annuity:{annuity_id}:{suffix}"
    claimed = await unit.session.execute(
        update(Annuity)
        .where(Annuity.id == annuity_id, Annuity.status == seen)
        .values(
            status=new_status,
            late_fee_fen=late_fee_fen,
            restoration_fee_fen=restoration_fee_fen or None,
            paid_on=today,
            paid_at=unit.now,
            paid_from=CREDITOR,
            receipt=receipt,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("annuity_already_paid", f"annuity {annuity_id} was paid meanwhile", field="annuity_id")
    payment = Payment(annuity_id, new_status, annuity.fee_fen, late_fee_fen, restoration_fee_fen, receipt)
    await ledger.post_transfer(
        unit,
        receipt,
        debit_account_id=payer_id,
        credit_account_id=payee_id,
        amount_fen=payment.total_fen,
        code="annuity_fee" if new_status == PAID else "annuity_restoration",
        reference=f"loan:{loan_id}",
    )
    payload: dict[str, object] = {
        "loan_id": loan_id,
        "collateral_id": annuity.collateral_id,
        "patent_year": annuity.patent_year,
        "paid_from": CREDITOR,
        "fee_fen": annuity.fee_fen,
        "late_fee_fen": late_fee_fen,
        "restoration_fee_fen": restoration_fee_fen,
        "receipt": receipt,
    }
    if new_status == RESTORED:
        payload |= await _restore_item(unit, loan, annuity)
    unit.record(f"annuity.{suffix}", f"annuity:{annuity_id}", payload)
    return payment


async def _what_is_owed(
    unit: UnitOfWork, annuity: Annuity, today: date, policy: AnnuityPolicy
) -> tuple[str, str, int, int]:
    """The status a payment moves the fee to, its receipt suffix, the late fee and the restoration
    fee: an unpaid fee of a live pledge is paid with today's late fee; a lapsed patent within its
    restoration window is restored; anything else is refused."""
    item_state = (
        await unit.session.execute(
            select(CollateralItem.state).where(CollateralItem.id == annuity.collateral_id)
        )
    ).scalar_one()
    if annuity.status in UNPAID:
        if item_state not in LIVE_STATES:
            raise Conflict(
                "collateral_not_pledged", f"the patent is {item_state}: its fees are not the pledgee's"
            )
        late_fee_fen = int(
            (
                await unit.session.execute(select(late_fee_on(today)).where(Annuity.id == annuity.id))
            ).scalar_one()
        )
        return PAID, "paid", late_fee_fen, 0
    if annuity.status == LAPSED and item_state == LAPSED:
        if today > annuity.restore_by:
            raise Conflict(
                "restoration_window_closed",
                f"the patent lapsed on {annuity.lapsed_on}; it could be restored until {annuity.restore_by}",
            )
        late_fee_fen = restoration_late_fee_fen(annuity.full_fee_fen, policy)
        return RESTORED, "restored", late_fee_fen, policy.restoration_fee_fen
    raise Conflict("annuity_already_paid", f"annuity {annuity.id} is {annuity.status}", field="annuity_id")


async def _restore_item(unit: UnitOfWork, loan: Loan, annuity: Annuity) -> dict[str, object]:
    """A restored patent is collateral again (in disposal if its loan defaulted); the audit event
    carries the loan's figures as they now stand."""
    back = IN_DISPOSAL if loan.status == DEFAULTED else PLEDGED
    await unit.session.execute(
        update(CollateralItem)
        .where(CollateralItem.id == annuity.collateral_id)
        .values(state=back)
        .execution_options(synchronize_session=False)
    )
    ip_share, in_force_fen = (await loan_figures(unit, {loan.id}))[loan.id]
    return {
        "collateral_state": back,
        "ip_share_ppm": ip_share,
        "appraisal_in_force_fen": in_force_fen,
    }
