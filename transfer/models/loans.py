"""The loan and collateral registry: loans, their collateral, live pledges and income-right shares."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from transfer.kernel.model_base import Base, IdType, UTCDateTime


class Loan(Base):
    """A registered loan. Its creditor holds the title; income-right shares live in income_rights."""

    __tablename__ = "loans"
    __table_args__ = (
        CheckConstraint("principal_fen > 0", name="principal_positive"),
        # Repayments lower the outstanding principal down to zero, never below, never above principal.
        CheckConstraint(
            "outstanding_principal_fen >= 0 AND outstanding_principal_fen <= principal_fen",
            name="outstanding_within_principal",
        ),
        CheckConstraint("rate_bps >= 0 AND rate_bps <= 100000", name="rate_bps_range"),
        CheckConstraint("originated_on < matures_on", name="originated_before_maturity"),
        Index("ix_loans_creditor_id_id", "creditor_id", "id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    # The creditor changes on a whole-loan transfer; the originator (the registering bank) never does.
    creditor_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"))
    originator_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"))
    servicer_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"), index=True)
    borrower_name: Mapped[str] = mapped_column(String(200))
    borrower_credit_code: Mapped[str] = mapped_column(String(18), index=True)
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    outstanding_principal_fen: Mapped[int] = mapped_column(BigInteger)
    rate_bps: Mapped[int] = mapped_column(Integer)
    originated_on: Mapped[date] = mapped_column(Date)
    matures_on: Mapped[date] = mapped_column(Date)
    # performing | overdue | non_performing at registration; repaid (transfer.servicing);
    # defaulted (auction.disposal: a disposal case runs or ran).
    status: Mapped[str] = mapped_column(String(20))
    # What the debtor still owes after its collateral was disposed of (民法典第438条): set when a
    # disposal case ends with a shortfall, or with no sale (the whole claim stays).
    remaining_claim_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CollateralItem(Base):
    """One pledged right of a loan. Kept for the record even after its pledge is released."""

    __tablename__ = "collateral_items"
    __table_args__ = (
        CheckConstraint("appraisal_fen > 0", name="appraisal_positive"),
        Index("ix_collateral_items_loan_id_position", "loan_id", "position", unique=True),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(IdType, ForeignKey("loans.id"))
    # Order in the registration request, so answers list collateral as the bank gave it.
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    registry_number: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    right_holder: Mapped[str] = mapped_column(String(200))
    appraisal_fen: Mapped[int] = mapped_column(BigInteger)
    appraised_on: Mapped[date] = mapped_column(Date)
    pledge_registration_no: Mapped[str | None] = mapped_column(String(100), nullable=True)
    expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # pledged -> released (loan repaid, or a disposal ended unsold) | in_disposal (the loan
    # defaulted; still pledged) -> delivered (sold, or taken in payment) | released.
    state: Mapped[str] = mapped_column(String(16), default="pledged", server_default="pledged")


class CollateralPledge(Base):
    """A live pledge: one row per (kind, registry number) while a loan holds that right.

    The primary key is what makes a double pledge impossible, on both databases and under any
    concurrency: the second insert of the same right fails on the key, whoever checked first.
    Releasing a pledge (repaid loan, disposed collateral) deletes the row; the CollateralItem stays.
    """

    __tablename__ = "collateral_pledges"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Normalised (upper case, no whitespace) so "zl 2020…" and "ZL2020…" are the same right.
    registry_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    collateral_id: Mapped[int] = mapped_column(IdType, ForeignKey("collateral_items.id"), unique=True)
    loan_id: Mapped[int] = mapped_column(IdType, ForeignKey("loans.id"), index=True)
    pledged_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IncomeRight(Base):
    """A holder's share of a loan's collections. A loan's shares sum to exactly 1,000,000 ppm."""

    __tablename__ = "income_rights"
    __table_args__ = (
        # A holder with nothing is deleted rather than kept at zero (transfer.registry.ownership).
        CheckConstraint("share_ppm > 0 AND share_ppm <= 1000000", name="share_ppm_range"),
    )

    loan_id: Mapped[int] = mapped_column(IdType, ForeignKey("loans.id"), primary_key=True)
    holder_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("participants.id"), primary_key=True, index=True
    )
    share_ppm: Mapped[int] = mapped_column(Integer)


class CollateralTransferTask(Base):
    """著录项目变更: a disposed right must be re-registered to its buyer at the registry office.

    Recorded in the same transaction as the delivery; the office's own procedure is outside.
    """

    __tablename__ = "collateral_transfer_tasks"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    collateral_id: Mapped[int] = mapped_column(IdType, ForeignKey("collateral_items.id"), index=True)
    loan_id: Mapped[int] = mapped_column(IdType, ForeignKey("loans.id"), index=True)
    new_holder_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"))
    # Why the right moves, e.g. "disposal:12".
    reference: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))  # to_register -> registered
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
