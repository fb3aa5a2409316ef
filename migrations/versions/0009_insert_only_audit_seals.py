"""sealing inserts seals instead of updating events; the sealer reads from a watermark

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 22:40:00

The sealer used to write each event's chain position and hashes into the event row and find its
work through a partial index (seq IS NULL). Every such update left a dead row version and a dead
index entry behind; without a vacuum (autovacuum off, or behind) each sealer run walked all of
them, so a run grew with the number of events ever written (about 10 ms per run at 50,000 events).

Now events are never updated. `audit_seals (seq, event_id, prev_hash, hash)` takes one row per
sealed event, and `audit_head` keeps a watermark (last_tx_id, last_event_id): the sealer reads the
events after it in (tx_id, id) order, where tx_id is the writing transaction's id on PostgreSQL
(`pg_current_xact_id()`) and 0 on SQLite (see transfer.kernel.audit for why nothing can be skipped).

Existing chains move over unchanged: sealed events become seals; the watermark is the last sealed
event. Events not yet sealed keep waiting: on PostgreSQL they get tx_id 1, above every sealed one
(0) and below every new transaction's id; on SQLite writers took turns, so they all come after the
last sealed event already.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TX_ID_DEFAULT = "CAST(CAST(pg_current_xact_id() AS text) AS bigint)"
_EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if not postgres:
        behind = bind.execute(
            sa.text(
                "SELECT count(*) FROM audit_events WHERE seq IS NULL"
                " AND id < (SELECT coalesce(max(id), 0) FROM audit_events WHERE seq IS NOT NULL)"
            )
        ).scalar_one()
        if behind:
            raise RuntimeError(
                f"{behind} unsealed audit events sit between sealed ones: run `python -m app audit verify` first"
            )
    op.create_table(
        "audit_seals",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", _EVENT_ID, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_seals"),
        sa.UniqueConstraint("event_id", name="uq_audit_seals_event_id"),
    )
    op.execute(
        "INSERT INTO audit_seals (seq, event_id, prev_hash, hash)"
        " SELECT seq, id, prev_hash, hash FROM audit_events WHERE seq IS NOT NULL"
    )
    with op.batch_alter_table("audit_head") as head:
        head.add_column(sa.Column("last_tx_id", sa.BigInteger(), server_default="0", nullable=False))
        head.add_column(sa.Column("last_event_id", sa.BigInteger(), server_default="0", nullable=False))
    op.execute(
        "UPDATE audit_head SET last_event_id ="
        " (SELECT coalesce(max(id), 0) FROM audit_events WHERE seq IS NOT NULL)"
    )
    op.drop_index("ix_audit_events_unsealed", table_name="audit_events")
    with op.batch_alter_table("audit_events") as events:
        events.add_column(sa.Column("tx_id", sa.BigInteger(), server_default="0", nullable=False))
    if postgres:
        op.execute("UPDATE audit_events SET tx_id = 1 WHERE seq IS NULL")
        op.execute(f"ALTER TABLE audit_events ALTER COLUMN tx_id SET DEFAULT {_TX_ID_DEFAULT}")
    with op.batch_alter_table("audit_events") as events:
        events.drop_constraint("uq_audit_events_seq", type_="unique")
        events.drop_column("seq")
        events.drop_column("prev_hash")
        events.drop_column("hash")
        events.create_index("ix_audit_events_tx_id_id", ["tx_id", "id"], unique=False)


def downgrade() -> None:
    bind = op.get_bind()
    unsealed = bind.execute(
        sa.text(
            "SELECT count(*) FROM audit_events e WHERE NOT EXISTS"
            " (SELECT 1 FROM audit_seals s WHERE s.event_id = e.id)"
        )
    ).scalar_one()
    if unsealed:
        raise RuntimeError(
            f"{unsealed} audit events are not sealed yet: run `python -m app audit verify` first"
        )
    with op.batch_alter_table("audit_events") as events:
        events.drop_index("ix_audit_events_tx_id_id")
        events.drop_column("tx_id")
        events.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        events.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        events.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    for column in ("seq", "prev_hash", "hash"):
        op.execute(
            f"UPDATE audit_events SET {column} ="
            f" (SELECT s.{column} FROM audit_seals s WHERE s.event_id = audit_events.id)"
        )
    with op.batch_alter_table("audit_events") as events:
        events.create_unique_constraint("uq_audit_events_seq", ["seq"])
    op.create_index(
        "ix_audit_events_unsealed",
        "audit_events",
        ["id"],
        unique=False,
        postgresql_where=sa.text("seq IS NULL"),
        sqlite_where=sa.text("seq IS NULL"),
    )
    with op.batch_alter_table("audit_head") as head:
        head.drop_column("last_event_id")
        head.drop_column("last_tx_id")
    op.drop_table("audit_seals")
