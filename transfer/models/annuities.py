"""Patent annuities of pledged collateral, their grace months, each loan's annuity escrow, and the
alerts participants read (transfer.annuities)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from transfer.kernel.model_base import Base, IdType, UTCDateTime

# What the daily run and the payment look at: a fee not yet paid, not yet lapsed.
UNPAID_STATUSES_SQL = "status IN ('scheduled', 'in_grace')"


class Annuity(Base):
    """One patent year's fee of a pledged patent, from the computed schedule (rules.annuity_schedule).

    scheduled -> paid | in_grace (the deadline passed unpaid) -> paid | lapsed -> restored.
    """

    __tablename__ = "annuities"
    __table_args__ = (
        CheckConstraint("fee_fen > 0 AND full_fee_fen >= fee_fen", name="fees_positive"),
        CheckConstraint(
            "status IN ('scheduled', 'in_grace', 'paid', 'lapsed', 'restored')", name="status_known"
        ),
        Index("ix_annuities_collateral_id_patent_year", "collateral_id", "patent_year", unique=True),
        Index("ix_annuities_loan_id_due_on", "loan_id", "due_on"),
        # The daily run reads only the unpaid fees due by today: a small index whatever the book.
        Index(
            "ix_annuities_unpaid_due_on",
            "due_on",
            postgresql_where=text(UNPAID_STATUSES_SQL),
            sqlite_where=text(UNPAID_STATUSES_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(IdType, ForeignKey("loans.id"))
    collateral_id: Mapped[int] = mapped_column(IdType, ForeignKey("collateral_items.id"))
    patent_year: Mapped[int] = mapped_column(Integer)
    anniversary_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    full_fee_fen: Mapped[int] = mapped_column(BigInteger)
    fee_fen: Mapped[int] = mapped_column(BigInteger)
    # The last day of the last grace month; unpaid after it, the patent lapses.
    grace_ends_on: Mapped[date] = mapped_column(Date)
    # The last day a lapse of this fee can be restored (rules.annuity_schedule.restoration_deadline).
    restore_by: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="scheduled", server_default="scheduled")
    # The last grace month the creditor was alerted of (0: none yet).
    alerted_grace_month: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Filled when paid (or restored): the late fee and restoration fee paid with it, from where
    # (escrow | creditor), the receipt (the ledger transfer's id), and which payment run paid it.
    late_fee_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    restoration_fee_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    paid_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    paid_from: Mapped[str | None] = mapped_column(String(16), nullable=True)
    receipt: Mapped[str | None] = mapped_column(String(100), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    lapsed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AnnuityGraceMonth(Base):
    """A grace month of one fee: its last day and the late fee due if paid within it. Written with
    the fee, so the daily run prices a late payment in SQL, never in Python."""

    __tablename__ = "annuity_grace_months"

    annuity_id: Mapped[int] = mapped_column(IdType, ForeignKey("annuities.id"), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    ends_on: Mapped[date] = mapped_column(Date)
    late_fee_fen: Mapped[int] = mapped_column(BigInteger)


class AnnuityEscrow(Base):
    """A loan's annuity escrow: its own ledger account, opened with the first money in."""

    __tablename__ = "annuity_escrows"

    loan_id: Mapped[int] = mapped_column(IdType, ForeignKey("loans.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(IdType, ForeignKey("accounts.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Alert(Base):
    """Something a participant must act on (an annuity in danger). `dedupe_key` makes each alert
    once-only, however often a run meets its condition."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_participant_id_id", "participant_id", "id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    participant_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"))
    # escrow_short | annuity_in_grace | annuity_lapsed
    kind: Mapped[str] = mapped_column(String(32))
    loan_id: Mapped[int] = mapped_column(IdType, ForeignKey("loans.id"))
    annuity_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("annuities.id"), nullable=True)
    # For escrow_short the amount missing; for a fee in grace the late fee it would now carry.
    amount_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    dedupe_key: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
