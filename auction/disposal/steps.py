"""A case's steps: auction rounds with their limits, then take-in-payment, then the fixed-price sale.

Round 1 and round 2 are English auctions with no hidden reserve (规定第10条), their limits checked by
auction.disposal.rules.rounds. After round 2 fails the creditor may take the collateral in payment
at round 2's start price (以物抵债); declined or expired, the fixed-price sale (变卖) opens at once.
Unsold after that, the case waits in its buyout window, then is released.

Its length is the one sequence of a case's steps, each short function handing the case to the next:
kept in one file so that the order of rounds, take-in-payment and sale reads in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select

from auction.creation import AuctionSpec, create_auction, withdraw_auction
from auction.disposal import opening_bid
from auction.disposal.cases import (
    CaseState,
    Outcome,
    lock_case,
    open_case_of_loan,
    refuse_ended,
    refuse_stranger,
)
from auction.disposal.commitment_offers import buyout_window_opened
from auction.disposal.models import DisposalCase, DisposalStep
from auction.disposal.policy import DisposalPolicy
from auction.disposal.proceeds import release_unsold, settle_cured, settle_sale, settling
from auction.disposal.rules.rounds import auto_next_round, check_round, default_start_fen, round_minimum_fen
from auction.origins import OriginKind
from auction.policy import AuctionKind
from transfer import ledger
from transfer.annuities.escrow_close import close_escrows
from transfer.kernel.errors import Conflict, DomainError
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.loans import CollateralItem, Loan
from transfer.registry.loans import REPAID

ROUND = "round"
TAKE_IN_PAYMENT = "take_in_payment"
FIXED_PRICE_SALE = "fixed_price_sale"
BUYOUT_WINDOW = "buyout_window"
CASE_BATCH_SIZE = 100
# How long before the re-run window closes the service makes a round nobody made: room for a late
# scheduler tick.
AUTO_ROUND_MARGIN_S = 3_600


@dataclass(frozen=True, slots=True)
class RoundSpec:
    starts_at: datetime
    ends_at: datetime
    increment_fen: int
    deposit_fen: int
    start_price_fen: int | None = None
    extension_window_s: int | None = None
    extension_s: int | None = None


async def _collateral(unit: UnitOfWork, loan_id: int) -> list[CollateralItem]:
    return list(
        (
            await unit.session.execute(
                select(CollateralItem)
                .where(CollateralItem.loan_id == loan_id)
                .order_by(CollateralItem.position)
            )
        ).scalars()
    )


async def _last_round(unit: UnitOfWork, case: DisposalCase) -> DisposalStep | None:
    return (
        await unit.session.execute(
            select(DisposalStep)
            # A cancelled round did not happen: its start price binds no later round.
            .where(
                DisposalStep.case_id == case.id,
                DisposalStep.kind == ROUND,
                DisposalStep.result != "cancelled",
            )
            .order_by(DisposalStep.number.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def _new_step(unit: UnitOfWork, case: DisposalCase, kind: str, **values: object) -> DisposalStep:
    number = (
        await unit.session.execute(
            select(DisposalStep.number)
            .where(DisposalStep.case_id == case.id)
            .order_by(DisposalStep.number.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    step = DisposalStep(
        case_id=case.id, number=(number or 0) + 1, kind=kind, result="running", created_at=unit.now, **values
    )
    unit.session.add(step)
    await unit.session.flush()
    case.current_step_id = step.id
    return step


async def _put_up(
    unit: UnitOfWork,
    case: DisposalCase,
    step: DisposalStep,
    kind: AuctionKind,
    title: str,
    spec: RoundSpec,
    policy: DisposalPolicy,
) -> None:
    """The step's auction, sold by the creditor; its origin is the step (auction.disposal.origin)."""
    items = await _collateral(unit, case.loan_id)
    assert step.start_price_fen is not None
    await create_auction(
        unit,
        case.creditor_id,
        AuctionSpec(
            kind=kind.value,
            lot_title=title,
            lot_description="; ".join(f"{item.kind} {item.registry_number} {item.title}" for item in items)[
                :2000
            ],
            start_price_fen=step.start_price_fen,
            increment_fen=spec.increment_fen,
            deposit_fen=spec.deposit_fen,
            starts_at=spec.starts_at,
            ends_at=spec.ends_at,
            origin_kind=OriginKind.DISPOSAL_ROUND.value,
            origin_id=step.id,
            collateral_ids=[item.id for item in items],
            extension_window_s=spec.extension_window_s,
            extension_s=spec.extension_s,
        ),
        policy.auction,
    )


async def create_round(
    unit: UnitOfWork, case_id: int, actor_id: int, spec: RoundSpec, policy: DisposalPolicy
) -> DisposalStep:
    case = await lock_case(unit, case_id)
    refuse_stranger(case, actor_id)
    return await _create_round(unit, case, spec, policy)


async def _create_round(
    unit: UnitOfWork, case: DisposalCase, spec: RoundSpec, policy: DisposalPolicy
) -> DisposalStep:
    refuse_ended(case)
    if case.round_count >= policy.limits.max_rounds:
        # A third round is a rule broken (第26条), not a timing: the rules say so, naming the limit.
        round_minimum_fen(case.round_count + 1, case.appraisal_fen, None, policy.limits)
    if case.state != CaseState.AWAITING_ROUND:
        raise Conflict(
            "round_not_expected", f"the case is {case.state}: no round can be created now", field="id"
        )
    if spec.increment_fen <= 0:
        raise DomainError("increment_not_positive", "increment must be greater than zero", field="increment")
    round_no = case.round_count + 1
    previous = await _last_round(unit, case)
    minimum_fen = round_minimum_fen(
        round_no,
        case.appraisal_fen,
        previous.start_price_fen if previous is not None else None,
        policy.limits,
    )
    start_fen = (
        spec.start_price_fen
        if spec.start_price_fen is not None
        else default_start_fen(minimum_fen, spec.increment_fen)
    )
    check_round(
        round_no,
        start_fen,
        spec.starts_at,
        unit.now,
        previous.ended_at if previous is not None else None,
        minimum_fen,
        policy.limits,
    )
    step = await _new_step(
        unit,
        case,
        ROUND,
        round_no=round_no,
        start_price_fen=start_fen,
        increment_fen=spec.increment_fen,
        deposit_fen=spec.deposit_fen,
        starts_at=spec.starts_at,
        ends_at=spec.ends_at,
    )
    loan = await unit.session.get(Loan, case.loan_id)
    assert loan is not None
    await _put_up(
        unit,
        case,
        step,
        AuctionKind.ENGLISH,
        f"Disposal {case.id}, round {round_no}: collateral of loan {loan.id}",
        spec,
        policy,
    )
    case.state = CaseState.IN_ROUND.value
    case.round_count = round_no
    case.deadline_at = None
    # A stalking horse stands from the round's first instant, so no bid can come before it.
    await opening_bid.stand_live_offers(unit, case, policy)
    unit.record(
        "disposal.round_created",
        f"disposal:{case.id}",
        {
            "round": round_no,
            "step": step.number,
            "auction_id": step.auction_id,
            "start_price_fen": start_fen,
            "minimum_fen": minimum_fen,
        },
    )
    return step


def _auto_round_spec(
    previous: DisposalStep, start_fen: int, now: datetime, policy: DisposalPolicy
) -> RoundSpec:
    """The next round as auto-advance makes it: the shortest notice, the same duration and
    increment, the previous deposit kept inside the range the new start allows."""
    assert previous.starts_at is not None and previous.ends_at is not None
    assert previous.increment_fen is not None and previous.deposit_fen is not None
    starts_at = now + timedelta(seconds=policy.limits.rerun_notice_s)
    low_fen = -(-start_fen * policy.auction.deposit_min_bps // 10_000)
    high_fen = start_fen * policy.auction.deposit_max_bps // 10_000
    return RoundSpec(
        starts_at=starts_at,
        ends_at=starts_at + (previous.ends_at - previous.starts_at),
        increment_fen=previous.increment_fen,
        deposit_fen=min(max(previous.deposit_fen, low_fen), high_fen),
        start_price_fen=start_fen,
    )


async def _auto_round(unit: UnitOfWork, case: DisposalCase, policy: DisposalPolicy) -> DisposalStep:
    previous = await _last_round(unit, case)
    assert (
        previous is not None and previous.start_price_fen is not None and previous.increment_fen is not None
    )
    assert previous.ended_at is not None and previous.round_no is not None
    following = auto_next_round(
        previous.round_no,
        previous.start_price_fen,
        previous.increment_fen,
        previous.ended_at,
        unit.now,
        policy.limits,
    )
    assert following is not None, "a case awaits a round only while rounds remain"
    spec = _auto_round_spec(previous, following.start_price_fen, unit.now, policy)
    return await _create_round(unit, case, spec, policy)


async def step_failed(
    unit: UnitOfWork, step: DisposalStep, result: str, why: str, policy: DisposalPolicy
) -> None:
    """A step's auction closed unsold, or its winner defaulted: the case moves on by itself."""
    case = await lock_case(unit, step.case_id)
    step.result = result
    step.ended_at = unit.now
    step.note = why
    if step.kind == ROUND and step.round_no is not None and step.round_no < policy.limits.max_rounds:
        case.state = CaseState.AWAITING_ROUND.value
        # Auto-advance runs the next round on the next tick, in its own transaction, so a round that
        # cannot be made never holds up the close that ended this one.
        # Without it, the service makes the round itself shortly before the creditor's window closes,
        # so a case never stalls and the round still lands inside the window (规定第26条).
        window_s = max(0, policy.limits.rerun_within_s - AUTO_ROUND_MARGIN_S)
        case.deadline_at = unit.now if case.auto_advance else unit.now + timedelta(seconds=window_s)
        next_step = f"round {step.round_no + 1}"
    elif step.kind == ROUND:
        await _new_step(
            unit,
            case,
            TAKE_IN_PAYMENT,
            start_price_fen=step.start_price_fen,
            deadline_at=unit.now + timedelta(seconds=policy.takeover_window_s),
        )
        case.state = CaseState.TAKE_IN_PAYMENT_OFFERED.value
        case.deadline_at = unit.now + timedelta(seconds=policy.takeover_window_s)
        next_step = "take-in-payment offered to the creditor"
    else:
        await _new_step(
            unit, case, BUYOUT_WINDOW, deadline_at=unit.now + timedelta(seconds=policy.buyout_window_s)
        )
        case.state = CaseState.BUYOUT_WINDOW.value
        case.outcome = Outcome.UNSOLD.value
        case.deadline_at = unit.now + timedelta(seconds=policy.buyout_window_s)
        next_step = "unsold: waiting in the buyout window"
    unit.record(
        "disposal.step_failed",
        f"disposal:{case.id}",
        {"step": step.number, "result": result, "why": why, "next": next_step},
    )
    if case.state == CaseState.BUYOUT_WINDOW:
        await buyout_window_opened(unit, case, policy)


async def step_cancelled(unit: UnitOfWork, step: DisposalStep, policy: DisposalPolicy) -> None:
    """The creditor withdrew a round before its first bid, or an admin cancelled a lot set aside
    after a failed close: the step did not happen. A round may be made again (within the same
    window after a failure); a fixed-price sale opens again at once."""
    case = await lock_case(unit, step.case_id)
    step.result = "cancelled"
    step.ended_at = unit.now
    if step.kind == ROUND:
        assert step.round_no is not None
        case.round_count = step.round_no - 1
        case.state = CaseState.AWAITING_ROUND.value
        previous = await _last_failed_round(unit, case)
        case.deadline_at = (
            None
            if previous is None or previous.ended_at is None
            else previous.ended_at
            + timedelta(seconds=max(0, policy.limits.rerun_within_s - AUTO_ROUND_MARGIN_S))
        )
    else:
        await _open_fixed_price_sale(unit, case, policy)
    unit.record("disposal.step_cancelled", f"disposal:{case.id}", {"step": step.number, "kind": step.kind})


async def _last_failed_round(unit: UnitOfWork, case: DisposalCase) -> DisposalStep | None:
    return (
        await unit.session.execute(
            select(DisposalStep)
            .where(
                DisposalStep.case_id == case.id,
                DisposalStep.kind == ROUND,
                DisposalStep.result.in_(["unsold", "winner_defaulted"]),
            )
            .order_by(DisposalStep.number.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def _current(unit: UnitOfWork, case: DisposalCase) -> DisposalStep:
    assert case.current_step_id is not None
    step = await unit.session.get(DisposalStep, case.current_step_id)
    assert step is not None
    return step


async def _open_fixed_price_sale(
    unit: UnitOfWork, case: DisposalCase, policy: DisposalPolicy
) -> DisposalStep:
    last = await _last_round(unit, case)
    assert (
        last is not None
        and last.start_price_fen is not None
        and last.increment_fen is not None
        and last.deposit_fen is not None
    )
    spec = RoundSpec(
        starts_at=unit.now,
        ends_at=unit.now + timedelta(seconds=policy.fixed_price_s),
        increment_fen=last.increment_fen,
        deposit_fen=last.deposit_fen,
    )
    step = await _new_step(
        unit,
        case,
        FIXED_PRICE_SALE,
        start_price_fen=last.start_price_fen,
        increment_fen=last.increment_fen,
        deposit_fen=last.deposit_fen,
        starts_at=spec.starts_at,
        ends_at=spec.ends_at,
    )
    await _put_up(
        unit, case, step, AuctionKind.FIXED_PRICE, f"Disposal {case.id}: fixed-price sale", spec, policy
    )
    case.state = CaseState.FIXED_PRICE_SALE.value
    case.deadline_at = None
    unit.record(
        "disposal.fixed_price_sale_opened",
        f"disposal:{case.id}",
        {"auction_id": step.auction_id, "price_fen": last.start_price_fen},
    )
    return step


async def decide_take_in_payment(
    unit: UnitOfWork, case_id: int, actor_id: int, accept: bool, policy: DisposalPolicy
) -> DisposalCase:
    case = await lock_case(unit, case_id)
    refuse_stranger(case, actor_id)
    refuse_ended(case)
    if case.state != CaseState.TAKE_IN_PAYMENT_OFFERED:
        raise Conflict(
            "take_in_payment_not_offered",
            f"the case is {case.state}: take-in-payment is not on offer",
            field="decision",
        )
    step = await _current(unit, case)
    assert step.deadline_at is not None and step.start_price_fen is not None
    if unit.now >= step.deadline_at:
        raise Conflict(
            "take_in_payment_expired",
            f"the offer expired at {step.deadline_at.isoformat()}",
            field="decision",
        )
    step.ended_at = unit.now
    if not accept:
        step.result = "declined"
        unit.record("disposal.take_in_payment_declined", f"disposal:{case.id}", {"step": step.number})
        await _open_fixed_price_sale(unit, case, policy)
        return case
    step.result = "accepted"
    # The creditor buys at round 2's start price: it pays the price into escrow, and the waterfall
    # pays every line from there, its own included, so only the other holders' shares and any
    # surplus leave its funds (the balance check is on the net, at commit).
    await ledger.post_transfer(
        unit,
        f"disposal:{case.id}:take_in_payment",
        debit_account_id=await ledger.participant_account_id(
            unit.session, case.creditor_id, ledger.AVAILABLE
        ),
        credit_account_id=await ledger.account_id(unit.session, ledger.center_account_key(ledger.ESCROW)),
        amount_fen=step.start_price_fen,
        code="take_in_payment",
        reference=f"disposal:{case.id}",
    )
    await settle_sale(
        unit, case, case.creditor_id, step.start_price_fen, policy, outcome=Outcome.TAKEN_IN_PAYMENT
    )
    await ledger.apply_balance_deltas(unit)
    return case


# States in which a case moves on by itself once its deadline passes.
DEADLINE_STATES = (CaseState.AWAITING_ROUND, CaseState.TAKE_IN_PAYMENT_OFFERED, CaseState.BUYOUT_WINDOW)


def case_due(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """Cases whose deadline passed: advance_due's work (and the scheduler's probe)."""
    # Equalities, not IN: the probe is compiled once for the driver, which takes no expanding list.
    return and_(
        or_(*(DisposalCase.state == s.value for s in DEADLINE_STATES)), DisposalCase.deadline_at <= now
    )


def case_has_work(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """A case past its deadline, or paid and waiting for its split: the scheduler's probe."""
    return or_(case_due(now), settling(now))


async def due_case_ids(unit: UnitOfWork, limit: int = CASE_BATCH_SIZE) -> list[int]:
    rows = await unit.session.execute(
        select(DisposalCase.id)
        .where(case_due(unit.now))
        .order_by(DisposalCase.deadline_at, DisposalCase.id)
        .limit(limit)
    )
    return list(rows.scalars())


async def advance_case(unit: UnitOfWork, case_id: int, policy: DisposalPolicy) -> bool:
    """A case whose deadline passed moves on: a round 2 nobody made is made (as auto-advance would),
    an unanswered take-in-payment offer expires into the fixed-price sale, a buyout window ends and
    the case is released. False if another process moved it first."""
    case = await lock_case(unit, case_id)
    if case.state not in DEADLINE_STATES or case.deadline_at is None or case.deadline_at > unit.now:
        return False
    if case.state == CaseState.AWAITING_ROUND:
        await _auto_round(unit, case, policy)
        return True
    step = await _current(unit, case)
    step.result = "expired"
    step.ended_at = unit.now
    if case.state == CaseState.TAKE_IN_PAYMENT_OFFERED:
        unit.record("disposal.take_in_payment_expired", f"disposal:{case.id}", {"step": step.number})
        await _open_fixed_price_sale(unit, case, policy)
    else:
        await release_unsold(unit, case, policy)
    return True


async def postpone(unit: UnitOfWork, case_id: int, why: str, delay_s: int) -> None:
    """A case that could not move on is tried again later, and the reason is on record."""
    case = await lock_case(unit, case_id)
    case.deadline_at = unit.now + timedelta(seconds=delay_s)
    unit.record("disposal.advance_failed", f"disposal:{case.id}", {"why": why, "retry_in_s": delay_s})


async def after_repayment(
    unit: UnitOfWork, loan_id: int, interest_fen: int, policy: DisposalPolicy
) -> DisposalCase | None:
    """A repayment of a loan in disposal: interest lowers the claim; repaid in full, the case is
    cured (its running auction withdrawn, deposits returned). Called in every repayment's unit: a
    loan repaid in full outside disposal has its annuity escrow closed here (a cured case's is
    closed as the case ends)."""
    loan = await unit.session.get(Loan, loan_id)
    assert loan is not None
    case = await open_case_of_loan(unit, loan_id)
    if case is None:
        if loan.status == REPAID:
            await close_escrows(unit, [loan_id])
        return None
    if case.state == CaseState.SETTLING:
        # The buyer has paid: the sale stands and its proceeds are being split, a tick away.
        raise Conflict(
            "disposal_settling",
            f"the collateral of loan {loan_id} was sold and paid for; its proceeds are being split:"
            " repay against the remaining claim once the case is settled",
            field="loan_id",
        )
    case.interest_repaid_fen += interest_fen
    if loan.status != REPAID:
        return case
    if case.current_step_id is not None:
        step = await _current(unit, case)
        if step.result == "running" or step.result == "awaiting_payment":
            if step.auction_id is not None:
                await withdraw_auction(unit, step.auction_id, f"loan {loan_id} repaid in full")
                await _cancel_bundled(unit, step, policy)
            step.result = "cancelled"
            step.ended_at = unit.now
            step.note = "the loan was repaid in full"
    await settle_cured(unit, case, policy)
    return case


async def _cancel_bundled(unit: UnitOfWork, step: DisposalStep, policy: DisposalPolicy) -> None:
    """The withdrawn auction sold a bundle: the other cases' rounds in it did not happen either."""
    if step.session_lot_id is None:
        return
    siblings = (
        await unit.session.execute(
            select(DisposalStep).where(
                DisposalStep.session_lot_id == step.session_lot_id,
                DisposalStep.case_id != step.case_id,
                DisposalStep.result.in_(["running", "awaiting_payment"]),
            )
        )
    ).scalars()
    for sibling in list(siblings):
        await step_cancelled(unit, sibling, policy)


async def session_round_minimum(
    unit: UnitOfWork, case: DisposalCase, starts_at: datetime, field: str, policy: DisposalPolicy
) -> int:
    """A case sold as (part of) a session lot: its next round's limits hold, and its minimum start
    counts toward the lot's. Refusals name the lot's field."""
    refuse_ended(case)
    if case.state != CaseState.AWAITING_ROUND:
        raise Conflict(
            "round_not_expected",
            f"disposal case {case.id} is {case.state}: no round can be made now",
            field=field,
        )
    round_no = case.round_count + 1
    previous = await _last_round(unit, case)
    try:
        minimum_fen = round_minimum_fen(
            round_no,
            case.appraisal_fen,
            previous.start_price_fen if previous is not None else None,
            policy.limits,
        )
        check_round(
            round_no,
            minimum_fen,
            starts_at,
            unit.now,
            previous.ended_at if previous is not None else None,
            minimum_fen,
            policy.limits,
        )
    except DomainError as error:
        raise DomainError(
            error.code, f"disposal case {case.id}: {error}", field=field, extra=error.extra
        ) from None
    return minimum_fen


async def enter_session_round(
    unit: UnitOfWork,
    case: DisposalCase,
    lot_id: int,
    start_share_fen: int,
    spec: RoundSpec,
) -> DisposalStep:
    """The case's next round is its share of a session lot (its start: the lot's, split by appraisal)."""
    round_no = case.round_count + 1
    step = await _new_step(
        unit,
        case,
        ROUND,
        round_no=round_no,
        session_lot_id=lot_id,
        start_price_fen=start_share_fen,
        increment_fen=spec.increment_fen,
        deposit_fen=spec.deposit_fen,
        starts_at=spec.starts_at,
        ends_at=spec.ends_at,
    )
    case.state = CaseState.IN_ROUND.value
    case.round_count = round_no
    case.deadline_at = None
    return step


async def collateral_of_cases(unit: UnitOfWork, cases: list[DisposalCase]) -> list[CollateralItem]:
    items: list[CollateralItem] = []
    for case in cases:
        items += await _collateral(unit, case.loan_id)
    return items
