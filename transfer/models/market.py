"""The secondary market: listings, offers (and subscriptions), trades with fee lines, borrower notices."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from transfer.kernel.model_base import Base, IdType, UTCDateTime


class Listing(Base):
    __tablename__ = "listings"
    __table_args__ = (
        CheckConstraint("asking_price_fen > 0", name="asking_price_positive"),
        Index("ix_listings_status_closes_at", "status", "closes_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(IdType, ForeignKey("loans.id"), index=True)
    seller_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # whole_loan | income_right
    mode: Mapped[str] = mapped_column(String(16))  # negotiated | auction | subscription
    # The share offered (income_right); a whole loan carries the seller's whole register share.
    share_ppm: Mapped[int] = mapped_column(Integer)
    asking_price_fen: Mapped[int] = mapped_column(BigInteger)
    min_unit_ppm: Mapped[int] = mapped_column(Integer, default=1)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # open -> matched (a trade exists) | closed (subscription allocated) | withdrawn
    status: Mapped[str] = mapped_column(String(16))
    auction_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    holders_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    offer_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Offer(Base):
    """A buyer's offer on a negotiated listing, or a subscription to a subscription book."""

    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    listing_id: Mapped[int] = mapped_column(IdType, ForeignKey("listings.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"), index=True)
    price_fen: Mapped[int] = mapped_column(BigInteger)
    share_ppm: Mapped[int] = mapped_column(Integer)
    # Receipt order within the listing: ties in a subscription book go to the earlier one.
    sequence: Mapped[int] = mapped_column(Integer)
    # open -> accepted | allocated | not_allocated | lapsed
    status: Mapped[str] = mapped_column(String(16))
    allocated_ppm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Trade(Base):
    __tablename__ = "trades"
    __table_args__ = (
        CheckConstraint("price_fen > 0", name="price_positive"),
        Index("ix_trades_status_due", "status", "settlement_due_on"),
        # The day's trades, and the day's first and last trade id from the index alone
        # (reconciliation checks the fee lines of that id range).
        Index("ix_trades_trade_date_id", "trade_date", "id"),
        # The trades settled on a day, without scanning every trade ever settled.
        Index("ix_trades_settled_at", "settled_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    listing_id: Mapped[int] = mapped_column(IdType, ForeignKey("listings.id"), index=True)
    offer_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    loan_id: Mapped[int] = mapped_column(IdType, ForeignKey("loans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    seller_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"), index=True)
    share_ppm: Mapped[int] = mapped_column(Integer)
    price_fen: Mapped[int] = mapped_column(BigInteger)
    # Whether the loan was an IP-pledge loan when traded: the waiver is decided on this.
    is_ip_pledge: Mapped[bool] = mapped_column(Boolean)
    trade_date: Mapped[date] = mapped_column(Date)  # Asia/Shanghai calendar
    settlement_due_on: Mapped[date] = mapped_column(Date)
    # pending -> settled | failed
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The trade's fee lines summed when they are written (same transaction): settlement posts these
    # amounts and reconciliation matches the ledger legs and the fee lines against them.
    fee_line_count: Mapped[int] = mapped_column(Integer)
    seller_fees_charged_fen: Mapped[int] = mapped_column(BigInteger)
    buyer_fees_charged_fen: Mapped[int] = mapped_column(BigInteger)
    fees_waived_fen: Mapped[int] = mapped_column(BigInteger)


class FeeLine(Base):
    """One fee item for one payer of one trade: gross, waived, charged and the rule that decided."""

    __tablename__ = "fee_lines"
    __table_args__ = (CheckConstraint("gross_fen = waived_fen + charged_fen", name="gross_splits"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    trade_id: Mapped[int] = mapped_column(IdType, ForeignKey("trades.id"), index=True)
    item: Mapped[str] = mapped_column(String(32))
    payer: Mapped[str] = mapped_column(String(8))  # seller | buyer
    payer_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"), index=True)
    gross_fen: Mapped[int] = mapped_column(BigInteger)
    waived_fen: Mapped[int] = mapped_column(BigInteger)
    charged_fen: Mapped[int] = mapped_column(BigInteger)
    rule: Mapped[str] = mapped_column(String(40))


class BorrowerNotice(Base):
    """民法典第546条: a transfer of the claim binds the borrower only once notified."""

    __tablename__ = "borrower_notices"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    trade_id: Mapped[int] = mapped_column(IdType, ForeignKey("trades.id"), unique=True)
    loan_id: Mapped[int] = mapped_column(IdType, ForeignKey("loans.id"), index=True)
    new_creditor_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"))
    status: Mapped[str] = mapped_column(String(16))  # to_notify -> notified
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
