"""Centralized sessions (集中拍卖): many lots, many creditors, one scheduled event.

Lot i (from 0) ends at first_lot_ends_at + i × stagger_s, each its own English auction (a soft
close moves only its own lot). A lot sells the collateral of one case or of several (a bundle, e.g.
a patent family pledged to two banks): it is a round of each of its cases, with each round's limits,
and starts at no less than the sum of its cases' minimums. A bidder carries one paddle for the whole
session and holds one deposit per lot it registers for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from auction.creation import AuctionSpec, create_auction
from auction.disposal.cases import lock_case
from auction.disposal.models import DisposalCase, DisposalSession, SessionLot, SessionPaddle
from auction.disposal.policy import DisposalPolicy
from auction.disposal.rules.bundles import bundle_minimum_fen, split_by_appraisal
from auction.disposal.rules.rounds import default_start_fen
from auction.disposal.steps import RoundSpec, collateral_of_cases, enter_session_round, session_round_minimum
from auction.models import Auction, Registration
from auction.origins import OriginKind
from auction.policy import RUNNING_STATES, AuctionKind, AuctionState
from auction.registration import register
from transfer.kernel.errors import DomainError, NotFound
from transfer.kernel.unit_of_work import RetryTransaction, UnitOfWork

MAX_LOTS = 10_000
MAX_CASES_PER_LOT = 20
MAX_TITLE_LENGTH = 300


@dataclass(frozen=True, slots=True)
class LotSpec:
    case_ids: tuple[int, ...]
    increment_fen: int
    deposit_fen: int
    start_price_fen: int | None = None


@dataclass(frozen=True, slots=True)
class SessionSpec:
    title: str
    starts_at: datetime
    first_lot_ends_at: datetime
    lots: tuple[LotSpec, ...]
    stagger_s: int | None = None


def _validate(spec: SessionSpec) -> str:
    title = spec.title.strip()
    if not title or len(title) > MAX_TITLE_LENGTH:
        raise DomainError(
            "title_required", f"title must be 1 to {MAX_TITLE_LENGTH} characters", field="title"
        )
    if not 1 <= len(spec.lots) <= MAX_LOTS:
        raise DomainError("lots_out_of_range", f"a session has 1 to {MAX_LOTS} lots", field="lots")
    seen: set[int] = set()
    for index, lot in enumerate(spec.lots):
        field = f"lots[{index}].disposal_ids"
        if not 1 <= len(lot.case_ids) <= MAX_CASES_PER_LOT:
            raise DomainError(
                "cases_out_of_range", f"a lot sells 1 to {MAX_CASES_PER_LOT} cases", field=field
            )
        repeated = seen.intersection(lot.case_ids) or (len(set(lot.case_ids)) != len(lot.case_ids))
        if repeated:
            raise DomainError("case_repeated", "a case is sold in one lot of a session only", field=field)
        seen.update(lot.case_ids)
    if spec.first_lot_ends_at <= spec.starts_at:
        raise DomainError(
            "ends_before_start", "first_lot_ends_at must be after starts_at", field="first_lot_ends_at"
        )
    return title


async def _lot_cases(unit: UnitOfWork, lot: LotSpec, field: str) -> list[DisposalCase]:
    cases = []
    for case_id in sorted(lot.case_ids):
        if await unit.session.get(DisposalCase, case_id) is None:
            raise NotFound("disposal_not_found", f"disposal case {case_id} does not exist", field=field)
        cases.append(await lock_case(unit, case_id))
    return cases


async def _put_up_lot(
    unit: UnitOfWork,
    session: DisposalSession,
    index: int,
    lot: LotSpec,
    spec: RoundSpec,
    policy: DisposalPolicy,
) -> SessionLot:
    field = f"lots[{index}]"
    cases = await _lot_cases(unit, lot, f"{field}.disposal_ids")
    minimums = [
        await session_round_minimum(unit, case, spec.starts_at, f"{field}.disposal_ids", policy)
        for case in cases
    ]
    minimum_fen = bundle_minimum_fen(minimums)
    start_fen = (
        lot.start_price_fen
        if lot.start_price_fen is not None
        else default_start_fen(minimum_fen, lot.increment_fen)
    )
    if start_fen < minimum_fen:
        raise DomainError(
            "start_price_below_minimum",
            f"lot {index} starts at no less than the sum of its cases' minimums, {minimum_fen / 100:,.2f}",
            field=f"{field}.start_price",
            extra={"minimum_fen": minimum_fen},
        )
    appraisals = {case.id: case.appraisal_fen for case in cases}
    row = SessionLot(
        session_id=session.id,
        position=index,
        case_ids=json.dumps(list(lot.case_ids)),
        appraisal_fen=sum(appraisals.values()),
        minimum_fen=minimum_fen,
    )
    unit.session.add(row)
    await unit.session.flush()
    shares = split_by_appraisal(start_fen, appraisals)
    for case in cases:
        await enter_session_round(unit, case, row.id, shares[case.id], spec)
    items = await collateral_of_cases(unit, cases)
    await create_auction(
        unit,
        cases[0].creditor_id,
        AuctionSpec(
            kind=AuctionKind.ENGLISH.value,
            lot_title=f"{session.title}, lot {index + 1}",
            lot_description="; ".join(f"{item.kind} {item.registry_number} {item.title}" for item in items)[
                :2000
            ],
            start_price_fen=start_fen,
            increment_fen=lot.increment_fen,
            deposit_fen=lot.deposit_fen,
            starts_at=spec.starts_at,
            ends_at=spec.ends_at,
            origin_kind=OriginKind.SESSION_LOT.value,
            origin_id=row.id,
            collateral_ids=[item.id for item in items],
        ),
        policy.auction,
    )
    return row


async def create_session(
    unit: UnitOfWork, admin_id: int, spec: SessionSpec, policy: DisposalPolicy, default_stagger_s: int
) -> DisposalSession:
    title = _validate(spec)
    stagger_s = default_stagger_s if spec.stagger_s is None else spec.stagger_s
    session = DisposalSession(
        title=title,
        starts_at=spec.starts_at,
        first_lot_ends_at=spec.first_lot_ends_at,
        stagger_s=stagger_s,
        lot_count=len(spec.lots),
        created_by=admin_id,
        created_at=unit.now,
    )
    unit.session.add(session)
    await unit.session.flush()
    for index, lot in enumerate(spec.lots):
        ends_at = spec.first_lot_ends_at + timedelta(seconds=index * stagger_s)
        round_spec = RoundSpec(spec.starts_at, ends_at, lot.increment_fen, lot.deposit_fen)
        await _put_up_lot(unit, session, index, lot, round_spec, policy)
    unit.record(
        "disposal.session_created",
        f"session:{session.id}",
        {"title": title, "lots": [list(lot.case_ids) for lot in spec.lots], "stagger_s": stagger_s},
    )
    return session


async def session_paddle(unit: UnitOfWork, session_id: int, bidder_id: int) -> int:
    """The bidder's paddle for the session, given at its first registration on any of its lots.

    No lock on the session: two first registrations racing for the same number collide on the
    unique key (PostgreSQL), and the loser's transaction runs again and takes the next one.
    """
    existing = await unit.session.get(SessionPaddle, (session_id, bidder_id))
    if existing is not None:
        return existing.paddle
    highest = (
        await unit.session.execute(
            select(func.coalesce(func.max(SessionPaddle.paddle), 0)).where(
                SessionPaddle.session_id == session_id
            )
        )
    ).scalar_one()
    paddle = SessionPaddle(
        session_id=session_id, bidder_id=bidder_id, paddle=int(highest) + 1, created_at=unit.now
    )
    unit.session.add(paddle)
    try:
        await unit.session.flush()
    except IntegrityError as error:
        raise RetryTransaction("session paddle taken concurrently") from error
    return paddle.paddle


async def register_for_session(
    unit: UnitOfWork, session_id: int, bidder_id: int, lot_ids: list[int], policy: DisposalPolicy
) -> list[tuple[SessionLot, Registration]]:
    """One paddle for the session, a deposit hold per lot: all of them, or none."""
    if await unit.session.get(DisposalSession, session_id) is None:
        raise NotFound("session_not_found", f"session {session_id} does not exist", field="id")
    if not lot_ids or len(set(lot_ids)) != len(lot_ids):
        raise DomainError("lot_ids_invalid", "lot_ids must name each lot once, at least one", field="lot_ids")
    lots = (
        (
            await unit.session.execute(
                select(SessionLot).where(SessionLot.id.in_(lot_ids), SessionLot.session_id == session_id)
            )
        )
        .scalars()
        .all()
    )
    missing = sorted(set(lot_ids) - {lot.id for lot in lots})
    if missing:
        raise DomainError(
            "lot_not_in_session", f"lot {missing[0]} is not a lot of session {session_id}", field="lot_ids"
        )
    # In auction id order, the order every registration locks lots in.
    registered = []
    for lot in sorted(lots, key=lambda lot: lot.auction_id or 0):
        assert lot.auction_id is not None
        registered.append((lot, await register(unit, lot.auction_id, bidder_id, policy.auction)))
    return registered


class SessionPhase(StrEnum):
    UPCOMING = "upcoming"
    LIVE = "live"
    ENDED = "ended"


def _has_running_lot() -> ColumnElement[bool]:
    """The session (correlated) has a lot still running or set aside."""
    running = [state.value for state in (*RUNNING_STATES, AuctionState.SET_ASIDE)]
    return exists(
        select(SessionLot.id)
        .join(Auction, Auction.id == SessionLot.auction_id)
        .where(SessionLot.session_id == DisposalSession.id, Auction.state.in_(running))
    )


def phase_of(session: DisposalSession, lots: list[tuple[SessionLot, Auction]], now: datetime) -> SessionPhase:
    if now < session.starts_at:
        return SessionPhase.UPCOMING
    running = (*RUNNING_STATES, AuctionState.SET_ASIDE)
    return SessionPhase.LIVE if any(auction.state in running for _, auction in lots) else SessionPhase.ENDED


async def list_sessions(
    session: AsyncSession, *, phase: str | None, now: datetime, limit: int, offset: int
) -> tuple[list[DisposalSession], int]:
    query = select(DisposalSession)
    if phase is not None:
        try:
            wanted = SessionPhase(phase)
        except ValueError:
            raise DomainError(
                "unknown_state",
                f"state must be one of {', '.join(p.value for p in SessionPhase)}",
                field="state",
            ) from None
        if wanted is SessionPhase.UPCOMING:
            query = query.where(DisposalSession.starts_at > now)
        elif wanted is SessionPhase.LIVE:
            query = query.where(DisposalSession.starts_at <= now, _has_running_lot())
        else:
            query = query.where(DisposalSession.starts_at <= now, ~_has_running_lot())
    total = int((await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one())
    rows = await session.execute(
        query.order_by(DisposalSession.starts_at, DisposalSession.id).limit(limit).offset(offset)
    )
    return list(rows.scalars()), total


async def get_session(session: AsyncSession, session_id: int) -> DisposalSession:
    found = await session.get(DisposalSession, session_id)
    if found is None:
        raise NotFound("session_not_found", f"session {session_id} does not exist", field="id")
    return found


async def lots_of(session: AsyncSession, session_id: int) -> list[tuple[SessionLot, Auction]]:
    rows = await session.execute(
        select(SessionLot, Auction)
        .join(Auction, Auction.id == SessionLot.auction_id)
        .where(SessionLot.session_id == session_id)
        .order_by(SessionLot.position)
    )
    return [(lot, auction) for lot, auction in rows.all()]
