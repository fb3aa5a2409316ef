"""Operation tables: pools, their assets, buyout offers and standing commitments.

A case is named by its id only (`case_id`): the disposal package above owns cases, and this one
never imports it (the layer contract in pyproject.toml).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from transfer.kernel.model_base import Base, IdType, UTCDateTime


class OperationPool(Base):
    """运营池: an agency's pool of acquired rights, operated long-term."""

    __tablename__ = "operation_pools"
    __table_args__ = (Index("ix_operation_pools_agency_id_id", "agency_id", "id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    agency_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PoolAsset(Base):
    """One right bought into a pool: its collateral record, what it cost, where it came from, and
    the earn-out its source case keeps on its revenue."""

    __tablename__ = "pool_assets"
    __table_args__ = (
        CheckConstraint("acquisition_price_fen >= 0", name="price_not_negative"),
        CheckConstraint("earn_out_paid_fen >= 0", name="earn_out_paid_not_negative"),
        Index("ix_pool_assets_pool_id_id", "pool_id", "id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    pool_id: Mapped[int] = mapped_column(IdType, ForeignKey("operation_pools.id"))
    collateral_id: Mapped[int] = mapped_column(IdType, ForeignKey("collateral_items.id"), unique=True)
    acquisition_price_fen: Mapped[int] = mapped_column(BigInteger)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source_case_id: Mapped[int] = mapped_column(IdType, index=True)
    # The earn-out (None when the offer had none): its share of this asset's revenue goes back to
    # the source case until the cap (this asset's part of the offer's cap) or `until`.
    earn_out_share_bps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    earn_out_cap_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    earn_out_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    earn_out_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class BuyoutOffer(Base):
    """An agency's money-backed offer for a case's collateral: the whole price is held."""

    __tablename__ = "buyout_offers"
    __table_args__ = (
        CheckConstraint("price_fen > 0", name="price_positive"),
        Index("ix_buyout_offers_case_id_id", "case_id", "id"),
        Index("ix_buyout_offers_state_valid_until", "state", "valid_until"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(IdType)
    agency_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"), index=True)
    pool_id: Mapped[int] = mapped_column(IdType, ForeignKey("operation_pools.id"))
    price_fen: Mapped[int] = mapped_column(BigInteger)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    # The ledger hold of the whole price; it resolves exactly once with the offer.
    hold_id: Mapped[str] = mapped_column(String(100))
    # The standing commitment that made this offer by itself (None for an agency's own offer).
    commitment_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("buyout_commitments.id"), nullable=True, index=True
    )
    as_opening_bid: Mapped[bool] = mapped_column(Boolean, default=False)
    # A stalking-horse offer: the round's auction where it stands as the agency's proxy maximum.
    opening_bid_auction_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("auctions.id"), nullable=True, index=True
    )
    earn_out_share_bps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    earn_out_cap_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    earn_out_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # live -> accepted | withdrawn | voided (the case was sold otherwise, or ended) | expired
    state: Mapped[str] = mapped_column(String(16))
    end_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class BuyoutCommitment(Base):
    """A standing commitment: a held budget that makes offers by itself on cases of some kinds.

    `hold_id` holds the unheld budget (budget less what live offers hold, what was spent and what was released); an
    offer it makes moves its price from that hold into the offer's own, so every offer has its
    money behind it and the sum can never pass the budget.
    """

    __tablename__ = "buyout_commitments"
    __table_args__ = (
        CheckConstraint("budget_fen > 0", name="budget_positive"),
        CheckConstraint(
            "unheld_fen >= 0 AND offered_fen >= 0 AND spent_fen >= 0 AND released_fen >= 0"
            " AND unheld_fen + offered_fen + spent_fen + released_fen = budget_fen",
            name="budget_whole",
        ),
        Index("ix_buyout_commitments_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    agency_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"), index=True)
    pool_id: Mapped[int] = mapped_column(IdType, ForeignKey("operation_pools.id"))
    # JSON list of the collateral kinds it buys.
    kinds: Mapped[str] = mapped_column(String(1000))
    price_bps_of_appraisal: Mapped[int] = mapped_column(Integer)
    max_price_per_case_fen: Mapped[int] = mapped_column(BigInteger)
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    unheld_fen: Mapped[int] = mapped_column(BigInteger)
    offered_fen: Mapped[int] = mapped_column(BigInteger)
    spent_fen: Mapped[int] = mapped_column(BigInteger)
    # Given back to the agency's funds once the commitment ended.
    released_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    # The current hold of the unheld budget; each resize voids it and holds anew (generation + 1).
    hold_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    hold_generation: Mapped[int] = mapped_column(Integer, default=0)
    earn_out_share_bps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    earn_out_cap_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    earn_out_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    # live -> withdrawn | expired
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PoolLicense(Base):
    """A licence of a pool asset: exclusive, sole, non-exclusive, or an open licence (开放许可)
    whose published terms anyone may take as a non-exclusive licence."""

    __tablename__ = "pool_licenses"
    __table_args__ = (
        CheckConstraint("upfront_fen >= 0", name="upfront_not_negative"),
        CheckConstraint(
            "running_royalty_bps >= 0 AND running_royalty_bps <= 10000", name="royalty_bps_range"
        ),
        CheckConstraint("starts_on <= ends_on", name="starts_before_end"),
        Index("ix_pool_licenses_asset_id_id", "asset_id", "id"),
        Index("ix_pool_licenses_kind_id", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    pool_id: Mapped[int] = mapped_column(IdType, ForeignKey("operation_pools.id"), index=True)
    asset_id: Mapped[int] = mapped_column(IdType, ForeignKey("pool_assets.id"))
    # exclusive | sole | non_exclusive | open
    kind: Mapped[str] = mapped_column(String(16))
    # None for an open licence: its licensees are the licences taken from it.
    licensee_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    licensee_credit_code: Mapped[str | None] = mapped_column(String(18), nullable=True)
    # "all" covers every territory (field of use).
    territory: Mapped[str] = mapped_column(String(100))
    field_of_use: Mapped[str] = mapped_column(String(200))
    upfront_fen: Mapped[int] = mapped_column(BigInteger)
    running_royalty_bps: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    # A non-exclusive licence taken from an open licence, at its terms.
    open_license_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("pool_licenses.id"), nullable=True, index=True
    )
    # The pledgee's consent it was granted under, when the asset is pledged again (民法典第444条).
    consent_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("license_consents.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LicenseConsent(Base):
    """A pledgee's consent to license a pledged right (民法典第444条; 专利法第50条 for an open
    licence), recorded by the loan's creditor for exactly these terms."""

    __tablename__ = "license_consents"
    __table_args__ = (Index("ix_license_consents_collateral_id_id", "collateral_id", "id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(IdType, ForeignKey("loans.id"), index=True)
    collateral_id: Mapped[int] = mapped_column(IdType, ForeignKey("collateral_items.id"))
    creditor_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"))
    kind: Mapped[str] = mapped_column(String(16))
    licensee_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    licensee_credit_code: Mapped[str | None] = mapped_column(String(18), nullable=True)
    territory: Mapped[str] = mapped_column(String(100))
    field_of_use: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PoolRevenue(Base):
    """Revenue an agency received for a pool (a royalty, an upfront fee), booked once by reference."""

    __tablename__ = "pool_revenues"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(
            "earn_out_fen >= 0 AND agency_fen >= 0 AND earn_out_fen + agency_fen = amount_fen",
            name="split_whole",
        ),
        UniqueConstraint("pool_id", "reference", name="uq_pool_revenues_reference"),
        Index("ix_pool_revenues_pool_id_id", "pool_id", "id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    pool_id: Mapped[int] = mapped_column(IdType, ForeignKey("operation_pools.id"))
    license_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("pool_licenses.id"), nullable=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(100))
    # Back to source cases by earn-out, and kept by the agency: the two add up to the amount.
    earn_out_fen: Mapped[int] = mapped_column(BigInteger)
    agency_fen: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PoolLine(Base):
    """One line of a revenue's distribution: who got what, from which asset and case, by which rule."""

    __tablename__ = "pool_lines"

    revenue_id: Mapped[int] = mapped_column(IdType, ForeignKey("pool_revenues.id"), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    # earn_out_claim (a holder of the source case's claim) | earn_out_surplus (the pledgor) | agency
    part: Mapped[str] = mapped_column(String(16))
    asset_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    case_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    # None for the pledgor (its surplus waits in the center's pledgor account).
    payee_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    rule: Mapped[str] = mapped_column(String(200))
