"""Risk-compensation funds, the loans enrolled in them, and every fen they advanced, refunded or topped up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from transfer.kernel.model_base import Base, IdType, UTCDateTime


class CompensationFund(Base):
    """A regional fund (a province's, a city's) that shares IP-loan principal losses with banks."""

    __tablename__ = "compensation_funds"
    __table_args__ = (
        CheckConstraint("fund_share_bps > 0 AND fund_share_bps <= 10000", name="fund_share_bps_range"),
        CheckConstraint("per_loan_cap_fen > 0", name="per_loan_cap_positive"),
        CheckConstraint(
            "ip_share_min_bps IS NULL OR (ip_share_min_bps >= 0 AND ip_share_min_bps <= 10000)",
            name="ip_share_min_bps_range",
        ),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    region: Mapped[str] = mapped_column(String(100))
    fund_share_bps: Mapped[int] = mapped_column(Integer)
    per_loan_cap_fen: Mapped[int] = mapped_column(BigInteger)
    ip_share_min_bps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    covers: Mapped[str] = mapped_column(String(16))  # "principal": the only loss a fund shares
    account_id: Mapped[int] = mapped_column(IdType, ForeignKey("accounts.id"), unique=True)
    created_by: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CompensationEnrolment(Base):
    """A loan covered by a fund. Layered funds (a province's and a city's) are two enrolments."""

    __tablename__ = "compensation_enrolments"
    __table_args__ = (
        Index("ix_compensation_enrolments_fund_id_loan_id", "fund_id", "loan_id", unique=True),
        Index("ix_compensation_enrolments_loan_id", "loan_id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    fund_id: Mapped[int] = mapped_column(IdType, ForeignKey("compensation_funds.id"))
    loan_id: Mapped[int] = mapped_column(IdType, ForeignKey("loans.id"))
    # enrolled -> advanced (at default) -> cleared (when the disposal case ends)
    state: Mapped[str] = mapped_column(String(16))
    # The loan's IP share when enrolled, and again when it defaulted (what the fund covers).
    ip_share_ppm: Mapped[int] = mapped_column(Integer)
    enrolled_by: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The disposal case opened by the default (the auction side's id; the books do not read it).
    case_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    principal_at_default_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    covered_base_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    advance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    # What the fund owes now but could not pay from its balance (never an overdraft): of its
    # advance until the case ends, then of its final share.
    fund_shortfall_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    final_loss_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    final_share_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    top_up_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    # What the holders could not refund from their funds: owed to the fund.
    owed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    advanced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CompensationLine(Base):
    """One fen-exact movement (or debt) between a fund and a holder: advance, top_up, refund, owed."""

    __tablename__ = "compensation_lines"
    __table_args__ = (
        Index("ix_compensation_lines_enrolment_id", "enrolment_id"),
        Index("ix_compensation_lines_fund_id_id", "fund_id", "id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    enrolment_id: Mapped[int] = mapped_column(IdType, ForeignKey("compensation_enrolments.id"))
    fund_id: Mapped[int] = mapped_column(IdType, ForeignKey("compensation_funds.id"))
    loan_id: Mapped[int] = mapped_column(IdType, ForeignKey("loans.id"))
    kind: Mapped[str] = mapped_column(String(16))
    holder_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    transfer_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
