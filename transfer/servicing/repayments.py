"""Servicing: a repayment received by the servicer is distributed to the income-right holders.

Each holder gets its share of principal and of interest by the largest-remainder method, to the fen,
so the parts add up exactly. The money is the servicer's own: the borrower paid the servicer, and
the servicer's available funds on the platform (booked by the clearing desk through `POST
/participants/{id}/funds`) must cover the whole repayment. Each other holder's part moves from the
servicer's available account to the holder's in one set-based ledger write; the servicer's own part,
when it is a holder too, simply stays where it is. So a repayment never creates money: a servicer
that has not brought the cash in gets a 409 `insufficient_funds` and nothing changes.

What a repayment may claim is bounded too: `received_on` lies between the loan's origination and
today (Asia/Shanghai), and the interest within what the loan accrued (transfer/rules/interest_accrual.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import String, and_, cast, literal, select

from transfer import ledger
from transfer.kernel.errors import Conflict, DomainError, Forbidden, InsufficientFunds
from transfer.kernel.money import format_fen
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import Account
from transfer.models.loans import Loan
from transfer.models.servicing import Repayment, RepaymentShare
from transfer.registry.collateral import release_pledges
from transfer.registry.loans import REPAID
from transfer.registry.ownership import lock_loan
from transfer.rules.distribution import DistributionLine
from transfer.rules.fee_waiver import shanghai_trade_date
from transfer.rules.interest_accrual import MAX_EARLIER_REPAYMENTS, EarlierRepayment, max_interest_fen
from transfer.servicing.distribution_sql import first_lines, write_repayment_shares


@dataclass(frozen=True, slots=True)
class RepaymentRecorded:
    repayment: Repayment
    holder_count: int
    # The first holders' lines by holder id, at most `lines_limit` of them; repayment_shares has all.
    first_lines: list[DistributionLine]


async def record_repayment(
    unit: UnitOfWork,
    loan_id: int,
    servicer_id: int,
    *,
    principal_fen: int,
    interest_fen: int,
    received_on: date,
    interest_tolerance_bps: int,
    lines_limit: int = 1_000,
) -> RepaymentRecorded:
    loan = await lock_loan(unit, loan_id)
    _check_repayment(loan, servicer_id, principal_fen, interest_fen)
    _check_received_on(loan, received_on, shanghai_trade_date(unit.now))
    await _check_interest(unit, loan, interest_fen, received_on, interest_tolerance_bps)
    repayment = Repayment(
        loan_id=loan_id,
        servicer_id=servicer_id,
        principal_fen=principal_fen,
        interest_fen=interest_fen,
        received_on=received_on,
        holder_count=0,
        created_at=unit.now,
    )
    unit.session.add(repayment)
    await unit.session.flush()
    # The split happens in the database (distribution_sql): with 100,000 holders no row passes
    # through Python, and the loan row lock above keeps the register still while it is read.
    written = await write_repayment_shares(
        unit.session,
        loan_id=loan_id,
        repayment_id=repayment.id,
        principal_fen=principal_fen,
        interest_fen=interest_fen,
    )
    repayment.holder_count = written.holder_count
    servicer_kept_fen = await _pay_holders(
        unit, loan_id, servicer_id, repayment.id, principal_fen, interest_fen
    )
    loan.outstanding_principal_fen -= principal_fen
    released = await _release_pledges_when_repaid(unit, loan) if loan.outstanding_principal_fen == 0 else []
    unit.record(
        "loan.repayment_distributed",
        f"loan:{loan_id}",
        {
            "repayment_id": repayment.id,
            "principal_fen": principal_fen,
            "interest_fen": interest_fen,
            "received_on": received_on.isoformat(),
            "holders": written.holder_count,
            "outstanding_principal_fen": loan.outstanding_principal_fen,
            # From the servicer's available funds: what the other holders got; its own part stayed.
            "servicer_paid_out_fen": principal_fen + interest_fen - servicer_kept_fen,
            "servicer_kept_fen": servicer_kept_fen,
        },
    )
    if released:
        unit.record(
            "loan.repaid",
            f"loan:{loan_id}",
            {"pledges_released": [{"kind": kind, "registry_key": key} for kind, key in released]},
        )
    return RepaymentRecorded(
        repayment, written.holder_count, await first_lines(unit.session, repayment.id, lines_limit)
    )


def _check_repayment(loan: Loan, servicer_id: int, principal_fen: int, interest_fen: int) -> None:
    if loan.servicer_id != servicer_id:
        raise Forbidden("not_servicer", "only the loan's servicer records its repayments")
    if principal_fen < 0 or interest_fen < 0 or principal_fen + interest_fen == 0:
        raise DomainError(
            "empty_repayment", "a repayment needs principal or interest greater than zero", field="principal"
        )
    if principal_fen > loan.outstanding_principal_fen:
        raise Conflict(
            "repayment_exceeds_outstanding",
            f"principal exceeds the outstanding principal of {loan.outstanding_principal_fen} fen",
            field="principal",
        )


def _check_received_on(loan: Loan, received_on: date, today: date) -> None:
    """The servicer received the money on a real day of the loan's life: not before it began, and
    not after today's trade date in Shanghai."""
    if received_on > today:
        raise DomainError(
            "received_on_in_future",
            f"received_on {received_on.isoformat()} is after today, {today.isoformat()} (Asia/Shanghai)",
            field="received_on",
        )
    if received_on < loan.originated_on:
        raise DomainError(
            "received_on_before_origination",
            f"received_on {received_on.isoformat()} is before the loan was originated on"
            f" {loan.originated_on.isoformat()}",
            field="received_on",
        )


async def _check_interest(
    unit: UnitOfWork, loan: Loan, interest_fen: int, received_on: date, tolerance_bps: int
) -> None:
    """Interest within what the loan accrued up to `received_on` and was not yet paid (the loan row
    is locked, so no other repayment of it is being recorded meanwhile)."""
    rows = await unit.session.execute(
        select(Repayment.received_on, Repayment.principal_fen, Repayment.interest_fen)
        .where(Repayment.loan_id == loan.id)
        .limit(MAX_EARLIER_REPAYMENTS + 1)
    )
    earlier = [EarlierRepayment(*row) for row in rows.all()]
    assert len(earlier) <= MAX_EARLIER_REPAYMENTS, f"loan {loan.id} has more repayments than any term allows"
    bound_fen = max_interest_fen(
        outstanding_principal_fen=loan.outstanding_principal_fen,
        rate_bps=loan.rate_bps,
        originated_on=loan.originated_on,
        received_on=received_on,
        earlier=earlier,
        tolerance_bps=tolerance_bps,
    )
    if interest_fen > bound_fen:
        raise DomainError(
            "interest_exceeds_accrual",
            f"interest exceeds the {format_fen(bound_fen)} the loan can have accrued and not been paid by"
            f" {received_on.isoformat()} ({loan.rate_bps} bps a year on its outstanding principal, with"
            f" IPX_REPAYMENT_INTEREST_TOLERANCE_BPS {tolerance_bps})",
            field="interest",
            extra={"max_interest": format_fen(bound_fen)},
        )


async def _pay_holders(
    unit: UnitOfWork, loan_id: int, servicer_id: int, repayment_id: int, principal_fen: int, interest_fen: int
) -> int:
    """Each other holder's share of the repayment, from the servicer's available account to the
    holder's: one transfer per holder, fanned out in SQL from the shares just written. Returns the
    servicer's own part, which does not move but must be covered by its funds all the same.

    The fan-out locks the servicer's account with the holders' in id order and refuses to overdraw
    it; the servicer's balance after it, read under that lock, must still cover its own part. So two
    repayments at once that together exceed the servicer's funds cannot both pass."""
    session = unit.session
    shares = RepaymentShare.__table__.c
    total_fen = principal_fen + interest_fen
    servicer_account = await ledger.participant_account_id(session, servicer_id, ledger.AVAILABLE)
    kept_fen = int(
        (
            await session.execute(
                select(shares.principal_fen + shares.interest_fen).where(
                    shares.repayment_id == repayment_id, shares.holder_id == servicer_id
                )
            )
        ).scalar_one_or_none()
        or 0
    )
    paid_out_fen = total_fen - kept_fen
    try:
        await ledger.post_fan_out(
            unit,
            debit_account_id=servicer_account,
            credits=select(
                literal("repayment:")
                + cast(shares.repayment_id, String)
                + literal(":")
                + cast(shares.holder_id, String),
                Account.id,
                shares.principal_fen + shares.interest_fen,
            )
            .join_from(
                RepaymentShare.__table__,
                Account,
                and_(Account.participant_id == shares.holder_id, Account.code == ledger.AVAILABLE),
            )
            .where(
                shares.repayment_id == repayment_id,
                shares.holder_id != servicer_id,
                shares.principal_fen + shares.interest_fen > 0,
            ),
            total_fen=paid_out_fen,
            code="repayment",
            reference=f"loan:{loan_id}",
        )
    except InsufficientFunds:
        available_fen = await _balance_fen(unit, servicer_account, lock=False)
        raise _short_of_funds(servicer_id, principal_fen, total_fen, available_fen) from None
    left_fen = await _balance_fen(unit, servicer_account, lock=True)
    if left_fen < kept_fen:
        raise _short_of_funds(servicer_id, principal_fen, total_fen, left_fen + paid_out_fen)
    return kept_fen


async def _balance_fen(unit: UnitOfWork, account_id: int, *, lock: bool) -> int:
    """An account's balance; locked (PostgreSQL) when nothing has locked it yet in this unit (a
    repayment to the servicer alone moves nothing, so no fan-out locked the account)."""
    statement = select(Account.balance_fen).where(Account.id == account_id)
    if lock:
        statement = statement.with_for_update()
    return int((await unit.session.execute(statement)).scalar_one())


def _short_of_funds(
    servicer_id: int, principal_fen: int, total_fen: int, available_fen: int
) -> InsufficientFunds:
    """The servicer has not brought the repayment's cash onto the platform; the field named is the
    one its funds stop covering (principal first, then interest)."""
    error = InsufficientFunds(servicer_id, total_fen, available_fen)
    error.field = "interest" if available_fen >= principal_fen else "principal"
    error.message = (
        f"the servicer's available funds {format_fen(available_fen)} do not cover the repayment of"
        f" {format_fen(total_fen)}: the clearing desk books the cash received first"
        f" (POST /participants/{servicer_id}/funds)"
    )
    return error


async def _release_pledges_when_repaid(unit: UnitOfWork, loan: Loan) -> list[tuple[str, str]]:
    """The last principal is in: the loan is repaid (结清) and its collateral is free again.

    The live-pledge rows go (the collateral items stay, as the loan's history), so the same right
    can back a new loan; the register and any later interest-only repayment are unaffected.
    """
    loan.status = REPAID
    return await release_pledges(unit, loan.id)
