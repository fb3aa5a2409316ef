"""Putting a lot up for auction, and cancelling it before the first bid."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from auction.models import Auction, CloseFailure, Registration
from auction.origins import OriginHandler, OriginKind, handler_for
from auction.policy import RUNNING_STATES, AuctionKind, AuctionPolicy, AuctionState
from auction.rules import DescendingRules, PriceGrid
from transfer import ledger
from transfer.kernel.errors import Conflict, DomainError, Forbidden, NotFound
from transfer.kernel.locking import lock_row
from transfer.kernel.money import format_fen
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.registry.collateral import collateral_owners, refuse_others_collateral

MAX_COLLATERAL_IDS = 100


@dataclass(frozen=True, slots=True)
class AuctionSpec:
    kind: str
    lot_title: str
    start_price_fen: int
    increment_fen: int
    deposit_fen: int
    starts_at: datetime
    ends_at: datetime
    lot_description: str | None = None
    # Where the lot comes from (auction.origins): a bank's own lot, or another context's object.
    origin_kind: str = OriginKind.DIRECT.value
    origin_id: int | None = None
    collateral_ids: Sequence[int] = ()
    reserve_price_fen: int | None = None
    extension_window_s: int | None = None
    extension_s: int | None = None
    decrement_fen: int | None = None
    step_s: int | None = None
    floor_price_fen: int | None = None
    rerun_of_id: int | None = None


def _validate(spec: AuctionSpec, policy: AuctionPolicy, now: datetime) -> AuctionKind:
    try:
        kind = AuctionKind(spec.kind)
    except ValueError:
        raise DomainError(
            "unknown_kind", f"kind must be one of {', '.join(k.value for k in AuctionKind)}", field="kind"
        ) from None
    _check_schedule(spec, policy, now)
    _check_prices(spec, policy)
    _check_clock(spec, kind)
    for name, window in (("extension_window_s", spec.extension_window_s), ("extension_s", spec.extension_s)):
        if window is not None and not 0 <= window <= 86_400:
            raise DomainError("extension_out_of_range", f"{name} must lie between 0 and 86400", field=name)
    if len(spec.collateral_ids) > MAX_COLLATERAL_IDS:
        raise DomainError(
            "too_many_collateral_ids",
            f"at most {MAX_COLLATERAL_IDS} collateral ids",
            field="lot.collateral_ids",
        )
    return kind


def _check_schedule(spec: AuctionSpec, policy: AuctionPolicy, now: datetime) -> None:
    """Notice before the start, neither end too far ahead, and the minimum duration."""
    if spec.starts_at < now:
        raise DomainError("starts_in_past", "starts_at must not be in the past", field="starts_at")
    if spec.starts_at < now + timedelta(seconds=policy.min_notice_s):
        raise DomainError(
            "notice_too_short",
            f"starts_at must be at least {policy.min_notice_s} s after the auction is created",
            field="starts_at",
        )
    latest = now + timedelta(seconds=policy.max_lead_s)
    for name, instant, code in (
        ("starts_at", spec.starts_at, "starts_too_far_ahead"),
        ("ends_at", spec.ends_at, "ends_too_far_ahead"),
    ):
        if instant > latest:
            raise DomainError(
                code,
                f"{name} must be at most {policy.max_lead_s} s after now (IPX_AUCTION_MAX_LEAD_S)",
                field=name,
            )
    if spec.ends_at <= spec.starts_at:
        raise DomainError("ends_before_start", "ends_at must be after starts_at", field="ends_at")
    if spec.ends_at - spec.starts_at < timedelta(seconds=policy.min_duration_s):
        raise DomainError(
            "duration_too_short",
            f"bidding must last at least {policy.min_duration_s} s (IPX_AUCTION_MIN_DURATION_S)",
            field="ends_at",
        )


def _check_prices(spec: AuctionSpec, policy: AuctionPolicy) -> None:
    """The grid, the deposit within its share of the start price, and no reserve below the start."""
    if spec.increment_fen <= 0:
        raise DomainError("increment_not_positive", "increment must be greater than zero", field="increment")
    PriceGrid(spec.start_price_fen, spec.increment_fen)
    low_fen = -(-spec.start_price_fen * policy.deposit_min_bps // 10_000)
    high_fen = spec.start_price_fen * policy.deposit_max_bps // 10_000
    if not low_fen <= spec.deposit_fen <= high_fen:
        raise DomainError(
            "deposit_out_of_range",
            f"deposit must lie between {format_fen(low_fen)} and {format_fen(high_fen)}"
            f" ({policy.deposit_min_bps / 100:g} %–{policy.deposit_max_bps / 100:g} % of the start price)",
            field="deposit",
        )
    if spec.reserve_price_fen is not None and spec.reserve_price_fen < spec.start_price_fen:
        raise DomainError(
            "reserve_below_start", "reserve_price must not be below start_price", field="reserve_price"
        )


def _check_clock(spec: AuctionSpec, kind: AuctionKind) -> None:
    """A descending auction's clock (decrement, step, floor), and no clock for any other kind."""
    if kind is AuctionKind.DESCENDING:
        for name, value in (
            ("decrement", spec.decrement_fen),
            ("step_s", spec.step_s),
            ("floor_price", spec.floor_price_fen),
        ):
            if value is None or value <= 0:
                raise DomainError(
                    "descending_needs_clock", f"a descending auction needs {name} > 0", field=name
                )
        assert spec.decrement_fen is not None and spec.step_s is not None and spec.floor_price_fen is not None
        if spec.floor_price_fen > spec.start_price_fen:
            raise DomainError(
                "floor_above_start", "floor_price must not exceed start_price", field="floor_price"
            )
    elif spec.decrement_fen is not None or spec.step_s is not None or spec.floor_price_fen is not None:
        raise DomainError(
            "clock_only_for_descending",
            "decrement, step_s and floor_price are for descending auctions",
            field="kind",
        )


async def _check_lot_is_sellers(
    unit: UnitOfWork, seller_id: int, spec: AuctionSpec, origin: OriginHandler | None
) -> None:
    """What the lot names must be the seller's: its origin (asked of the origin's handler) or, for a
    bank's own lot, its collateral (of loans the seller is the creditor of, not repaid) — and a
    bank's own lot names no collateral still pledged to a loan outside its disposal."""
    if origin is not None:
        assert spec.origin_id is not None
        await origin.claim(unit, seller_id, spec.origin_id, spec.collateral_ids)
        return
    await refuse_others_collateral(
        unit.session,
        spec.collateral_ids,
        lambda owner: owner.creditor_id == seller_id,
        "a loan you are the creditor of",
    )
    await _refuse_pledged_collateral(unit, spec.collateral_ids)


async def _refuse_pledged_collateral(unit: UnitOfWork, collateral_ids: Sequence[int]) -> None:
    """A bank's own lot sells no pledged right. Collateral that passed the checks above secures a
    loan of the seller that is neither repaid nor in default: the right is the pledgor's, and the
    pledgee may have it sold only once the debt is not paid (民法典第436条), by the rounds of the
    loan's disposal case, whose waterfall pays the pledgor's surplus (第438条) and the funds. The
    loan itself, pledge and all (第547条), is sold through a listing."""
    owners = await collateral_owners(unit.session, collateral_ids)
    for collateral_id in sorted(set(collateral_ids)):
        owner = owners[collateral_id]
        raise Conflict(
            "collateral_not_in_disposal",
            f"collateral {collateral_id} is pledged to loan {owner.loan_id}, which is not in default:"
            " a pledge is enforced only after a default, by its disposal case; list the loan to sell it",
            field="lot.collateral_ids",
        )


async def create_auction(
    unit: UnitOfWork, seller_id: int, spec: AuctionSpec, policy: AuctionPolicy
) -> Auction:
    kind = _validate(spec, policy, unit.now)
    origin = handler_for(policy.origins, spec.origin_kind)
    await _check_lot_is_sellers(unit, seller_id, spec, origin)
    if spec.rerun_of_id is not None:
        await _check_rerun(unit, seller_id, spec.rerun_of_id)
    extension_window_s, extension_s = _soft_close_s(kind, spec, policy)
    max_end_at = (
        spec.ends_at + timedelta(seconds=policy.max_extension_s)
        if policy.max_extension_s is not None
        else None
    )
    auction = Auction(
        seller_id=seller_id,
        kind=kind.value,
        state=AuctionState.SCHEDULED.value,
        lot_title=spec.lot_title.strip(),
        lot_description=spec.lot_description,
        origin_kind=spec.origin_kind,
        origin_id=spec.origin_id,
        collateral_ids=json.dumps(sorted(set(spec.collateral_ids))),
        rerun_of_id=spec.rerun_of_id,
        start_price_fen=spec.start_price_fen,
        reserve_price_fen=spec.reserve_price_fen,
        increment_fen=spec.increment_fen,
        deposit_fen=spec.deposit_fen,
        decrement_fen=spec.decrement_fen,
        step_s=spec.step_s,
        floor_price_fen=spec.floor_price_fen,
        starts_at=spec.starts_at,
        ends_at=spec.ends_at,
        scheduled_ends_at=spec.ends_at,
        extension_window_s=extension_window_s,
        extension_s=extension_s,
        max_end_at=max_end_at,
        reserve_met=spec.reserve_price_fen is None,
        bid_count=0,
        last_sequence=0,
        registration_count=0,
        created_at=unit.now,
    )
    unit.session.add(auction)
    await unit.session.flush()
    if origin is not None:
        assert spec.origin_id is not None
        await origin.attach(unit, spec.origin_id, auction)
    unit.record("auction.created", f"auction:{auction.id}", _created_payload(auction))
    return auction


async def _check_rerun(unit: UnitOfWork, seller_id: int, rerun_of_id: int) -> None:
    """A re-run is of the seller's own auction, and of one that failed."""
    previous = await unit.session.get(Auction, rerun_of_id)
    if previous is None:
        raise NotFound("auction_not_found", f"auction {rerun_of_id} does not exist", field="rerun_of")
    if previous.seller_id != seller_id:
        raise Forbidden("not_your_auction", "only the seller of an auction may re-run it", field="rerun_of")
    if previous.state not in (AuctionState.UNSOLD, AuctionState.DEFAULTED):
        raise Conflict(
            "rerun_not_failed", "only an unsold or defaulted auction can be re-run", field="rerun_of"
        )


def _soft_close_s(kind: AuctionKind, spec: AuctionSpec, policy: AuctionPolicy) -> tuple[int, int]:
    """The extension window and the extension, in seconds: the spec's, else the policy's."""
    if kind is not AuctionKind.ENGLISH:
        # Soft close answers a visible bidding war; sealed and first-acceptor sales have none.
        return 0, 0
    extension_window_s = (
        policy.extension_window_s if spec.extension_window_s is None else spec.extension_window_s
    )
    return extension_window_s, policy.extension_s if spec.extension_s is None else spec.extension_s


def _created_payload(auction: Auction) -> dict[str, Any]:
    return {
        "seller_id": auction.seller_id,
        "kind": auction.kind,
        "lot_title": auction.lot_title,
        "start_price_fen": auction.start_price_fen,
        "reserve_price_fen": auction.reserve_price_fen,
        "increment_fen": auction.increment_fen,
        "deposit_fen": auction.deposit_fen,
        "starts_at": auction.starts_at.isoformat(),
        "ends_at": auction.ends_at.isoformat(),
        "origin_kind": auction.origin_kind,
        "origin_id": auction.origin_id,
        "rerun_of_id": auction.rerun_of_id,
    }


def descending_rules(auction: Auction) -> DescendingRules:
    assert (
        auction.decrement_fen is not None
        and auction.step_s is not None
        and auction.floor_price_fen is not None
    )
    return DescendingRules(
        start_price_fen=auction.start_price_fen,
        decrement_fen=auction.decrement_fen,
        step_s=auction.step_s,
        floor_price_fen=auction.floor_price_fen,
        starts_at=auction.starts_at,
    )


async def lock_auction(unit: UnitOfWork, auction_id: int) -> Auction:
    """Load an auction under its row lock (FOR UPDATE on PostgreSQL; SQLite holds the write lock).

    Every change to an auction happens under this lock, so bids, registrations, closing and payment
    of one lot are serialized while different lots proceed in parallel.
    """
    return await lock_row(unit, Auction, auction_id, code="auction_not_found", noun="auction", field="id")


async def cancel_auction(
    unit: UnitOfWork,
    auction_id: int,
    actor_id: int,
    *,
    is_admin: bool,
    reason: str,
    origins: dict[str, OriginHandler],
) -> Auction:
    """The seller or an admin cancels a running lot before its first bid; an admin also cancels a
    lot set aside after its close failed, bids or not (every deposit is released)."""
    auction = await lock_auction(unit, auction_id)
    if auction.seller_id != actor_id and not is_admin:
        raise Forbidden("not_your_auction", "only the seller or an admin may cancel an auction")
    set_aside = auction.state == AuctionState.SET_ASIDE
    if set_aside and not is_admin:
        raise Forbidden("admin_only", "only an admin may cancel an auction set aside after a failed close")
    if auction.state not in RUNNING_STATES and not set_aside:
        raise Conflict(
            "auction_not_running", f"the auction is {auction.state}; only a running auction can be cancelled"
        )
    if auction.bid_count > 0 and not set_aside:
        raise Conflict("auction_has_bids", "an auction can be cancelled only before its first bid")
    if not reason.strip():
        raise DomainError("reason_required", "a cancellation needs a reason", field="reason")
    registrations = (
        await unit.session.execute(select(Registration).where(Registration.auction_id == auction.id))
    ).scalars()
    for registration in registrations:
        await release_deposit(unit, registration, "deposit_refund_cancelled")
    auction.state = AuctionState.CANCELLED.value
    auction.cancel_reason = reason.strip()
    auction.closed_at = unit.now
    if set_aside:
        await resolve_close_failures(unit, [auction.id])
    origin = handler_for(origins, auction.origin_kind)
    if origin is not None:
        await origin.cancelled(unit, auction)
    unit.record("auction.cancelled", f"auction:{auction.id}", {"reason": auction.cancel_reason})
    unit.publish(f"auction:{auction.id}", {"event": "cancelled", "reason": auction.cancel_reason})
    return auction


async def release_deposit(unit: UnitOfWork, registration: Registration, code: str) -> None:
    if registration.deposit_hold_id is not None and registration.deposit_state == "held":
        await ledger.void_hold(
            unit, f"{registration.deposit_hold_id}:void", pending_id=registration.deposit_hold_id, code=code
        )
    registration.deposit_state = "refunded"


async def resolve_close_failures(unit: UnitOfWork, auction_ids: Sequence[int]) -> None:
    """Lots set aside after a failed close are closed or cancelled now: their failure records stay
    as history, with no retry (auction.close_isolation)."""
    if auction_ids:
        await unit.session.execute(
            update(CloseFailure)
            .where(CloseFailure.auction_id.in_(list(auction_ids)), CloseFailure.resolved_at.is_(None))
            .values(resolved_at=unit.now, retry_at=None)
        )


async def withdraw_auction(unit: UnitOfWork, auction_id: int, reason: str) -> Auction | None:
    """The lot's origin takes it back (its loan defaulted, or was repaid in full): a running lot is
    cancelled whatever its bids, and a winner who has not paid yet gets its deposit back from
    escrow. Returns the auction if it was withdrawn, None if it had already ended."""
    auction = await lock_auction(unit, auction_id)
    if auction.state not in (*RUNNING_STATES, AuctionState.SET_ASIDE, AuctionState.AWAITING_PAYMENT):
        return None
    registrations = (
        (await unit.session.execute(select(Registration).where(Registration.auction_id == auction.id)))
        .scalars()
        .all()
    )
    escrow_id = await ledger.account_id(unit.session, ledger.center_account_key(ledger.ESCROW))
    for registration in registrations:
        if registration.deposit_state == "applied" and registration.deposit_hold_id is not None:
            await ledger.post_transfer(
                unit,
                f"{registration.deposit_hold_id}:return",
                debit_account_id=escrow_id,
                credit_account_id=await ledger.participant_account_id(
                    unit.session, registration.bidder_id, ledger.AVAILABLE
                ),
                amount_fen=registration.deposit_fen,
                code="deposit_refund_withdrawn",
                reference=f"auction:{auction.id}",
            )
            registration.deposit_state = "refunded"
        else:
            await release_deposit(unit, registration, "deposit_refund_withdrawn")
    if auction.state == AuctionState.SET_ASIDE:
        await resolve_close_failures(unit, [auction.id])
    auction.state = AuctionState.CANCELLED.value
    auction.cancel_reason = reason
    auction.payment_due_at = None
    auction.closed_at = auction.closed_at or unit.now
    unit.record("auction.withdrawn", f"auction:{auction.id}", {"reason": reason})
    unit.publish(f"auction:{auction.id}", {"event": "cancelled", "reason": reason})
    return auction
