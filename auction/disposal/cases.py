"""The disposal case: opened by the creditor's default declaration, with the claim fixed then.

Declaring a default is one transaction: the loan becomes `defaulted`, its collateral `in_disposal`
(still pledged), every open listing of the loan is withdrawn (its offers lapse) and an auction
still selling one, or a bank's own lot of its collateral, is withdrawn with its deposits released,
and one audit event names it all. The claim is bounded by the loan's terms (rules/claim_bounds.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from auction.creation import withdraw_auction
from auction.disposal.models import DisposalBar, DisposalCase, DisposalCost
from auction.disposal.rules.claim_bounds import (
    ClaimBounds,
    accrual_days,
    costs_max_fen,
    interest_max_fen,
    penalty_max_fen,
)
from auction.models import Auction
from auction.origins import OriginKind
from auction.policy import RUNNING_STATES, AuctionState
from transfer.compensation import clearing as compensation
from transfer.kernel.errors import Conflict, DomainError, Forbidden, NotFound
from transfer.kernel.locking import lock_row
from transfer.kernel.money import MAX_AMOUNT_FEN, format_fen
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.market.withdrawal import withdraw_loan_listings
from transfer.models.loans import CollateralItem, IncomeRight, Loan
from transfer.models.servicing import Repayment
from transfer.registry.collateral import IN_DISPOSAL, set_collateral_state
from transfer.registry.loans import DEFAULTED, LAPSED, REPAID, appraisal_in_force_fen
from transfer.registry.ownership import lock_loan, register_of
from transfer.rules.fee_waiver import shanghai_trade_date

MAX_REASON_LENGTH = 500
MAX_DESCRIPTION_LENGTH = 300
DEFAULT_CLAIM_BOUNDS = ClaimBounds()
# Roles that read every case: the center's clearing desk pays them out, admins run the system.
ROLES_SEEING_ALL_CASES = frozenset({"clearing", "admin"})


class CaseState(StrEnum):
    AWAITING_ROUND = "awaiting_round"
    IN_ROUND = "in_round"
    TAKE_IN_PAYMENT_OFFERED = "take_in_payment_offered"
    FIXED_PRICE_SALE = "fixed_price_sale"
    BUYOUT_WINDOW = "buyout_window"
    # Paid (the price is in escrow), waiting for its waterfall: proceeds.settle_paid.
    SETTLING = "settling"
    SETTLED = "settled"
    CURED = "cured"
    RELEASED = "released"


ENDED_STATES = (CaseState.SETTLED, CaseState.CURED, CaseState.RELEASED)


class Outcome(StrEnum):
    SOLD = "sold"
    TAKEN_IN_PAYMENT = "taken_in_payment"
    CURED = "cured"
    UNSOLD = "unsold"
    # Sold to an operating agency's buyout offer (第三方收储): a priced sale with an accounting.
    BOUGHT_OUT = "bought_out"


@dataclass(frozen=True, slots=True)
class DefaultSpec:
    reason: str
    accrued_interest_fen: int
    penalty_interest_fen: int = 0
    realization_costs_fen: int = 0
    auto_advance: bool | None = None
    # Accept the best commitment offer at or above this share of the appraisal by itself when the
    # case enters its buyout window (auction.disposal.commitment_offers).
    accept_commitments_at_or_above_bps: int | None = None


def _reason(text: str, field: str, max_length: int) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise DomainError("text_required", f"{field} must not be empty", field=field)
    if len(cleaned) > max_length:
        raise DomainError("text_too_long", f"{field} must be at most {max_length} characters", field=field)
    return cleaned


def _amount(value: int, field: str) -> int:
    if not 0 <= value <= MAX_AMOUNT_FEN:
        raise DomainError(
            "amount_out_of_range", f"{field} must lie between 0 and the largest amount", field=field
        )
    return value


async def lock_case(unit: UnitOfWork, case_id: int) -> DisposalCase:
    return await lock_row(
        unit, DisposalCase, case_id, code="disposal_not_found", noun="disposal case", field="id"
    )


def refuse_ended(case: DisposalCase) -> None:
    if case.state in ENDED_STATES:
        raise Conflict("disposal_ended", f"disposal case {case.id} is {case.state}", field="id")


def refuse_stranger(case: DisposalCase, actor_id: int) -> None:
    if case.creditor_id != actor_id:
        raise Forbidden(
            "not_your_disposal", "only the creditor who declared the default runs its case", field="id"
        )


async def _defaultable_loan(
    unit: UnitOfWork, loan_id: int, creditor_id: int
) -> tuple[Loan, Sequence[CollateralItem]]:
    """The loan, locked, with its collateral in order: only its creditor declares a default, and
    only of a loan neither repaid nor already in default."""
    loan = await lock_loan(unit, loan_id)
    if loan.creditor_id != creditor_id:
        raise Forbidden("not_creditor", "only the loan's creditor declares its default", field="loan_id")
    if loan.status == REPAID:
        raise Conflict(
            "loan_repaid", f"loan {loan.id} is repaid: there is no claim to enforce", field="loan_id"
        )
    if loan.status == DEFAULTED:
        raise Conflict("loan_already_defaulted", f"loan {loan.id} is already in default", field="loan_id")
    items = (
        (
            await unit.session.execute(
                select(CollateralItem)
                .where(CollateralItem.loan_id == loan.id)
                .order_by(CollateralItem.position)
            )
        )
        .scalars()
        .all()
    )
    return loan, items


async def _accrual_days(unit: UnitOfWork, loan: Loan) -> int:
    """Days since the loan began, or since a repayment last paid interest, to today (Asia/Shanghai)."""
    last_interest_on = (
        await unit.session.execute(
            select(func.max(Repayment.received_on)).where(
                Repayment.loan_id == loan.id, Repayment.interest_fen > 0
            )
        )
    ).scalar_one_or_none()
    since = max(loan.originated_on, last_interest_on) if last_interest_on else loan.originated_on
    return accrual_days((shanghai_trade_date(unit.now) - since).days)


def _beyond(field: str, what: str, amount_fen: int, bound_fen: int, why: str) -> DomainError:
    return DomainError(
        "claim_above_bound",
        f"{what} {format_fen(amount_fen)} exceeds {format_fen(bound_fen)}, {why}",
        field=field,
    )


async def _refuse_unbounded_claim(
    unit: UnitOfWork, loan: Loan, spec: DefaultSpec, bounds: ClaimBounds
) -> None:
    """The claim's parts stay within what the loan's terms can have produced (rules/claim_bounds)."""
    days = await _accrual_days(unit, loan)
    # Interest ran on what was outstanding over those days: no more than the loan's principal (a
    # principal repaid without interest lowered the outstanding only lately).
    base_fen = max(loan.principal_fen, loan.outstanding_principal_fen)
    interest_bound_fen = interest_max_fen(base_fen, loan.rate_bps, days, bounds.interest_tolerance_bps)
    if spec.accrued_interest_fen > interest_bound_fen:
        raise _beyond(
            "accrued_interest",
            "accrued interest",
            spec.accrued_interest_fen,
            interest_bound_fen,
            f"{loan.rate_bps} bps a year on {format_fen(base_fen)} for {days} days"
            f" (+{bounds.interest_tolerance_bps} bps)",
        )
    penalty_bound_fen = penalty_max_fen(base_fen, loan.rate_bps, days, bounds.penalty_rate_max_bps)
    if spec.penalty_interest_fen > penalty_bound_fen:
        raise _beyond(
            "penalty_interest",
            "penalty interest",
            spec.penalty_interest_fen,
            penalty_bound_fen,
            f"the penalty rate ({bounds.penalty_rate_max_bps} bps of {loan.rate_bps} bps) on"
            f" {format_fen(base_fen)} for {days} days",
        )
    outstanding_fen = loan.outstanding_principal_fen
    costs_bound_fen = costs_max_fen(outstanding_fen, bounds.costs_max_bps)
    if spec.realization_costs_fen > costs_bound_fen:
        raise _beyond(
            "realization_costs",
            "realization costs",
            spec.realization_costs_fen,
            costs_bound_fen,
            f"{bounds.costs_max_bps} bps of the outstanding principal {format_fen(outstanding_fen)}",
        )


async def _direct_sales_of(unit: UnitOfWork, collateral_ids: Sequence[int]) -> list[int]:
    """Bank's own lots still selling any of these items (made before such lots were refused,
    auction.creation): the default withdraws them, deposits back, so the collateral is sold only
    by the case, through its waterfall."""
    if not collateral_ids:
        return []
    # collateral_ids is stored as the JSON of the sorted ids ("[3, 17]"): the patterns find an id
    # alone, first, inside or last; the JSON read below is the answer.
    patterns = [
        pattern
        for collateral_id in collateral_ids
        for pattern in (
            f"[{collateral_id}]",
            f"[{collateral_id},%",
            f"% {collateral_id},%",
            f"% {collateral_id}]",
        )
    ]
    states = [
        state.value for state in (*RUNNING_STATES, AuctionState.SET_ASIDE, AuctionState.AWAITING_PAYMENT)
    ]
    rows = await unit.session.execute(
        select(Auction.id, Auction.collateral_ids)
        .where(
            Auction.origin_kind == OriginKind.DIRECT.value,
            Auction.state.in_(states),
            or_(*(Auction.collateral_ids.like(pattern) for pattern in patterns)),
        )
        .order_by(Auction.id)
    )
    wanted = set(collateral_ids)
    return [auction_id for auction_id, named in rows.all() if wanted.intersection(json.loads(named))]


async def open_case(
    unit: UnitOfWork,
    loan_id: int,
    creditor_id: int,
    spec: DefaultSpec,
    auto_advance_default: bool,
    *,
    claim_bounds: ClaimBounds = DEFAULT_CLAIM_BOUNDS,
    seasoning_days: int = compensation.DEFAULT_SEASONING_DAYS,
) -> DisposalCase:
    reason = _reason(spec.reason, "reason", MAX_REASON_LENGTH)
    interest_fen = _amount(spec.accrued_interest_fen, "accrued_interest")
    penalty_fen = _amount(spec.penalty_interest_fen, "penalty_interest")
    costs_fen = _amount(spec.realization_costs_fen, "realization_costs")
    loan, items = await _defaultable_loan(unit, loan_id, creditor_id)
    await _refuse_unbounded_claim(unit, loan, spec, claim_bounds)
    # A lapsed patent backs nothing (its annuity went unpaid past grace): it counts for nothing in
    # the appraisal the rounds' minimums come from, and stays lapsed (it may still be restored).
    appraisal_fen = sum(appraisal_in_force_fen(item) for item in items)
    loan.status = DEFAULTED
    await set_collateral_state(unit, loan.id, IN_DISPOSAL, unless=LAPSED)
    withdrawn = await withdraw_loan_listings(unit, loan.id)
    cancelled = [
        auction.id
        for auction_id in [*withdrawn.auction_ids, *await _direct_sales_of(unit, [item.id for item in items])]
        if (auction := await withdraw_auction(unit, auction_id, f"loan {loan.id} defaulted")) is not None
    ]
    case = DisposalCase(
        loan_id=loan.id,
        creditor_id=creditor_id,
        state=CaseState.AWAITING_ROUND.value,
        reason=reason,
        principal_fen=loan.outstanding_principal_fen,
        interest_fen=interest_fen,
        penalty_interest_fen=penalty_fen,
        costs_fen=costs_fen,
        interest_repaid_fen=0,
        appraisal_fen=appraisal_fen,
        pledgor_name=items[0].right_holder if items else loan.borrower_name,
        auto_advance=auto_advance_default if spec.auto_advance is None else spec.auto_advance,
        accept_commitments_at_or_above_bps=spec.accept_commitments_at_or_above_bps,
        round_count=0,
        forfeited_deposits_fen=0,
        created_at=unit.now,
    )
    unit.session.add(case)
    await unit.session.flush()
    # The funds the loan is enrolled in pay their share first (风险补偿前置), in this transaction.
    await compensation.advance_on_default(unit, loan, case.id, seasoning_days=seasoning_days)
    if costs_fen:
        unit.session.add(
            DisposalCost(
                case_id=case.id, amount_fen=costs_fen, description="declared at default", created_at=unit.now
            )
        )
    unit.record(
        "loan.defaulted",
        f"loan:{loan.id}",
        {
            "disposal_id": case.id,
            "reason": reason,
            "principal_fen": case.principal_fen,
            "interest_fen": interest_fen,
            "penalty_interest_fen": penalty_fen,
            "costs_fen": costs_fen,
            "collateral_ids": [item.id for item in items],
            "listings_withdrawn": withdrawn.listing_ids,
            "offers_lapsed": withdrawn.offers_lapsed,
            "auctions_withdrawn": cancelled,
            "holders": await register_of(unit, loan.id),
        },
    )
    return case


async def add_cost(
    unit: UnitOfWork,
    case_id: int,
    actor_id: int,
    amount_fen: int,
    description: str,
    *,
    claim_bounds: ClaimBounds = DEFAULT_CLAIM_BOUNDS,
) -> DisposalCost:
    text = _reason(description, "description", MAX_DESCRIPTION_LENGTH)
    if amount_fen <= 0:
        raise DomainError("amount_not_positive", "amount must be greater than zero", field="amount")
    case = await lock_case(unit, case_id)
    refuse_stranger(case, actor_id)
    refuse_ended(case)
    if case.costs_fen + amount_fen > MAX_AMOUNT_FEN:
        raise DomainError(
            "amount_out_of_range", "the case's costs would exceed the largest amount", field="amount"
        )
    costs_bound_fen = costs_max_fen(case.principal_fen, claim_bounds.costs_max_bps)
    if case.costs_fen + amount_fen > costs_bound_fen:
        raise _beyond(
            "amount",
            "the case's realization costs",
            case.costs_fen + amount_fen,
            costs_bound_fen,
            f"{claim_bounds.costs_max_bps} bps of the principal outstanding at default"
            f" {format_fen(case.principal_fen)}",
        )
    case.costs_fen += amount_fen
    cost = DisposalCost(case_id=case.id, amount_fen=amount_fen, description=text, created_at=unit.now)
    unit.session.add(cost)
    await unit.session.flush()
    unit.record(
        "disposal.cost_added",
        f"disposal:{case.id}",
        {"amount_fen": amount_fen, "description": text, "costs_fen": case.costs_fen},
    )
    return cost


async def open_case_of_loan(unit: UnitOfWork, loan_id: int) -> DisposalCase | None:
    """The loan's case still running, locked; None if there is none."""
    return (
        await unit.session.execute(
            select(DisposalCase)
            .where(
                DisposalCase.loan_id == loan_id, DisposalCase.state.not_in([s.value for s in ENDED_STATES])
            )
            .with_for_update()
        )
    ).scalar_one_or_none()


def may_read(
    case: DisposalCase, holder_ids: Iterable[int], viewer_id: int, viewer_roles: Iterable[str]
) -> bool:
    """The creditor, the loan's income-right holders, clearing and admins read a case."""
    if ROLES_SEEING_ALL_CASES.intersection(viewer_roles):
        return True
    return viewer_id == case.creditor_id or viewer_id in set(holder_ids)


async def may_read_case(
    session: AsyncSession, case: DisposalCase, viewer_id: int, viewer_roles: Iterable[str]
) -> bool:
    """may_read, with the loan's income-right holders read here."""
    holder_ids = (
        await session.execute(select(IncomeRight.holder_id).where(IncomeRight.loan_id == case.loan_id))
    ).scalars()
    return may_read(case, holder_ids, viewer_id, viewer_roles)


def not_found(case_id: int) -> NotFound:
    return NotFound("disposal_not_found", f"disposal case {case_id} does not exist", field="id")


async def refuse_barred(unit: UnitOfWork, case_ids: Iterable[int], bidder_id: int) -> None:
    """A winner who defaulted on a step of a case may not register for it again (规定第24条)."""
    barred = (
        await unit.session.execute(
            select(DisposalBar.auction_id)
            .where(DisposalBar.case_id.in_(list(case_ids)), DisposalBar.bidder_id == bidder_id)
            .limit(1)
        )
    ).scalar_one_or_none()
    if barred is not None:
        raise Forbidden(
            "barred_from_case",
            f"a winner who defaulted on auction {barred} may not bid on this case again (规定第24条)",
        )
