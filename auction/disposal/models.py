"""Disposal tables: cases (the claim fixed at default), their steps, costs, waterfall lines, bars."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from transfer.kernel.model_base import Base, IdType, UTCDateTime


class DisposalCase(Base):
    """The disposal of one defaulted loan's collateral, from default to its outcome."""

    __tablename__ = "disposal_cases"
    __table_args__ = (
        CheckConstraint(
            "principal_fen >= 0 AND interest_fen >= 0 AND penalty_interest_fen >= 0 AND costs_fen >= 0",
            name="claim_not_negative",
        ),
        Index("ix_disposal_cases_state_deadline", "state", "deadline_at"),
        Index("ix_disposal_cases_creditor_id_id", "creditor_id", "id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(IdType, ForeignKey("loans.id"), index=True)
    # The creditor when the default was declared: it runs the case and bears its costs.
    creditor_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"))
    # auction.disposal.cases.CaseState
    state: Mapped[str] = mapped_column(String(24))
    # sold | taken_in_payment | cured | unsold, once known.
    outcome: Mapped[str | None] = mapped_column(String(24), nullable=True)
    reason: Mapped[str] = mapped_column(String(500))
    # The claim, fixed at default (民法典第389条); costs grow as the creditor adds them.
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    interest_fen: Mapped[int] = mapped_column(BigInteger)
    penalty_interest_fen: Mapped[int] = mapped_column(BigInteger)
    costs_fen: Mapped[int] = mapped_column(BigInteger)
    # Interest the servicer collected after the default: it lowers the interest the waterfall owes.
    interest_repaid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    appraisal_fen: Mapped[int] = mapped_column(BigInteger)
    pledgor_name: Mapped[str] = mapped_column(String(200))
    auto_advance: Mapped[bool] = mapped_column(Boolean)
    round_count: Mapped[int] = mapped_column(Integer, default=0)
    # The step running now (or the last one), and when the case moves on by itself if nobody acts.
    current_step_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Proceeds: the price of the sale and the deposits forfeited by defaulting winners.
    price_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    forfeited_deposits_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    buyer_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    shortfall_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    surplus_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    surplus_paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    surplus_reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class DisposalStep(Base):
    """One step of a case: an auction round, the take-in-payment offer, the fixed-price sale, the
    buyout window. Its auction (if any) has origin `disposal_round` and this step's id."""

    __tablename__ = "disposal_steps"
    __table_args__ = (Index("ix_disposal_steps_case_id_number", "case_id", "number", unique=True),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("disposal_cases.id"))
    number: Mapped[int] = mapped_column(Integer)
    # round | take_in_payment | fixed_price_sale | buyout_window
    kind: Mapped[str] = mapped_column(String(24))
    round_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    auction_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("auctions.id"), nullable=True, index=True
    )
    start_price_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    increment_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    deposit_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # running | unsold | winner_defaulted | sold | accepted | declined | expired | cancelled
    result: Mapped[str] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class DisposalCost(Base):
    """A realization cost the creditor bore (民法典第389条), paid back first by default order."""

    __tablename__ = "disposal_costs"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("disposal_cases.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WaterfallLine(Base):
    """One line of a case's proceeds split: who received what, for which part, by which rule."""

    __tablename__ = "disposal_waterfall_lines"

    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("disposal_cases.id"), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    part: Mapped[str] = mapped_column(String(16))
    # None for the pledgor (not a participant: its surplus waits in the center's pledgor account).
    payee_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    payee_name: Mapped[str] = mapped_column(String(200))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    rule: Mapped[str] = mapped_column(String(200))


class DisposalBar(Base):
    """A winner who defaulted on a step of the case may not register for its later steps (第24条)."""

    __tablename__ = "disposal_bars"

    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("disposal_cases.id"), primary_key=True)
    bidder_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"), primary_key=True)
    auction_id: Mapped[int] = mapped_column(IdType, ForeignKey("auctions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
