"""trades carry their fee totals; indexes for the day's trades

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 03:00:00

Each trade stores its fee lines' count and totals (seller charged, buyer charged, waived), written
with the lines, so reconciliation matches the ledger legs against the trade row and checks the fee
lines against these totals in one pass. Existing trades are backfilled from their fee lines.

On PostgreSQL the accounts table gets fillfactor 50: every ledger movement rewrites a balance, and
free room on each page lets PostgreSQL update the row in place (a HOT update, no index writes).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (column, type, its value for one trade from the trade's fee lines f)
_TOTALS: list[tuple[str, type[sa.Integer], str]] = [
    ("fee_line_count", sa.Integer, "count(*)"),
    (
        "seller_fees_charged_fen",
        sa.BigInteger,
        "sum(CASE WHEN f.payer = 'seller' THEN f.charged_fen ELSE 0 END)",
    ),
    (
        "buyer_fees_charged_fen",
        sa.BigInteger,
        "sum(CASE WHEN f.payer = 'buyer' THEN f.charged_fen ELSE 0 END)",
    ),
    ("fees_waived_fen", sa.BigInteger, "sum(f.waived_fen)"),
]


def upgrade() -> None:
    with op.batch_alter_table("trades", schema=None) as batch_op:
        for column, column_type, _ in _TOTALS:
            batch_op.add_column(sa.Column(column, column_type(), nullable=True))
    # One pass over the trades, correlated subqueries: the same statement on SQLite and PostgreSQL.
    assignments = ", ".join(
        f"{column} = (SELECT coalesce({aggregate}, 0) FROM fee_lines f WHERE f.trade_id = trades.id)"
        for column, _, aggregate in _TOTALS
    )
    op.execute(f"UPDATE trades SET {assignments}")
    with op.batch_alter_table("trades", schema=None) as batch_op:
        for column, column_type, _ in _TOTALS:
            batch_op.alter_column(column, existing_type=column_type(), nullable=False)
        batch_op.drop_index("ix_trades_trade_date")
        batch_op.create_index("ix_trades_trade_date_id", ["trade_date", "id"], unique=False)
        batch_op.create_index("ix_trades_settled_at", ["settled_at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE accounts SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE accounts RESET (fillfactor)")
    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.drop_index("ix_trades_settled_at")
        batch_op.drop_index("ix_trades_trade_date_id")
        batch_op.create_index("ix_trades_trade_date", ["trade_date"], unique=False)
        for column, _, _ in reversed(_TOTALS):
            batch_op.drop_column(column)
