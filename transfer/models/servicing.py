from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from transfer.kernel.model_base import Base, IdType, UTCDateTime


class Repayment(Base):
    """Principal and interest the servicer received, distributed to the income-right holders."""

    __tablename__ = "repayments"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(IdType, ForeignKey("loans.id"), index=True)
    servicer_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"))
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    interest_fen: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[date] = mapped_column(Date)
    holder_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RepaymentShare(Base):
    """One holder's part of one repayment (largest remainder, so the parts sum to the whole)."""

    __tablename__ = "repayment_shares"

    repayment_id: Mapped[int] = mapped_column(IdType, ForeignKey("repayments.id"), primary_key=True)
    holder_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    share_ppm: Mapped[int] = mapped_column(Integer)
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    interest_fen: Mapped[int] = mapped_column(BigInteger)
