"""Dual control (maker-checker): money leaving the system above a threshold waits for a second person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from transfer.kernel.model_base import Base, IdType, UTCDateTime


class Approval(Base):
    """A request to move money out (a withdrawal, a pledgor's surplus payout) that a second
    clearing participant must approve; the maker can never approve its own."""

    __tablename__ = "approvals"
    __table_args__ = (
        Index("ix_approvals_kind_subject_reference", "kind", "subject", "reference", unique=True),
        Index("ix_approvals_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))  # withdrawal | surplus_payout
    # What the money belongs to: "participant:17", "disposal:5".
    subject: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(100))
    # The ledger hold that keeps the money until the decision (a withdrawal's).
    hold_id: Mapped[str | None] = mapped_column(String(160), nullable=True)
    state: Mapped[str] = mapped_column(String(16))  # pending -> approved | rejected
    maker_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"))
    checker_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("participants.id"), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
