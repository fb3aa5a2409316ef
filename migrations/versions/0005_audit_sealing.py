"""audit events get an insertion id; their chain position and hashes are given by the sealer

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 02:25:00

Existing events keep their chain position: id = seq, hashes unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import transfer.kernel.model_base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = "occurred_at, actor_id, type, subject, payload, prev_hash, hash"


def _new_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("occurred_at", transfer.kernel.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
        sa.UniqueConstraint("seq", name="uq_audit_events_seq"),
    )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # In place: the table may be large, and PostgreSQL alters columns without a copy.
        op.execute("ALTER TABLE audit_events DROP CONSTRAINT pk_audit_events")
        # seq was a BIGSERIAL: only the sealer may number the chain now.
        op.execute("ALTER TABLE audit_events ALTER COLUMN seq DROP DEFAULT")
        op.execute("DROP SEQUENCE IF EXISTS audit_events_seq_seq")
        op.execute("ALTER TABLE audit_events ADD COLUMN id BIGINT")
        op.execute("UPDATE audit_events SET id = seq")
        op.execute("CREATE SEQUENCE audit_events_id_seq OWNED BY audit_events.id")
        op.execute(
            "SELECT setval('audit_events_id_seq', COALESCE((SELECT max(id) FROM audit_events), 0) + 1, false)"
        )
        op.execute("ALTER TABLE audit_events ALTER COLUMN id SET DEFAULT nextval('audit_events_id_seq')")
        op.execute("ALTER TABLE audit_events ALTER COLUMN id SET NOT NULL")
        op.execute("ALTER TABLE audit_events ADD CONSTRAINT pk_audit_events PRIMARY KEY (id)")
        for column in ("seq", "prev_hash", "hash"):
            op.execute(f"ALTER TABLE audit_events ALTER COLUMN {column} DROP NOT NULL")
        op.execute("ALTER TABLE audit_events ADD CONSTRAINT uq_audit_events_seq UNIQUE (seq)")
    else:
        # SQLite cannot change a primary key: copy into the new shape.
        _new_table("audit_events_new")
        op.execute(
            f"INSERT INTO audit_events_new (id, seq, {_COLUMNS}) SELECT seq, seq, {_COLUMNS} FROM audit_events"
        )
        op.drop_index("ix_audit_events_subject", table_name="audit_events")
        op.drop_table("audit_events")
        op.rename_table("audit_events_new", "audit_events")
        op.create_index("ix_audit_events_subject", "audit_events", ["subject"], unique=False)
    op.create_index(
        "ix_audit_events_unsealed",
        "audit_events",
        ["id"],
        unique=False,
        postgresql_where=sa.text("seq IS NULL"),
        sqlite_where=sa.text("seq IS NULL"),
    )


def downgrade() -> None:
    bind = op.get_bind()
    unsealed = bind.execute(sa.text("SELECT count(*) FROM audit_events WHERE seq IS NULL")).scalar_one()
    if unsealed:
        raise RuntimeError(
            f"{unsealed} audit events are not sealed yet: run `python -m app audit verify` first"
        )
    op.drop_index("ix_audit_events_unsealed", table_name="audit_events")
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_events DROP CONSTRAINT uq_audit_events_seq")
        op.execute("ALTER TABLE audit_events DROP CONSTRAINT pk_audit_events")
        for column in ("seq", "prev_hash", "hash"):
            op.execute(f"ALTER TABLE audit_events ALTER COLUMN {column} SET NOT NULL")
        op.execute("ALTER TABLE audit_events ADD CONSTRAINT pk_audit_events PRIMARY KEY (seq)")
        op.execute("CREATE SEQUENCE audit_events_seq_seq OWNED BY audit_events.seq")
        op.execute(
            "SELECT setval('audit_events_seq_seq', COALESCE((SELECT max(seq) FROM audit_events), 0) + 1, false)"
        )
        op.execute("ALTER TABLE audit_events ALTER COLUMN seq SET DEFAULT nextval('audit_events_seq_seq')")
        op.execute("ALTER TABLE audit_events DROP COLUMN id")  # drops its owned sequence too
        return
    op.create_table(
        "audit_events_old",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("occurred_at", transfer.kernel.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_events"),
    )
    op.execute(f"INSERT INTO audit_events_old (seq, {_COLUMNS}) SELECT seq, {_COLUMNS} FROM audit_events")
    op.drop_index("ix_audit_events_subject", table_name="audit_events")
    op.drop_table("audit_events")
    op.rename_table("audit_events_old", "audit_events")
    op.create_index("ix_audit_events_subject", "audit_events", ["subject"], unique=False)
