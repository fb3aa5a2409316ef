"""the pages' sessions and CSRF secret in the database, shared by every process

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 22:30:00

New tables `web_sessions` (a login session by the SHA-256 of its cookie's id: its data and
expiry) and `service_secrets` (secrets made once and read by every process). Until now both lived
in the serving process's memory, so a session was known to one worker only and a restart logged
everyone out; nothing is carried over (there is nothing stored to carry).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import transfer.kernel.model_base

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("sid_sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", transfer.kernel.model_base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("sid_sha256", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_expires_at"), ["expires_at"], unique=False)
    op.create_table(
        "service_secrets",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_service_secrets")),
    )


def downgrade() -> None:
    op.drop_table("service_secrets")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_expires_at"))
    op.drop_table("web_sessions")
