"""Compensation bodies and answers: money as yuan strings, shares in basis points and ppm."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from app.http.input_bounds import Id, Yuan, text
from transfer.compensation.funds import MAX_NAME_LENGTH, MAX_REGION_LENGTH, FundSpec
from transfer.compensation.queries import FundView, LineRow
from transfer.kernel.money import format_fen, parse_yuan
from transfer.models.compensation import CompensationEnrolment, CompensationFund

Bps = Annotated[int, msgspec.Meta(ge=0, le=10_000)]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _money(value: int | None) -> str | None:
    return None if value is None else format_fen(value)


class FundIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, text(MAX_NAME_LENGTH, min_length=1)]
    region: Annotated[str, text(MAX_REGION_LENGTH, min_length=1)]
    fund_share_bps: Annotated[int, msgspec.Meta(ge=1, le=10_000)]
    per_loan_cap: Yuan
    ip_share_min_bps: Bps | None = None
    covers: Literal["principal"] = "principal"

    def to_spec(self) -> FundSpec:
        return FundSpec(
            name=self.name,
            region=self.region,
            fund_share_bps=self.fund_share_bps,
            per_loan_cap_fen=parse_yuan(self.per_loan_cap, "per_loan_cap"),
            ip_share_min_bps=self.ip_share_min_bps,
            covers=self.covers,
        )


class EnrolIn(msgspec.Struct, forbid_unknown_fields=True):
    fund_id: Id


class EnrolmentOut(msgspec.Struct):
    id: int
    fund_id: int
    loan_id: int
    state: str
    ip_share_ppm: int
    enrolled_at: str
    disposal_id: int | None
    principal_at_default: str | None
    covered_base: str | None
    advance: str
    fund_shortfall: str
    final_loss: str | None
    final_share: str | None
    top_up: str
    refunded: str
    owed: str
    advanced_at: str | None
    cleared_at: str | None

    @classmethod
    def of(cls, enrolment: CompensationEnrolment) -> EnrolmentOut:
        return cls(
            id=enrolment.id,
            fund_id=enrolment.fund_id,
            loan_id=enrolment.loan_id,
            state=enrolment.state,
            ip_share_ppm=enrolment.ip_share_ppm,
            enrolled_at=enrolment.enrolled_at.isoformat(),
            disposal_id=enrolment.case_id,
            principal_at_default=_money(enrolment.principal_at_default_fen),
            covered_base=_money(enrolment.covered_base_fen),
            advance=format_fen(enrolment.advance_fen),
            fund_shortfall=format_fen(enrolment.fund_shortfall_fen),
            final_loss=_money(enrolment.final_loss_fen),
            final_share=_money(enrolment.final_share_fen),
            top_up=format_fen(enrolment.top_up_fen),
            refunded=format_fen(enrolment.refunded_fen),
            owed=format_fen(enrolment.owed_fen),
            advanced_at=_iso(enrolment.advanced_at),
            cleared_at=_iso(enrolment.cleared_at),
        )


class FundOut(msgspec.Struct):
    id: int
    name: str
    region: str
    fund_share_bps: int
    per_loan_cap: str
    ip_share_min_bps: int | None
    covers: str
    created_at: str

    @classmethod
    def of(cls, fund: CompensationFund) -> FundOut:
        return cls(
            id=fund.id,
            name=fund.name,
            region=fund.region,
            fund_share_bps=fund.fund_share_bps,
            per_loan_cap=format_fen(fund.per_loan_cap_fen),
            ip_share_min_bps=fund.ip_share_min_bps,
            covers=fund.covers,
            created_at=fund.created_at.isoformat(),
        )


class FundDetailOut(msgspec.Struct):
    fund: FundOut
    balance: str
    enrolments_by_state: dict[str, int]
    advanced: str
    topped_up: str
    refunded: str
    owed: str
    fund_shortfall: str
    exposure: str
    enrolments: list[EnrolmentOut]
    enrolment_total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, view: FundView, limit: int, offset: int) -> FundDetailOut:
        return cls(
            fund=FundOut.of(view.fund),
            balance=format_fen(view.balance_fen),
            enrolments_by_state=view.enrolments_by_state,
            advanced=format_fen(view.advanced_fen),
            topped_up=format_fen(view.topped_up_fen),
            refunded=format_fen(view.refunded_fen),
            owed=format_fen(view.owed_fen),
            fund_shortfall=format_fen(view.shortfall_fen),
            exposure=format_fen(view.exposure_fen),
            enrolments=[EnrolmentOut.of(enrolment) for enrolment in view.enrolments],
            enrolment_total=view.enrolment_total,
            limit=limit,
            offset=offset,
        )


class FundPage(msgspec.Struct):
    items: list[FundOut]
    total: int
    limit: int
    offset: int


class CompensationLineOut(msgspec.Struct):
    id: int
    fund_id: int
    fund_name: str
    loan_id: int
    kind: str
    holder_id: int
    holder_name: str
    amount: str
    transfer_id: str | None
    created_at: str

    @classmethod
    def of(cls, row: LineRow) -> CompensationLineOut:
        line = row.line
        return cls(
            id=line.id,
            fund_id=line.fund_id,
            fund_name=row.fund_name,
            loan_id=line.loan_id,
            kind=line.kind,
            holder_id=line.holder_id,
            holder_name=row.holder_name,
            amount=format_fen(line.amount_fen),
            transfer_id=line.transfer_id,
            created_at=line.created_at.isoformat(),
        )


REPORT_HEADER = [
    "line_id",
    "created_at",
    "loan_id",
    "kind",
    "holder_id",
    "holder_name",
    "amount",
    "transfer_id",
]


def report_row(row: LineRow) -> list[str]:
    line = row.line
    return [
        str(line.id),
        line.created_at.isoformat(),
        str(line.loan_id),
        line.kind,
        str(line.holder_id),
        row.holder_name,
        format_fen(line.amount_fen),
        line.transfer_id or "",
    ]
