"""Pool bodies and answers: money as yuan strings, times ISO-8601 with offset."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from app.http.input_bounds import Id, Yuan, check_date, multi_line_text, text
from app.http.licenses.schemas import LicenseOut
from auction.operation.models import OperationPool, PoolAsset, PoolLine, PoolRevenue
from auction.operation.pools import MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH
from auction.operation.queries import AssetView, PoolView
from auction.operation.revenue import MAX_REFERENCE_LENGTH, RevenueSpec
from transfer.kernel.money import format_fen, parse_yuan


class PoolIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, text(MAX_NAME_LENGTH, min_length=1, stripped=True)]
    description: Annotated[str, multi_line_text(MAX_DESCRIPTION_LENGTH, stripped=True)] | None = None


class EarnOutOut(msgspec.Struct):
    revenue_share_bps: int
    cap: str
    until: str
    paid: str


class AssetOut(msgspec.Struct):
    id: int
    collateral_id: int
    kind: str
    registry_number: str
    title: str
    acquisition_price: str
    acquired_at: str
    source_case_id: int
    earn_out: EarnOutOut | None

    @classmethod
    def of(cls, view: AssetView) -> AssetOut:
        asset: PoolAsset = view.asset
        earn_out = None
        if asset.earn_out_share_bps is not None:
            assert asset.earn_out_cap_fen is not None and asset.earn_out_until is not None
            earn_out = EarnOutOut(
                asset.earn_out_share_bps,
                format_fen(asset.earn_out_cap_fen),
                asset.earn_out_until.isoformat(),
                format_fen(asset.earn_out_paid_fen),
            )
        return cls(
            id=asset.id,
            collateral_id=asset.collateral_id,
            kind=view.item.kind,
            registry_number=view.item.registry_number,
            title=view.item.title,
            acquisition_price=format_fen(asset.acquisition_price_fen),
            acquired_at=asset.acquired_at.isoformat(),
            source_case_id=asset.source_case_id,
            earn_out=earn_out,
        )


class PoolSummary(msgspec.Struct):
    id: int
    agency_id: int
    name: str
    description: str | None
    created_at: str

    @classmethod
    def of(cls, pool: OperationPool) -> PoolSummary:
        return cls(pool.id, pool.agency_id, pool.name, pool.description, pool.created_at.isoformat())


class PoolOut(msgspec.Struct):
    id: int
    agency_id: int
    name: str
    description: str | None
    created_at: str
    # One page of the assets (asset_limit, asset_offset) and how many there are.
    assets: list[AssetOut]
    asset_total: int
    licenses: list[LicenseOut]
    # The latest revenues; each one's distribution lines: GET …/revenues/{id}/lines.
    revenues: list[RevenueOut]

    @classmethod
    def of(cls, view: PoolView) -> PoolOut:
        pool = view.pool
        return cls(
            id=pool.id,
            agency_id=pool.agency_id,
            name=pool.name,
            description=pool.description,
            created_at=pool.created_at.isoformat(),
            assets=[AssetOut.of(asset) for asset in view.assets],
            asset_total=view.asset_total,
            licenses=[LicenseOut.of(licence) for licence in view.licences],
            revenues=[RevenueOut.of(revenue) for revenue in view.revenues],
        )


class PoolPage(msgspec.Struct):
    items: list[PoolSummary]
    total: int
    limit: int
    offset: int


class RevenueIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Yuan
    received_on: date
    reference: Annotated[str, text(MAX_REFERENCE_LENGTH, min_length=1, stripped=True)]
    license_id: Id | None = None

    def to_spec(self) -> RevenueSpec:
        return RevenueSpec(
            amount_fen=parse_yuan(self.amount, "amount"),
            received_on=check_date(self.received_on, "received_on"),
            reference=self.reference,
            license_id=self.license_id,
        )


class RevenueOut(msgspec.Struct):
    id: int
    pool_id: int
    license_id: int | None
    amount: str
    received_on: str
    reference: str
    earn_out: str
    agency: str
    created_at: str

    @classmethod
    def of(cls, revenue: PoolRevenue) -> RevenueOut:
        return cls(
            id=revenue.id,
            pool_id=revenue.pool_id,
            license_id=revenue.license_id,
            amount=format_fen(revenue.amount_fen),
            received_on=revenue.received_on.isoformat(),
            reference=revenue.reference,
            earn_out=format_fen(revenue.earn_out_fen),
            agency=format_fen(revenue.agency_fen),
            created_at=revenue.created_at.isoformat(),
        )


class LineOut(msgspec.Struct):
    line: int
    part: str
    asset_id: int | None
    case_id: int | None
    payee_id: int | None
    amount: str
    rule: str

    @classmethod
    def of(cls, line: PoolLine) -> LineOut:
        return cls(
            line.line,
            line.part,
            line.asset_id,
            line.case_id,
            line.payee_id,
            format_fen(line.amount_fen),
            line.rule,
        )


class LinePage(msgspec.Struct):
    items: list[LineOut]
    total: int
    limit: int
    offset: int
