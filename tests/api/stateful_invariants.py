"""DESIGN.md section 4, read back from the database after every step of the stateful market test.

Each check raises AssertionError naming what broke and where. They read the tables directly,
not through the services they check, so a service that agrees with itself cannot pass for right.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.context import AppContext
from app.http.clearing.controller import reconcile_day
from app.scheduler import seal_audit_events
from auction.bidding.lot import english_rules, english_state
from auction.disposal.models import DisposalCase, WaterfallLine
from auction.models import Auction, Bid, Registration
from auction.operation.models import BuyoutCommitment, BuyoutOffer
from auction.rules import EnglishBid, Sold, close_english, replay
from auction.rules.grid import PriceGrid, is_on_grid
from transfer.kernel.audit import verify_chain
from transfer.kernel.audit_tables import AuditEvent
from transfer.models import Account, LedgerTransfer
from transfer.models.approvals import Approval
from transfer.models.loans import IncomeRight, Loan
from transfer.models.market import FeeLine, Trade
from transfer.models.servicing import Repayment, RepaymentShare
from transfer.rules.fee_waiver import is_fee_waived, shanghai_trade_date
from transfer.rules.shares import WHOLE_SHARE_PPM

# A closed auction moves on only along these edges (auction/models.py: the state comment).
CLOSED_STATES = ("awaiting_payment", "sold", "defaulted", "unsold")
LATER_STATES = {"awaiting_payment": {"awaiting_payment", "sold", "defaulted"}}
# What each deposit state says about the deposit's hold in the ledger.
HOLD_STATUS_OF_DEPOSIT = {"held": "pending", "applied": "posted", "forfeited": "posted", "refunded": "voided"}
# After close, the winner's deposit by the auction's state; every other deposit is refunded.
WINNER_DEPOSIT_OF_STATE = {"awaiting_payment": "applied", "sold": "applied", "defaulted": "forfeited"}


@dataclass(slots=True)
class Seen:
    """What the checks remember between steps: each closed auction's outcome as first seen."""

    closed: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    closed_state: dict[int, str] = field(default_factory=dict)


async def _rows(session: AsyncSession, statement: Any) -> list[Any]:
    return list((await session.execute(statement)).all())


# 1. Money is exact: splits add up to the whole, to the fen.
async def splits_add_up(session: AsyncSession) -> None:
    shares = {
        row[0]: row[1:]
        for row in await _rows(
            session,
            select(
                RepaymentShare.repayment_id,
                func.count(),
                func.sum(RepaymentShare.principal_fen),
                func.sum(RepaymentShare.interest_fen),
                func.sum(RepaymentShare.share_ppm),
            ).group_by(RepaymentShare.repayment_id),
        )
    }
    for repayment in (await session.execute(select(Repayment))).scalars():
        count, principal_fen, interest_fen, share_ppm = shares.get(repayment.id, (0, 0, 0, 0))
        assert (count, int(principal_fen), int(interest_fen), int(share_ppm)) == (
            repayment.holder_count,
            repayment.principal_fen,
            repayment.interest_fen,
            WHOLE_SHARE_PPM,
        ), f"repayment {repayment.id}: shares {count, principal_fen, interest_fen, share_ppm}"
    lines = dict(
        await _rows(
            session,
            select(WaterfallLine.case_id, func.sum(WaterfallLine.amount_fen)).group_by(WaterfallLine.case_id),
        )
    )
    for case in (await session.execute(select(DisposalCase).where(DisposalCase.id.in_(lines)))).scalars():
        proceeds_fen = (case.price_fen or 0) + case.forfeited_deposits_fen
        assert int(lines[case.id]) == proceeds_fen, (
            f"case {case.id}: waterfall lines sum to {lines[case.id]} fen, proceeds are {proceeds_fen}"
        )


# 2. The ledger balances: zero sum, no overdraft, holds resolve exactly once.
async def ledger_balances(session: AsyncSession) -> None:
    total = (await session.execute(select(func.coalesce(func.sum(Account.balance_fen), 0)))).scalar_one()
    assert int(total) == 0, f"the accounts sum to {total} fen"
    overdrawn = await _rows(
        session, select(Account.key, Account.balance_fen).where(Account.non_negative, Account.balance_fen < 0)
    )
    assert not overdrawn, f"accounts below zero: {overdrawn}"
    participants_negative = await _rows(
        session,
        select(Account.key, Account.balance_fen).where(
            Account.participant_id.is_not(None), Account.balance_fen < 0
        ),
    )
    assert not participants_negative, f"participant accounts below zero: {participants_negative}"
    holds = {
        t.id: t
        for t in (
            await session.execute(select(LedgerTransfer).where(LedgerTransfer.kind == "pending"))
        ).scalars()
    }
    resolutions: dict[str, list[LedgerTransfer]] = defaultdict(list)
    for resolution in (
        await session.execute(select(LedgerTransfer).where(LedgerTransfer.pending_id.is_not(None)))
    ).scalars():
        resolutions[resolution.pending_id or ""].append(resolution)
    assert set(resolutions) <= set(holds), f"resolutions of no hold: {set(resolutions) - set(holds)}"
    for hold_id, hold in holds.items():
        resolved = resolutions.get(hold_id, [])
        expected_kind = {"pending": None, "posted": "post_pending", "voided": "void_pending"}[
            hold.pending_status or ""
        ]
        assert [r.kind for r in resolved] == ([] if expected_kind is None else [expected_kind]), (
            f"hold {hold_id} is {hold.pending_status} with resolutions {[r.kind for r in resolved]}"
        )
        assert all(r.amount_fen <= hold.amount_fen for r in resolved), f"hold {hold_id} resolved for more"
    # A participant's held account holds exactly its pending holds.
    pending_by_account = Counter[int]()
    for hold in holds.values():
        if hold.pending_status == "pending":
            pending_by_account[hold.credit_account_id] += hold.amount_fen
    for account_id, key, balance_fen in await _rows(
        session, select(Account.id, Account.key, Account.balance_fen).where(Account.code == "held")
    ):
        assert balance_fen == pending_by_account[account_id], (
            f"{key} is {balance_fen} fen, its pending holds {pending_by_account[account_id]} fen"
        )


# 2 and 5. Every pending hold is held for something live, for exactly its amount.
async def holds_match_what_they_hold_for(session: AsyncSession) -> None:
    pending = dict(
        await _rows(
            session,
            select(LedgerTransfer.id, LedgerTransfer.amount_fen).where(
                LedgerTransfer.pending_status == "pending"
            ),
        )
    )
    expected: dict[str, int] = dict(
        await _rows(
            session,
            select(Registration.deposit_hold_id, Registration.deposit_fen).where(
                Registration.deposit_state == "held", Registration.deposit_hold_id.is_not(None)
            ),
        )
    )
    expected.update(
        await _rows(
            session, select(BuyoutOffer.hold_id, BuyoutOffer.price_fen).where(BuyoutOffer.state == "live")
        )
    )
    expected.update(
        await _rows(
            session,
            select(BuyoutCommitment.hold_id, BuyoutCommitment.unheld_fen).where(
                BuyoutCommitment.state == "live", BuyoutCommitment.hold_id.is_not(None)
            ),
        )
    )
    # A withdrawal past the day's dual-control total, held until a second clerk decides.
    expected.update(
        await _rows(
            session,
            select(Approval.hold_id, Approval.amount_fen).where(
                Approval.state == "pending", Approval.hold_id.is_not(None)
            ),
        )
    )
    assert pending == expected, f"pending holds {pending} against what they hold for {expected}"


# 3. Ownership is whole, and moves only with a settled trade's money.
async def ownership_is_whole(session: AsyncSession) -> None:
    registers: dict[int, dict[int, int]] = defaultdict(dict)
    for loan_id, holder_id, share_ppm in await _rows(
        session, select(IncomeRight.loan_id, IncomeRight.holder_id, IncomeRight.share_ppm)
    ):
        registers[loan_id][holder_id] = share_ppm
    loans = {loan.id: loan for loan in (await session.execute(select(Loan))).scalars()}
    # Replay the settled trades in settlement order from the registering bank holding everything.
    replayed = {
        loan_id: ({loan.originator_id: WHOLE_SHARE_PPM}, loan.originator_id)
        for loan_id, loan in loans.items()
    }
    price_legs = dict(
        await _rows(
            session,
            select(LedgerTransfer.reference, LedgerTransfer.amount_fen).where(
                LedgerTransfer.code == "trade_price"
            ),
        )
    )
    for trade in (await session.execute(select(Trade).order_by(Trade.settled_at, Trade.id))).scalars():
        leg_fen = price_legs.get(f"trade:{trade.id}")
        if trade.status != "settled":
            assert leg_fen is None, f"trade {trade.id} is {trade.status} but its price moved"
            continue
        assert leg_fen == trade.price_fen, (
            f"settled trade {trade.id}: price leg {leg_fen}, price {trade.price_fen}"
        )
        register, creditor = replayed[trade.loan_id]
        held_ppm = register.get(trade.seller_id, 0)
        assert held_ppm >= trade.share_ppm, (
            f"trade {trade.id} settled {trade.share_ppm} ppm from a seller holding {held_ppm} ppm"
        )
        register[trade.seller_id] = held_ppm - trade.share_ppm
        register[trade.buyer_id] = register.get(trade.buyer_id, 0) + trade.share_ppm
        if trade.kind == "whole_loan":
            creditor = trade.buyer_id
        replayed[trade.loan_id] = ({h: p for h, p in register.items() if p}, creditor)
    for loan_id, loan in loans.items():
        register, creditor = replayed[loan_id]
        assert sum(registers[loan_id].values()) == WHOLE_SHARE_PPM, f"loan {loan_id}: {registers[loan_id]}"
        assert registers[loan_id] == register, (
            f"loan {loan_id}: register {registers[loan_id]}, trades {register}"
        )
        assert loan.creditor_id == creditor, f"loan {loan_id}: creditor {loan.creditor_id}, trades {creditor}"


# 4. An auction has one truth.
async def auctions_have_one_truth(session: AsyncSession, seen: Seen) -> None:
    bids_of: dict[int, list[Bid]] = defaultdict(list)
    for bid in (await session.execute(select(Bid).order_by(Bid.auction_id, Bid.sequence))).scalars():
        bids_of[bid.auction_id].append(bid)
    registrations = {r.id: r for r in (await session.execute(select(Registration))).scalars()}
    closes = Counter(
        subject
        for (subject,) in await _rows(
            session, select(AuditEvent.subject).where(AuditEvent.type == "auction.closed")
        )
    )
    bid_events = Counter(
        subject
        for (subject,) in await _rows(
            session, select(AuditEvent.subject).where(AuditEvent.type == "auction.bid")
        )
    )
    for auction in (await session.execute(select(Auction).order_by(Auction.id))).scalars():
        bids = bids_of[auction.id]
        subject = f"auction:{auction.id}"
        for bid in bids:
            registration = registrations[bid.registration_id]
            assert (registration.auction_id, registration.bidder_id, registration.paddle) == (
                auction.id,
                bid.bidder_id,
                bid.paddle,
            ), f"bid {bid.id} on {subject} is not its registration's"
            assert registration.created_at <= bid.received_at, f"bid {bid.id} came before its registration"
            assert auction.starts_at <= bid.received_at < auction.ends_at, f"bid {bid.id} outside the opening"
            assert is_on_grid(PriceGrid(auction.start_price_fen, auction.increment_fen), bid.amount_fen), (
                f"bid {bid.id} off the grid"
            )
            assert auction.closed_at is None or bid.received_at <= auction.closed_at, (
                f"bid {bid.id} after close"
            )
        assert bid_events[subject] == len(bids), (
            f"{subject}: {len(bids)} bids, {bid_events[subject]} bid events"
        )
        assert [b.sequence for b in bids] == list(range(1, len(bids) + 1)), f"{subject}: sequence has gaps"
        if auction.kind == "english":
            rules = english_rules(auction)
            state = replay(
                [
                    EnglishBid(b.bidder_id, b.amount_fen, b.max_amount_fen, b.received_at, b.sequence)
                    for b in bids
                ],
                rules,
            )
            stored = english_state(auction)
            if auction.closed_at is None:
                assert stored == state, f"{subject}: stored {stored}, replayed {state}"
            else:
                assert (auction.bid_count, auction.last_sequence or None) == (
                    state.bid_count,
                    state.last_sequence,
                )
        closed = auction.state in CLOSED_STATES
        assert closes[subject] == (1 if closed else 0), (
            f"{subject} ({auction.state}) closed {closes[subject]} times"
        )
        # A cancel stamps closed_at too, without closing (no outcome, no close event).
        ended = closed or auction.state == "cancelled"
        assert (auction.closed_at is not None) == ended, (
            f"{subject} is {auction.state}, closed_at {auction.closed_at}"
        )
        if not closed:
            continue
        assert auction.closed_at is not None and auction.closed_at >= auction.ends_at, (
            f"{subject} closed early"
        )
        if auction.kind == "english":
            outcome = close_english(state, rules)
            if isinstance(outcome, Sold):
                assert (auction.winner_id, auction.final_price_fen) == (
                    outcome.winner_id,
                    outcome.price_fen,
                ), f"{subject}: won by {auction.winner_id} at {auction.final_price_fen}, bids say {outcome}"
            else:
                assert (auction.state, auction.unsold_reason) == ("unsold", outcome.reason.value), (
                    f"{subject}: {auction.state} ({auction.unsold_reason}), bids say {outcome}"
                )
        outcome_now = (
            auction.closed_at,
            auction.winner_id,
            auction.final_price_fen,
            auction.unsold_reason,
            auction.ends_at,
            auction.bid_count,
            auction.last_sequence,
        )
        before = seen.closed.setdefault(auction.id, outcome_now)
        assert before == outcome_now, f"{subject} changed after close: {before} -> {outcome_now}"
        previous = seen.closed_state.get(auction.id, auction.state)
        assert auction.state in LATER_STATES.get(previous, {previous}), (
            f"{subject}: {previous} -> {auction.state}"
        )
        seen.closed_state[auction.id] = auction.state


# 5. Deposits resolve: each deposit's state is its hold's, and none is held after close.
async def deposits_resolve(session: AsyncSession) -> None:
    holds = dict(
        await _rows(
            session,
            select(LedgerTransfer.id, LedgerTransfer.pending_status).where(LedgerTransfer.kind == "pending"),
        )
    )
    amounts = dict(await _rows(session, select(LedgerTransfer.id, LedgerTransfer.amount_fen)))
    auctions = {a.id: a for a in (await session.execute(select(Auction))).scalars()}
    for registration in (await session.execute(select(Registration))).scalars():
        auction = auctions[registration.auction_id]
        where = f"auction {auction.id} paddle {registration.paddle}"
        if registration.deposit_hold_id is not None:
            assert (
                holds.get(registration.deposit_hold_id) == HOLD_STATUS_OF_DEPOSIT[registration.deposit_state]
            ), (
                f"{where}: deposit {registration.deposit_state}, hold {holds.get(registration.deposit_hold_id)}"
            )
            assert amounts[registration.deposit_hold_id] == registration.deposit_fen, f"{where}: hold amount"
        if auction.state in CLOSED_STATES or auction.state == "cancelled":
            wanted = "refunded"
            if registration.bidder_id == auction.winner_id and auction.origin_kind != "listing":
                wanted = WINNER_DEPOSIT_OF_STATE[auction.state]
            assert registration.deposit_state == wanted, (
                f"{where} ({auction.state}): deposit {registration.deposit_state}, expected {wanted}"
            )


# 6. Fees are explainable: fee lines on every trade, waived if and only if the rule holds.
async def fees_are_explainable(session: AsyncSession, context: AppContext) -> None:
    lines: dict[int, list[FeeLine]] = defaultdict(list)
    for line in (await session.execute(select(FeeLine))).scalars():
        lines[line.trade_id].append(line)
    fee_legs = dict(
        await _rows(
            session,
            select(LedgerTransfer.id, LedgerTransfer.amount_fen).where(LedgerTransfer.code == "trade_fees"),
        )
    )
    settings = context.settings
    for trade in (await session.execute(select(Trade))).scalars():
        mine = lines[trade.id]
        waived = is_fee_waived(
            trade.trade_date,
            is_ip_pledge=trade.is_ip_pledge,
            waiver_start=settings.fee_waiver_start,
            waiver_years=settings.fee_waiver_years,
        )
        assert mine and len(mine) == trade.fee_line_count, f"trade {trade.id}: {len(mine)} fee lines"
        for line in mine:
            assert line.gross_fen == line.waived_fen + line.charged_fen
            assert line.charged_fen == 0 if waived else line.waived_fen == 0, (
                f"trade {trade.id} ({trade.trade_date}, ip {trade.is_ip_pledge}): {line.item} waived "
                f"{line.waived_fen}, charged {line.charged_fen}"
            )
        for payer, stored_fen in (
            ("seller", trade.seller_fees_charged_fen),
            ("buyer", trade.buyer_fees_charged_fen),
        ):
            assert sum(line.charged_fen for line in mine if line.payer == payer) == stored_fen
            leg_fen = fee_legs.get(f"trade:{trade.id}:fees:{payer}")
            expected_leg = stored_fen if trade.status == "settled" and stored_fen else None
            assert leg_fen == expected_leg, (
                f"trade {trade.id}: {payer} fees moved {leg_fen}, expected {expected_leg}"
            )
        assert sum(line.waived_fen for line in mine) == trade.fees_waived_fen


async def reconciliation_is_clean(context: AppContext, now: datetime) -> None:
    report = await reconcile_day(context, shanghai_trade_date(now))
    assert report.clean, f"reconciliation of {report.date}: {report.breaks}"


# 7. Nothing is lost: the chain verifies once every event is sealed.
async def audit_chain_verifies(context: AppContext) -> None:
    await seal_audit_events(context)
    async with context.database.read() as session:
        report = await verify_chain(session)
        events = (await session.execute(select(func.count()).select_from(AuditEvent))).scalar_one()
    assert report.ok, f"audit chain broken: {report}"
    # Every event is chained, or waits behind a transaction still running. On PostgreSQL that can
    # be another database's on the same server (transaction ids are the server's), so an open
    # transaction elsewhere may hold sealing back; the events it holds back must still be there.
    assert report.events_checked + report.pending_events == events, f"{report} of {events} events"


# 8. Bad input is refused, never half-applied: everything a refusal could have touched, row by row.
# The key's last use is stamped by the authentication itself, whatever the answer (to the minute).
UNSTAMPED_COLUMNS = {"api_keys": {"last_used_at"}}


async def fingerprint(session: AsyncSession, tables: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    prints: dict[str, list[tuple[Any, ...]]] = {}
    for table in tables:
        result = await session.execute(text(f"SELECT * FROM {table}"))
        skipped = UNSTAMPED_COLUMNS.get(table, set())
        keep = [i for i, name in enumerate(result.keys()) if name not in skipped]
        prints[table] = sorted((tuple(row[i] for i in keep) for row in result.all()), key=repr)
    return prints
