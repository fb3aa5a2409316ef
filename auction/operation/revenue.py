"""Booking a pool's revenue: once per reference, from the agency's funds into the pool's account,
split over the pool's assets and their earn-outs (auction.operation.rules.revenue); the agency's
part goes back to its available funds at once. Where an earn-out goes inside its source case is the
disposal package's (auction.disposal.earn_outs), which calls this.

The pool's row lock serializes a pool's bookings: a reference is checked and an earn-out's paid
part read and raised by one booking at a time. Set-based for a pool of thousands of assets: the
assets are read as columns, their paid parts raised in one statement, the lines written in one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auction.operation.models import OperationPool, PoolAsset, PoolLicense, PoolLine, PoolRevenue
from auction.operation.pools import pool_account_key, pool_not_found
from auction.operation.rules.revenue import AssetShare, AssetTerms, split_revenue
from transfer import ledger
from transfer.kernel.bulk import insert_rows, update_rows
from transfer.kernel.errors import Conflict, DomainError, InsufficientFunds, NotFound
from transfer.kernel.locking import lock_row
from transfer.kernel.money import MAX_AMOUNT_FEN
from transfer.kernel.unit_of_work import UnitOfWork

MAX_REFERENCE_LENGTH = 100
AGENCY = "agency"


@dataclass(frozen=True, slots=True)
class RevenueSpec:
    amount_fen: int
    received_on: date
    reference: str
    license_id: int | None = None


@dataclass(frozen=True, slots=True)
class EarnOutDue:
    asset_id: int
    case_id: int
    share_bps: int
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Booked:
    revenue: PoolRevenue
    agency_id: int
    pool_account_id: int
    due: list[EarnOutDue]
    # The revenue's way in and the agency's part back, not posted yet: the caller posts them with
    # the earn-outs' in one write.
    movements: list[ledger.Movement]


@dataclass(frozen=True, slots=True)
class _Asset:
    """A pool asset as the split reads it: columns, not an ORM entity (a pool holds thousands)."""

    id: int
    acquisition_price_fen: int
    share_bps: int | None
    cap_fen: int | None
    until: datetime | None
    paid_fen: int
    source_case_id: int

    def terms(self, now: datetime) -> AssetTerms:
        running = self.share_bps is not None and self.until is not None and now < self.until
        return AssetTerms(
            self.id,
            self.acquisition_price_fen,
            earn_out_share_bps=self.share_bps if running else None,
            earn_out_cap_fen=self.cap_fen or 0,
            earn_out_paid_fen=self.paid_fen,
        )


async def _assets(unit: UnitOfWork, pool: OperationPool, license_id: int | None) -> list[_Asset]:
    query = select(
        PoolAsset.id,
        PoolAsset.acquisition_price_fen,
        PoolAsset.earn_out_share_bps,
        PoolAsset.earn_out_cap_fen,
        PoolAsset.earn_out_until,
        PoolAsset.earn_out_paid_fen,
        PoolAsset.source_case_id,
    ).where(PoolAsset.pool_id == pool.id)
    if license_id is not None:
        licence = await unit.session.get(PoolLicense, license_id)
        if licence is None or licence.pool_id != pool.id:
            raise NotFound(
                "license_not_found", f"pool {pool.id} has no licence {license_id}", field="license_id"
            )
        # Revenue under a licence belongs to that licence's asset alone.
        query = query.where(PoolAsset.id == licence.asset_id)
    rows = (await unit.session.execute(query.order_by(PoolAsset.id))).all()
    if not rows:
        raise Conflict("pool_empty", f"pool {pool.id} holds no asset to book revenue on", field="id")
    return [_Asset(*row) for row in rows]


async def _raise_paid(unit: UnitOfWork, assets: Sequence[_Asset], shares: Sequence[AssetShare]) -> None:
    """Each earning asset's paid part grows by its earn-out, in one statement (the pool's lock
    keeps every other booking of the pool off these rows)."""
    await update_rows(
        unit.session,
        cast(Table, PoolAsset.__table__),
        "id",
        [
            {"id": asset.id, "earn_out_paid_fen": asset.paid_fen + share.earn_out_fen}
            for asset, share in zip(assets, shares, strict=True)
            if share.earn_out_fen > 0
        ],
    )


async def book(unit: UnitOfWork, pool_id: int, agency_id: int, spec: RevenueSpec) -> Booked:
    """The revenue row and the assets' paid parts; the money's movements are returned, not posted."""
    reference = spec.reference.strip()
    if not reference or len(reference) > MAX_REFERENCE_LENGTH:
        raise DomainError(
            "reference_required",
            f"reference must be 1 to {MAX_REFERENCE_LENGTH} characters",
            field="reference",
        )
    if not 0 < spec.amount_fen <= MAX_AMOUNT_FEN:
        raise DomainError(
            "amount_out_of_range", "amount must be positive and at most the largest amount", field="amount"
        )
    try:
        pool = await lock_row(unit, OperationPool, pool_id, code="pool_not_found", noun="pool", field="id")
    except NotFound:
        raise pool_not_found(pool_id, "id") from None
    if pool.agency_id != agency_id:
        raise pool_not_found(pool_id, "id")
    booked_before = (
        await unit.session.execute(
            select(PoolRevenue.id).where(PoolRevenue.pool_id == pool.id, PoolRevenue.reference == reference)
        )
    ).scalar_one_or_none()
    if booked_before is not None:
        raise Conflict(
            "reference_used",
            f"reference {reference} is already booked as revenue {booked_before}",
            field="reference",
        )
    assets = await _assets(unit, pool, spec.license_id)
    # The whole revenue comes from the agency's funds (it received it), though only the earn-outs
    # leave them: the net is what the commit's conditional update guards.
    funds = await ledger.balances(unit.session, agency_id)
    if funds.available_fen < spec.amount_fen:
        raise InsufficientFunds(agency_id, spec.amount_fen, funds.available_fen)
    shares = split_revenue(spec.amount_fen, [asset.terms(unit.now) for asset in assets])
    earn_out_fen = sum(share.earn_out_fen for share in shares)
    revenue = PoolRevenue(
        pool_id=pool.id,
        license_id=spec.license_id,
        amount_fen=spec.amount_fen,
        received_on=spec.received_on,
        reference=reference,
        earn_out_fen=earn_out_fen,
        agency_fen=spec.amount_fen - earn_out_fen,
        created_at=unit.now,
    )
    unit.session.add(revenue)
    await unit.session.flush()
    await _raise_paid(unit, assets, shares)
    agency_account = await ledger.participant_account_id(unit.session, agency_id, ledger.AVAILABLE)
    pool_account = await ledger.account_id(unit.session, pool_account_key(pool.id))
    movements = [
        ledger.Movement(
            f"pool_revenue:{revenue.id}:in",
            agency_account,
            pool_account,
            spec.amount_fen,
            "pool_revenue",
            reference,
        )
    ]
    if revenue.agency_fen:
        movements.append(
            ledger.Movement(
                f"pool_revenue:{revenue.id}:agency",
                pool_account,
                agency_account,
                revenue.agency_fen,
                "pool_revenue_agency",
                reference,
            )
        )
    due = [
        EarnOutDue(asset.id, asset.source_case_id, asset.share_bps or 0, share.earn_out_fen)
        for asset, share in zip(assets, shares, strict=True)
        if share.earn_out_fen > 0
    ]
    return Booked(revenue, agency_id, pool_account, due, movements)


async def write_lines(unit: UnitOfWork, booked: Booked, lines: Sequence[dict[str, Any]]) -> None:
    """The revenue's lines: the agency's part first, then the earn-outs' (given in order)."""
    revenue = booked.revenue
    rows: list[dict[str, Any]] = []
    if revenue.agency_fen:
        rows.append(
            {
                "part": AGENCY,
                "asset_id": None,
                "case_id": None,
                "payee_id": booked.agency_id,
                "amount_fen": revenue.agency_fen,
                "rule": "the rest of the revenue after earn-outs, to the agency's available funds",
            }
        )
    rows.extend(lines)
    numbered = [{"revenue_id": revenue.id, "line": number, **row} for number, row in enumerate(rows, start=1)]
    assert sum(row["amount_fen"] for row in numbered) == revenue.amount_fen
    await insert_rows(unit.session, cast(Table, PoolLine.__table__), numbered)


async def list_revenues(session: AsyncSession, pool_id: int, *, limit: int) -> list[PoolRevenue]:
    rows = await session.execute(
        select(PoolRevenue).where(PoolRevenue.pool_id == pool_id).order_by(PoolRevenue.id.desc()).limit(limit)
    )
    return list(rows.scalars())


@dataclass(frozen=True, slots=True)
class MonthRevenue:
    month: str  # YYYY-MM of received_on
    amount_fen: int
    earn_out_fen: int
    agency_fen: int


async def revenue_by_month(session: AsyncSession, pool_id: int, *, since: date) -> list[MonthRevenue]:
    """The pool's revenue received on or after `since`, summed by calendar month, oldest first.
    Summed per day in SQL (the same on both databases), per month here: a year is at most 366 rows."""
    rows = await session.execute(
        select(
            PoolRevenue.received_on,
            func.sum(PoolRevenue.amount_fen),
            func.sum(PoolRevenue.earn_out_fen),
            func.sum(PoolRevenue.agency_fen),
        )
        .where(PoolRevenue.pool_id == pool_id, PoolRevenue.received_on >= since)
        .group_by(PoolRevenue.received_on)
        .order_by(PoolRevenue.received_on)
    )
    months: dict[str, list[int]] = {}
    for received_on, amount_fen, earn_out_fen, agency_fen in rows.all():
        totals = months.setdefault(f"{received_on:%Y-%m}", [0, 0, 0])
        totals[0] += int(amount_fen)
        totals[1] += int(earn_out_fen)
        totals[2] += int(agency_fen)
    return [MonthRevenue(month, *totals) for month, totals in months.items()]


async def revenue_lines(
    session: AsyncSession, pool_id: int, revenue_id: int, *, limit: int, offset: int
) -> tuple[list[PoolLine], int]:
    revenue = await session.get(PoolRevenue, revenue_id)
    if revenue is None or revenue.pool_id != pool_id:
        raise NotFound("revenue_not_found", f"pool {pool_id} has no revenue {revenue_id}", field="revenue_id")
    total = (
        await session.execute(
            select(func.count()).select_from(PoolLine).where(PoolLine.revenue_id == revenue_id)
        )
    ).scalar_one()
    rows = await session.execute(
        select(PoolLine)
        .where(PoolLine.revenue_id == revenue_id)
        .order_by(PoolLine.line)
        .limit(limit)
        .offset(offset)
    )
    return list(rows.scalars()), int(total)
