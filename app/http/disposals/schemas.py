"""Disposal bodies and answers: money as yuan strings, times ISO-8601 with offset."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from app.http.auctions.schemas import Seconds, require_aware
from app.http.input_bounds import multi_line_text, text
from auction.disposal.cases import MAX_DESCRIPTION_LENGTH, MAX_REASON_LENGTH, DefaultSpec
from auction.disposal.queries import CaseView
from auction.disposal.steps import RoundSpec
from transfer.kernel.money import format_fen, parse_yuan


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _money(value: int | None) -> str | None:
    return None if value is None else format_fen(value)


class DefaultIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, multi_line_text(MAX_REASON_LENGTH + 20, min_length=1)]
    accrued_interest: str
    penalty_interest: str | None = None
    realization_costs: str | None = None
    auto_advance: bool | None = None

    def to_spec(self) -> DefaultSpec:
        return DefaultSpec(
            reason=self.reason,
            accrued_interest_fen=parse_yuan(self.accrued_interest, "accrued_interest", allow_zero=True),
            penalty_interest_fen=0
            if self.penalty_interest is None
            else parse_yuan(self.penalty_interest, "penalty_interest", allow_zero=True),
            realization_costs_fen=0
            if self.realization_costs is None
            else parse_yuan(self.realization_costs, "realization_costs", allow_zero=True),
            auto_advance=self.auto_advance,
        )


class CostIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: str
    description: Annotated[str, text(MAX_DESCRIPTION_LENGTH + 20, min_length=1)]


class RoundIn(msgspec.Struct, forbid_unknown_fields=True):
    starts_at: datetime
    ends_at: datetime
    increment: str
    deposit: str
    start_price: str | None = None
    extension_window_s: Seconds | None = None
    extension_s: Seconds | None = None

    def to_spec(self) -> RoundSpec:
        return RoundSpec(
            starts_at=require_aware(self.starts_at, "starts_at"),
            ends_at=require_aware(self.ends_at, "ends_at"),
            increment_fen=parse_yuan(self.increment, "increment"),
            deposit_fen=parse_yuan(self.deposit, "deposit", allow_zero=True),
            start_price_fen=None if self.start_price is None else parse_yuan(self.start_price, "start_price"),
            extension_window_s=self.extension_window_s,
            extension_s=self.extension_s,
        )


class TakeInPaymentIn(msgspec.Struct, forbid_unknown_fields=True):
    decision: Literal["accept", "decline"]


class SurplusPayoutIn(msgspec.Struct, forbid_unknown_fields=True):
    reference: Annotated[str, text(120, min_length=1)]


class ClaimOut(msgspec.Struct):
    principal: str
    interest: str
    penalty_interest: str
    costs: str
    interest_repaid: str
    total: str


class CollateralOut(msgspec.Struct):
    id: int
    kind: str
    registry_number: str
    title: str
    appraisal: str
    state: str


class StepOut(msgspec.Struct):
    number: int
    kind: str
    round: int | None
    result: str
    auction_id: int | None
    auction_state: str | None
    start_price: str | None
    increment: str | None
    deposit: str | None
    starts_at: str | None
    ends_at: str | None
    deadline_at: str | None
    final_price: str | None
    note: str | None
    created_at: str
    ended_at: str | None


class CostOut(msgspec.Struct):
    amount: str
    description: str
    created_at: str


class ProceedsOut(msgspec.Struct):
    price: str | None
    forfeited_deposits: str
    total: str


class WaterfallLineOut(msgspec.Struct):
    line: int
    part: str
    payee_id: int | None
    payee_name: str
    amount: str
    rule: str


class DisposalOut(msgspec.Struct):
    id: int
    loan_id: int
    creditor_id: int
    state: str
    outcome: str | None
    reason: str
    auto_advance: bool
    claim: ClaimOut
    appraisal: str
    collateral: list[CollateralOut]
    steps: list[StepOut]
    current_step: int | None
    deadline_at: str | None
    costs: list[CostOut]
    proceeds: ProceedsOut
    waterfall: list[WaterfallLineOut]
    shortfall: str | None
    surplus: str | None
    surplus_paid_at: str | None
    surplus_reference: str | None
    created_at: str
    ended_at: str | None

    @classmethod
    def of(cls, view: CaseView) -> DisposalOut:
        case = view.case
        current = view.current_step
        return cls(
            id=case.id,
            loan_id=case.loan_id,
            creditor_id=case.creditor_id,
            state=case.state,
            outcome=case.outcome,
            reason=case.reason,
            auto_advance=case.auto_advance,
            claim=ClaimOut(
                principal=format_fen(case.principal_fen),
                interest=format_fen(case.interest_fen),
                penalty_interest=format_fen(case.penalty_interest_fen),
                costs=format_fen(case.costs_fen),
                interest_repaid=format_fen(case.interest_repaid_fen),
                total=format_fen(
                    case.principal_fen + case.interest_fen + case.penalty_interest_fen + case.costs_fen
                ),
            ),
            appraisal=format_fen(case.appraisal_fen),
            collateral=[
                CollateralOut(
                    item.id,
                    item.kind,
                    item.registry_number,
                    item.title,
                    format_fen(item.appraisal_fen),
                    item.state,
                )
                for item in view.collateral
            ],
            steps=[
                StepOut(
                    number=step.number,
                    kind=step.kind,
                    round=step.round_no,
                    result=step.result,
                    auction_id=step.auction_id,
                    auction_state=None if auction is None else auction.state,
                    start_price=_money(step.start_price_fen),
                    increment=_money(step.increment_fen),
                    deposit=_money(step.deposit_fen),
                    starts_at=_iso(step.starts_at),
                    ends_at=_iso(auction.ends_at if auction is not None else step.ends_at),
                    deadline_at=_iso(step.deadline_at),
                    final_price=None if auction is None else _money(auction.final_price_fen),
                    note=step.note,
                    created_at=step.created_at.isoformat(),
                    ended_at=_iso(step.ended_at),
                )
                for step, auction in view.steps
            ],
            current_step=None if current is None else current.number,
            deadline_at=_iso(case.deadline_at),
            costs=[
                CostOut(format_fen(c.amount_fen), c.description, c.created_at.isoformat()) for c in view.costs
            ],
            proceeds=ProceedsOut(
                price=_money(case.price_fen),
                forfeited_deposits=format_fen(case.forfeited_deposits_fen),
                total=format_fen((case.price_fen or 0) + case.forfeited_deposits_fen),
            ),
            waterfall=[
                WaterfallLineOut(
                    line.line,
                    line.part,
                    line.payee_id,
                    line.payee_name,
                    format_fen(line.amount_fen),
                    line.rule,
                )
                for line in view.waterfall
            ],
            shortfall=_money(case.shortfall_fen),
            surplus=_money(case.surplus_fen),
            surplus_paid_at=_iso(case.surplus_paid_at),
            surplus_reference=case.surplus_reference,
            created_at=case.created_at.isoformat(),
            ended_at=_iso(case.ended_at),
        )


class DisposalPage(msgspec.Struct):
    items: list[DisposalOut]
    total: int
    limit: int
    offset: int
