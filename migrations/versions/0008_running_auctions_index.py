"""the closer's index covers running auctions only

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 22:15:00

`ix_auctions_state_ends_at (state, ends_at)` becomes `ix_auctions_running_ends_at (ends_at) WHERE
state IN ('scheduled', 'open')`. The closer reads the same rows through it. The bid's conditional
update (`WHERE id = $1 AND last_sequence = $2 AND state = $3`) can no longer pick it: on a table
without statistics PostgreSQL's generic plan for that prepared statement chose the (state, ends_at)
index for `state = $3` and read every open auction on each bid (about 1,000 index entries per bid
with 1,000 open auctions), where the primary key finds the one row.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here rather than imported: a migration must keep meaning what it meant when written.
_RUNNING = "state IN ('scheduled', 'open')"


def upgrade() -> None:
    op.drop_index("ix_auctions_state_ends_at", table_name="auctions")
    op.create_index(
        "ix_auctions_running_ends_at",
        "auctions",
        ["ends_at"],
        postgresql_where=sa.text(_RUNNING),
        sqlite_where=sa.text(_RUNNING),
    )


def downgrade() -> None:
    op.drop_index("ix_auctions_running_ends_at", table_name="auctions")
    op.create_index("ix_auctions_state_ends_at", "auctions", ["state", "ends_at"])
