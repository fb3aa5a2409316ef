"""Auction tables: auctions (with the live English state), registrations with deposits, bids."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from auction.policy import RUNNING_STATES
from transfer.kernel.model_base import Base, IdType, UTCDateTime

# Rendered into the partial index's predicate (and migration 0008's).
RUNNING_PREDICATE = "state IN ({})".format(", ".join(f"'{state.value}'" for state in RUNNING_STATES))


class Auction(Base):
    __tablename__ = "auctions"
    __table_args__ = (
        CheckConstraint("start_price_fen > 0", name="start_price_positive"),
        CheckConstraint("increment_fen > 0", name="increment_positive"),
        CheckConstraint("deposit_fen >= 0", name="deposit_not_negative"),
        # The closer's work queue: running auctions by end time. Partial, not (state, ends_at):
        # a plan for the bid's conditional update (WHERE id = $1 AND state = $3), made before
        # the table has statistics, took that index for `state = $3` and read every open
        # auction on every bid; a partial index cannot serve a parameter's equality.
        Index(
            "ix_auctions_running_ends_at",
            "ends_at",
            postgresql_where=text(RUNNING_PREDICATE),
            sqlite_where=text(RUNNING_PREDICATE),
        ),
        Index("ix_auctions_origin", "origin_kind", "origin_id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    seller_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    # scheduled -> open -> closed -> awaiting_payment -> sold | defaulted; or unsold; or cancelled.
    state: Mapped[str] = mapped_column(String(20))
    lot_title: Mapped[str] = mapped_column(String(300))
    lot_description: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Where the lot comes from (auction.origins.OriginKind) and the origin's own id for it (a
    # listing's id; none for a bank's own lot). The house never reads the id: its handler does.
    origin_kind: Mapped[str] = mapped_column(String(24), default="direct")
    origin_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    # JSON list of collateral ids; the registry that owns them comes with the transfer center.
    collateral_ids: Mapped[str] = mapped_column(Text, default="[]")
    # A re-run of a failed or defaulted auction of the same lot: bars on the lot carry over.
    rerun_of_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("auctions.id"), nullable=True)
    start_price_fen: Mapped[int] = mapped_column(BigInteger)
    reserve_price_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    increment_fen: Mapped[int] = mapped_column(BigInteger)
    deposit_fen: Mapped[int] = mapped_column(BigInteger)
    # Descending clock: the price falls by decrement_fen every step_s seconds down to floor_price_fen.
    decrement_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    step_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    floor_price_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    scheduled_ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    extension_window_s: Mapped[int] = mapped_column(Integer)
    extension_s: Mapped[int] = mapped_column(Integer)
    max_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Live English state (auction.rules.english.EnglishState); leader and maxima are never public.
    price_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    leader_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    leader_paddle: Mapped[int | None] = mapped_column(Integer, nullable=True)
    leader_max_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    runner_up_max_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    floor_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reserve_met: Mapped[bool] = mapped_column(Boolean, default=False)
    bid_count: Mapped[int] = mapped_column(Integer, default=0)
    last_sequence: Mapped[int] = mapped_column(Integer, default=0)
    registration_count: Mapped[int] = mapped_column(Integer, default=0)
    # The outcome.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    winner_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    final_price_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    unsold_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    payment_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Registration(Base):
    """A bidder admitted to one auction, with the deposit held and a paddle number."""

    __tablename__ = "auction_registrations"
    __table_args__ = (
        UniqueConstraint("auction_id", "bidder_id", name="uq_auction_registrations_bidder"),
        UniqueConstraint("auction_id", "paddle", name="uq_auction_registrations_paddle"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    auction_id: Mapped[int] = mapped_column(IdType, ForeignKey("auctions.id"), index=True)
    bidder_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"), index=True)
    paddle: Mapped[int] = mapped_column(Integer)
    deposit_fen: Mapped[int] = mapped_column(BigInteger)
    # The ledger hold of the deposit (None when the auction asks no deposit).
    deposit_hold_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # held -> refunded (lost) | applied (won, then paid) | forfeited (won, then defaulted).
    deposit_state: Mapped[str] = mapped_column(String(16))
    barred: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Bid(Base):
    """An accepted bid. Refused bids are answered and logged, never stored as history."""

    __tablename__ = "auction_bids"
    __table_args__ = (UniqueConstraint("auction_id", "sequence", name="uq_auction_bids_sequence"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    auction_id: Mapped[int] = mapped_column(IdType, ForeignKey("auctions.id"))
    registration_id: Mapped[int] = mapped_column(IdType, ForeignKey("auction_registrations.id"))
    bidder_id: Mapped[int] = mapped_column(IdType)
    paddle: Mapped[int] = mapped_column(Integer)
    # Receipt order within the auction: the order the rules replay bids in.
    sequence: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    max_amount_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # The public price right after this bid, and whether its bidder led then.
    price_after_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    leading_after: Mapped[bool] = mapped_column(Boolean, default=False)
    # Sealed auctions: a newer bid from the same bidder replaces this one.
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CloseFailure(Base):
    """Why an auction's close failed, how often, and when the closer tries it again.

    One row per auction that ever failed to close; `retry_at` is None once the attempts are spent
    (an operator decides) or the auction is closed or cancelled (`resolved_at`).
    """

    __tablename__ = "auction_close_failures"

    auction_id: Mapped[int] = mapped_column(IdType, ForeignKey("auctions.id"), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    first_failed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
