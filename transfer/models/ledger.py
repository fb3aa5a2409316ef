from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from transfer.kernel.model_base import Base, IdType, UTCDateTime


class Account(Base):
    """One ledger account. balance_fen = credits - debits, so the sum over all accounts is zero."""

    __tablename__ = "accounts"
    __table_args__ = (
        # The database itself refuses an overdraft even if a code path forgot the conditional update.
        CheckConstraint("NOT non_negative OR balance_fen >= 0", name="balance_not_negative"),
        # Half-empty pages: a balance update stays on its page (HOT), no index writes (migration 0006).
        {"postgresql_with": {"fillfactor": 50}},
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    # "participant:17:available", "center:fee_income": one readable key per account.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    participant_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("participants.id"), nullable=True, index=True
    )
    code: Mapped[str] = mapped_column(String(32))
    non_negative: Mapped[bool] = mapped_column(Boolean)
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class LedgerTransfer(Base):
    """An immutable double-entry movement. Pending transfers (holds) resolve exactly once."""

    __tablename__ = "ledger_transfers"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="distinct_accounts"),
        Index("ix_ledger_transfers_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    # posted: a plain movement; pending: a hold; post_pending / void_pending resolve a hold.
    kind: Mapped[str] = mapped_column(String(16))
    debit_account_id: Mapped[int] = mapped_column(IdType, ForeignKey("accounts.id"), index=True)
    credit_account_id: Mapped[int] = mapped_column(IdType, ForeignKey("accounts.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    pending_id: Mapped[str | None] = mapped_column(
        ForeignKey("ledger_transfers.id"), nullable=True, index=True
    )
    # Only for kind == "pending": pending -> posted | voided, exactly once.
    pending_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Why the money moved ("funds", "withdrawal", "deposit_hold", ...), for statements and reports.
    code: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
