"""A repayment's split among a loan's income-right holders, computed by the database in one statement.

The same largest-remainder rule as `transfer.rules.distribution.distribute_repayment` (the pure
reference; a property test holds the two equal on both databases): each holder first gets the floor
of `amount × share_ppm / 1,000,000`; the fen the floors leave over go one each to the holders with
the largest remainders, ties to the lower holder id. Principal and interest are split separately.

Why in SQL: a loan held by 100,000 holders would otherwise send 100,000 rows to Python and 100,000
back; here the rows never leave the database (an INSERT … SELECT with window functions, which both
PostgreSQL and SQLite ≥ 3.25 run).

Overflow: an amount may be up to 10^15 fen and a share up to 10^6 ppm, whose product does not fit in
64 bits. The amount is passed as `quotient × 10^6 + rest`, so the floor is `quotient × share +
(rest × share) / 10^6` and the remainder `(rest × share) mod 10^6`; no product exceeds 10^15.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.rules.distribution import DistributionLine
from transfer.rules.shares import WHOLE_SHARE_PPM

_INSERT_SHARES = text(
    f"""
    INSERT INTO repayment_shares (repayment_id, holder_id, share_ppm, principal_fen, interest_fen)
    SELECT :repayment_id, holder_id, share_ppm,
           p_floor + CASE WHEN p_rank <= CAST(:principal_fen AS BIGINT) - p_floor_total THEN 1 ELSE 0 END,
           i_floor + CASE WHEN i_rank <= CAST(:interest_fen AS BIGINT) - i_floor_total THEN 1 ELSE 0 END
    FROM (
        SELECT holder_id, share_ppm, p_floor, i_floor,
               row_number() OVER (ORDER BY p_rem DESC, holder_id) AS p_rank,
               row_number() OVER (ORDER BY i_rem DESC, holder_id) AS i_rank,
               CAST(sum(p_floor) OVER () AS BIGINT) AS p_floor_total,
               CAST(sum(i_floor) OVER () AS BIGINT) AS i_floor_total
        FROM (
            SELECT holder_id, share_ppm,
                   CAST(:p_quotient AS BIGINT) * share_ppm
                       + (CAST(:p_rest AS BIGINT) * share_ppm) / {WHOLE_SHARE_PPM} AS p_floor,
                   (CAST(:p_rest AS BIGINT) * share_ppm) % {WHOLE_SHARE_PPM} AS p_rem,
                   CAST(:i_quotient AS BIGINT) * share_ppm
                       + (CAST(:i_rest AS BIGINT) * share_ppm) / {WHOLE_SHARE_PPM} AS i_floor,
                   (CAST(:i_rest AS BIGINT) * share_ppm) % {WHOLE_SHARE_PPM} AS i_rem
            FROM income_rights
            WHERE loan_id = :loan_id AND share_ppm > 0
        ) AS exact
    ) AS ranked
    """
)

_TOTALS = text(
    "SELECT count(*), coalesce(sum(share_ppm), 0), coalesce(sum(principal_fen), 0),"
    " coalesce(sum(interest_fen), 0) FROM repayment_shares WHERE repayment_id = :repayment_id"
)

_FIRST_LINES = text(
    "SELECT holder_id, share_ppm, principal_fen, interest_fen FROM repayment_shares"
    " WHERE repayment_id = :repayment_id ORDER BY holder_id LIMIT :limit"
)


@dataclass(frozen=True, slots=True)
class SharesWritten:
    holder_count: int


async def write_repayment_shares(
    session: AsyncSession, *, loan_id: int, repayment_id: int, principal_fen: int, interest_fen: int
) -> SharesWritten:
    """Store every holder's part of the repayment and check that the parts add up exactly.

    Raises AssertionError when the loan's register does not sum to the whole share: that register
    is kept whole by every ownership change (DESIGN §4.3), so a broken one must stop the money.
    """
    assert principal_fen >= 0 and interest_fen >= 0
    p_quotient, p_rest = divmod(principal_fen, WHOLE_SHARE_PPM)
    i_quotient, i_rest = divmod(interest_fen, WHOLE_SHARE_PPM)
    await session.execute(
        _INSERT_SHARES,
        {
            "repayment_id": repayment_id,
            "loan_id": loan_id,
            "principal_fen": principal_fen,
            "interest_fen": interest_fen,
            "p_quotient": p_quotient,
            "p_rest": p_rest,
            "i_quotient": i_quotient,
            "i_rest": i_rest,
        },
    )
    count, share_ppm_total, principal_total, interest_total = (
        await session.execute(_TOTALS, {"repayment_id": repayment_id})
    ).one()
    assert share_ppm_total == WHOLE_SHARE_PPM, f"income-right register sums to {share_ppm_total} ppm"
    assert principal_total == principal_fen and interest_total == interest_fen
    return SharesWritten(holder_count=int(count))


async def first_lines(session: AsyncSession, repayment_id: int, limit: int) -> list[DistributionLine]:
    """The first `limit` holders' lines by holder id (an answer shows a page; the table has all)."""
    rows = await session.execute(_FIRST_LINES, {"repayment_id": repayment_id, "limit": limit})
    return [DistributionLine(*row) for row in rows.all()]
