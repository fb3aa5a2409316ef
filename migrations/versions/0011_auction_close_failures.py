"""auctions whose close failed are set aside with their reason and retried

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 21:00:00

A new table `auction_close_failures` (one row per auction whose close ever failed: attempts, the
last reason, when it is tried again, when it was resolved). The auction itself moves to the new
state `set_aside` (a string column: no change to `auctions`), which the running-auctions index
leaves out, so the closer's queue never meets it again until the retry takes it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from transfer.kernel.model_base import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auction_close_failures",
        sa.Column("auction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("first_failed_at", UTCDateTime(), nullable=False),
        sa.Column("last_failed_at", UTCDateTime(), nullable=False),
        sa.Column("retry_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["auction_id"], ["auctions.id"], name=op.f("fk_auction_close_failures_auction_id_auctions")
        ),
        sa.PrimaryKeyConstraint("auction_id", name=op.f("pk_auction_close_failures")),
    )
    op.create_index(
        op.f("ix_auction_close_failures_retry_at"), "auction_close_failures", ["retry_at"], unique=False
    )


def downgrade() -> None:
    # Set-aside auctions go back to the closer's queue, where they will fail (and block) again:
    # a downgrade is for an empty table.
    op.execute("UPDATE auctions SET state = 'open' WHERE state = 'set_aside'")
    op.drop_index(op.f("ix_auction_close_failures_retry_at"), table_name="auction_close_failures")
    op.drop_table("auction_close_failures")
