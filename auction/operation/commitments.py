"""Standing commitments: an agency's held budget that makes offers by itself.

A case that opens, or enters its buyout window, with collateral only of the commitment's kinds gets
an offer at `price_bps_of_appraisal` of its appraisal, rounded down to the fen, capped by
`max_price_per_case`; a price above the commitment's unheld budget gets no offer from it. The offer
moves its price out of the budget's hold into its own (auction.operation.budget), so the budget is
never passed, whatever number of cases open or accept at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auction.operation import budget, offers
from auction.operation.models import BuyoutCommitment, BuyoutOffer
from auction.operation.policy import OperationPolicy
from auction.operation.pools import EarnOutTerms, own_pool
from auction.operation.terms import BPS_WHOLE, check_earn_out, check_price, check_valid_until
from transfer import ledger
from transfer.kernel.errors import Conflict, DomainError, Forbidden
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.rules.collateral import CollateralKind

LIVE = budget.LIVE
WITHDRAWN = "withdrawn"
EXPIRED = "expired"
EXPIRY_BATCH_SIZE = 100
COLLATERAL_KINDS = frozenset(kind.value for kind in CollateralKind)


@dataclass(frozen=True, slots=True)
class CommitmentSpec:
    pool_id: int
    kinds: Sequence[str]
    price_bps_of_appraisal: int
    max_price_per_case_fen: int
    budget_fen: int
    valid_until: datetime
    earn_out: EarnOutTerms | None = None


@dataclass(frozen=True, slots=True)
class CaseForOffers:
    """What a commitment needs to know of a case: its id, summed appraisal and collateral kinds."""

    case_id: int
    appraisal_fen: int
    kinds: frozenset[str]


def _kinds(kinds: Sequence[str]) -> list[str]:
    wanted = sorted(set(kinds))
    if not wanted:
        raise DomainError("kinds_required", "kinds must name at least one collateral kind", field="kinds")
    unknown = [kind for kind in wanted if kind not in COLLATERAL_KINDS]
    if unknown:
        raise DomainError(
            "unknown_kind",
            f"unknown collateral kind {', '.join(unknown)}; kinds are {', '.join(sorted(COLLATERAL_KINDS))}",
            field="kinds",
        )
    return wanted


async def create_commitment(
    unit: UnitOfWork, agency_id: int, spec: CommitmentSpec, policy: OperationPolicy
) -> BuyoutCommitment:
    kinds = _kinds(spec.kinds)
    if not 0 < spec.price_bps_of_appraisal <= BPS_WHOLE:
        raise DomainError(
            "share_out_of_range",
            f"price_bps_of_appraisal must lie between 1 and {BPS_WHOLE}",
            field="price_bps_of_appraisal",
        )
    check_price(spec.max_price_per_case_fen, "max_price_per_case")
    check_price(spec.budget_fen, "budget")
    check_valid_until(spec.valid_until, unit.now, policy, "valid_until")
    earn_out = check_earn_out(spec.earn_out, unit.now, policy)
    await own_pool(unit, spec.pool_id, agency_id, "pool_id")
    commitment = BuyoutCommitment(
        agency_id=agency_id,
        pool_id=spec.pool_id,
        kinds=json.dumps(kinds),
        price_bps_of_appraisal=spec.price_bps_of_appraisal,
        max_price_per_case_fen=spec.max_price_per_case_fen,
        budget_fen=spec.budget_fen,
        unheld_fen=0,
        offered_fen=0,
        spent_fen=0,
        released_fen=spec.budget_fen,
        hold_generation=0,
        earn_out_share_bps=None if earn_out is None else earn_out.revenue_share_bps,
        earn_out_cap_fen=None if earn_out is None else earn_out.cap_fen,
        earn_out_until=None if earn_out is None else earn_out.until,
        valid_until=spec.valid_until,
        state=LIVE,
        created_at=unit.now,
    )
    unit.session.add(commitment)
    await unit.session.flush()
    # The whole budget moves from "released" into the hold: the one path that makes the hold.
    commitment.released_fen = 0
    await budget.hold_unheld(unit, commitment, spec.budget_fen)
    await unit.session.flush()
    # Funds are checked now, not at commit, so the agency hears "insufficient funds" for this request.
    await ledger.apply_balance_deltas(unit)
    unit.record(
        "commitment.created",
        f"commitment:{commitment.id}",
        {
            "agency_id": agency_id,
            "pool_id": spec.pool_id,
            "kinds": kinds,
            "price_bps_of_appraisal": spec.price_bps_of_appraisal,
            "max_price_per_case_fen": spec.max_price_per_case_fen,
            "budget_fen": spec.budget_fen,
            "valid_until": spec.valid_until.isoformat(),
        },
    )
    return commitment


def price_for(commitment: BuyoutCommitment, appraisal_fen: int) -> int:
    """The commitment's price for a case: its share of the appraisal rounded down, capped."""
    return min(
        appraisal_fen * commitment.price_bps_of_appraisal // BPS_WHOLE, commitment.max_price_per_case_fen
    )


def kinds_of(commitment: BuyoutCommitment) -> frozenset[str]:
    return frozenset(json.loads(commitment.kinds))


async def make_offers(unit: UnitOfWork, case: CaseForOffers, policy: OperationPolicy) -> list[BuyoutOffer]:
    """Every live commitment whose kinds cover the case's offers on it once (the caller holds the
    case's lock). Commitments are locked in id order, after the case, as everywhere."""
    if not case.kinds:
        return []
    commitments = (
        await unit.session.execute(
            select(BuyoutCommitment)
            .where(BuyoutCommitment.state == LIVE, BuyoutCommitment.valid_until > unit.now)
            .order_by(BuyoutCommitment.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalars()
    already = set(
        (
            await unit.session.execute(
                select(BuyoutOffer.commitment_id).where(
                    BuyoutOffer.case_id == case.case_id,
                    BuyoutOffer.state == offers.LIVE,
                    BuyoutOffer.commitment_id.is_not(None),
                )
            )
        ).scalars()
    )
    made = []
    for commitment in list(commitments):
        price_fen = price_for(commitment, case.appraisal_fen)
        if commitment.id in already or not case.kinds <= kinds_of(commitment):
            continue
        if price_fen <= 0 or price_fen > commitment.unheld_fen:
            continue
        commitment.offered_fen += price_fen
        await budget.hold_unheld(unit, commitment, commitment.unheld_fen - price_fen)
        spec = offers.OfferSpec(
            price_fen=price_fen,
            pool_id=commitment.pool_id,
            valid_until=commitment.valid_until,
            earn_out=earn_out_of(commitment),
        )
        made.append(
            await offers.place_offer(
                unit, case.case_id, commitment.agency_id, spec, policy, commitment_id=commitment.id
            )
        )
    return made


def earn_out_of(commitment: BuyoutCommitment) -> EarnOutTerms | None:
    if commitment.earn_out_share_bps is None:
        return None
    assert commitment.earn_out_cap_fen is not None and commitment.earn_out_until is not None
    return EarnOutTerms(commitment.earn_out_share_bps, commitment.earn_out_cap_fen, commitment.earn_out_until)


async def end_commitment(unit: UnitOfWork, commitment: BuyoutCommitment, state: str) -> int:
    """Withdrawn or expired: the unheld budget is released; live offers keep their holds."""
    released_fen = await budget.release_unheld(unit, commitment)
    commitment.state = state
    commitment.ended_at = unit.now
    unit.record(f"commitment.{state}", f"commitment:{commitment.id}", {"released_fen": released_fen})
    return released_fen


async def withdraw_commitment(unit: UnitOfWork, commitment_id: int, agency_id: int) -> BuyoutCommitment:
    commitment = await budget.lock_commitment(unit, commitment_id)
    if commitment.agency_id != agency_id:
        raise Forbidden(
            "not_your_commitment", "only the agency that made a commitment withdraws it", field="id"
        )
    if commitment.state != LIVE:
        raise Conflict("commitment_not_live", f"commitment {commitment.id} is {commitment.state}", field="id")
    await end_commitment(unit, commitment, WITHDRAWN)
    return commitment


def commitment_due(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    return and_(BuyoutCommitment.state == LIVE, BuyoutCommitment.valid_until <= now)


async def expire_due(unit: UnitOfWork, limit: int = EXPIRY_BATCH_SIZE) -> int:
    due = (
        await unit.session.execute(
            select(BuyoutCommitment)
            .where(commitment_due(unit.now))
            .order_by(BuyoutCommitment.valid_until, BuyoutCommitment.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
    ).scalars()
    count = 0
    for commitment in list(due):
        await end_commitment(unit, commitment, EXPIRED)
        count += 1
    return count


async def list_commitments(
    session: AsyncSession, viewer_id: int, viewer_roles: Iterable[str], *, limit: int, offset: int
) -> tuple[list[BuyoutCommitment], int]:
    """The agency's own commitments, newest first (an admin's page holds all)."""
    query = select(BuyoutCommitment)
    if "admin" not in set(viewer_roles):
        query = query.where(BuyoutCommitment.agency_id == viewer_id)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(query.order_by(BuyoutCommitment.id.desc()).limit(limit).offset(offset))
    return list(rows.scalars()), int(total)
