"""auctions know their origin: (origin_kind, origin_id) instead of listing_id

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 22:00:00

An auction of a listing had its listing in `listing_id`; disposal rounds and session lots will be
origins too, so the house keeps a kind and the origin's own id (auction.origins): `listing_id = n`
becomes `origin_kind = 'listing', origin_id = n`, every other auction `origin_kind = 'direct'`.
The downgrade puts listing ids back (and refuses an origin that 0011 cannot represent).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("auctions") as batch:
        batch.add_column(
            sa.Column("origin_kind", sa.String(length=24), nullable=False, server_default="direct")
        )
        batch.add_column(sa.Column("origin_id", _ID, nullable=True))
    op.execute(
        "UPDATE auctions SET origin_kind = 'listing', origin_id = listing_id WHERE listing_id IS NOT NULL"
    )
    with op.batch_alter_table("auctions") as batch:
        batch.alter_column("origin_kind", server_default=None)
        batch.drop_index("ix_auctions_listing_id")
        batch.drop_column("listing_id")
        batch.create_index("ix_auctions_origin", ["origin_kind", "origin_id"], unique=False)


def downgrade() -> None:
    bind = op.get_bind()
    other = bind.execute(
        sa.text("SELECT count(*) FROM auctions WHERE origin_kind NOT IN ('direct', 'listing')")
    )
    if other.scalar_one():
        raise RuntimeError("auctions of origins other than listings exist: cannot downgrade below 0012")
    with op.batch_alter_table("auctions") as batch:
        batch.add_column(sa.Column("listing_id", _ID, nullable=True))
    op.execute("UPDATE auctions SET listing_id = origin_id WHERE origin_kind = 'listing'")
    with op.batch_alter_table("auctions") as batch:
        batch.drop_index("ix_auctions_origin")
        batch.drop_column("origin_id")
        batch.drop_column("origin_kind")
        batch.create_index("ix_auctions_listing_id", ["listing_id"], unique=False)
