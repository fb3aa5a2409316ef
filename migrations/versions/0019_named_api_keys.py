"""named API keys: several per participant, revocable; the revocation generation

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 14:40:00

New table `api_keys` (one row per key: name, SHA-256 digest, prefix, created, last used, revoked)
and the one-row table `api_key_generation`. Each participant's existing key moves into
`api_keys` as its first key, named "default", so every key keeps working unchanged; the
participant's own `api_key_sha256` and `api_key_prefix` columns go.

The downgrade puts each participant's oldest live key back on its row. A participant with no live
key gets a digest no key can have (an "r" and its id: digests are hexadecimal), so it cannot log in,
as before the downgrade; the other keys are lost.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import transfer.kernel.model_base

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("participant_id", ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_sha256", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=12), nullable=False),
        sa.Column("created_at", transfer.kernel.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", transfer.kernel.model_base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", transfer.kernel.model_base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"], name=op.f("fk_api_keys_participant_id_participants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_sha256", name=op.f("uq_api_keys_key_sha256")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index("ix_api_keys_participant_id_id", ["participant_id", "id"], unique=False)
        batch_op.create_index(
            "ix_api_keys_live_name",
            ["participant_id", "name"],
            unique=True,
            postgresql_where=sa.text("revoked_at IS NULL"),
            sqlite_where=sa.text("revoked_at IS NULL"),
        )
    op.create_table(
        "api_key_generation",
        sa.Column("id", ID, autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key_generation")),
    )
    op.execute("INSERT INTO api_key_generation (id, generation) VALUES (1, 0)")
    op.execute(
        "INSERT INTO api_keys (participant_id, name, key_sha256, key_prefix, created_at)"
        " SELECT id, 'default', api_key_sha256, api_key_prefix, created_at FROM participants ORDER BY id"
    )
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_constraint("uq_participants_api_key_sha256", type_="unique")
        batch_op.drop_column("api_key_prefix")
        batch_op.drop_column("api_key_sha256")


def downgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("api_key_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("api_key_prefix", sa.String(length=12), nullable=True))
    oldest_live = (
        "SELECT k.{column} FROM api_keys k WHERE k.participant_id = participants.id"
        " AND k.revoked_at IS NULL ORDER BY k.id LIMIT 1"
    )
    op.execute(
        f"UPDATE participants SET api_key_sha256 = ({oldest_live.format(column='key_sha256')}),"
        f" api_key_prefix = ({oldest_live.format(column='key_prefix')})"
    )
    padded_id = "printf('%063d', id)" if op.get_bind().dialect.name == "sqlite" else "lpad(id::text, 63, '0')"
    op.execute(
        f"UPDATE participants SET api_key_sha256 = 'r' || {padded_id}, api_key_prefix = 'revoked'"
        " WHERE api_key_sha256 IS NULL"
    )
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.alter_column("api_key_sha256", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("api_key_prefix", existing_type=sa.String(length=12), nullable=False)
        batch_op.create_unique_constraint("uq_participants_api_key_sha256", ["api_key_sha256"])
    op.drop_table("api_key_generation")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_api_keys_live_name", sqlite_where=sa.text("revoked_at IS NULL"))
        batch_op.drop_index("ix_api_keys_participant_id_id")
    op.drop_table("api_keys")
