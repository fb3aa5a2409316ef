"""Checks every crash scenario makes after its restart, read straight from the database."""

from __future__ import annotations

import asyncpg
from crash_harness import Check, check


async def ledger_sums_to_zero(connection: asyncpg.Connection) -> Check:
    total = int(await connection.fetchval("SELECT coalesce(sum(balance_fen), 0) FROM accounts"))
    return check("ledger sums to zero", total == 0, f"sum of all accounts {total} fen")


async def held_equals_pending(connection: asyncpg.Connection) -> Check:
    """Every participant's held balance is exactly its pending holds: no hold resolved twice or
    lost half-way (a posted or voided hold whose money stayed held)."""
    held, pending = await connection.fetchrow(
        """SELECT (SELECT CAST(coalesce(sum(balance_fen), 0) AS bigint) FROM accounts WHERE code = 'held'),
                  (SELECT CAST(coalesce(sum(amount_fen), 0) AS bigint) FROM ledger_transfers
                   WHERE pending_status = 'pending')"""
    )
    return check(
        "held balances = pending holds", held == pending, f"held {held} fen, pending holds {pending} fen"
    )


async def one_event_each(
    connection: asyncpg.Connection, event_type: str, subjects: list[str], name: str
) -> Check:
    """Each subject has exactly one `event_type` event, chained (it has a seal), and it is the
    last of the subject's events in the chain's order: nothing lost, nothing twice, nothing after."""
    rows = await connection.fetch(
        """WITH mine AS (
               SELECT e.subject, e.type, s.seq FROM audit_events e
               LEFT JOIN audit_seals s ON s.event_id = e.id
               WHERE e.subject = ANY($2::text[]))
           SELECT subject,
                  count(*) FILTER (WHERE type = $1) AS events,
                  count(*) FILTER (WHERE type = $1 AND seq IS NULL) AS unsealed,
                  max(seq) FILTER (WHERE type = $1) AS event_seq,
                  max(seq) AS last_seq
           FROM mine GROUP BY subject""",
        event_type,
        subjects,
    )
    by_subject = {row["subject"]: row for row in rows}
    missing = [s for s in subjects if s not in by_subject or by_subject[s]["events"] == 0]
    twice = [s for s, row in by_subject.items() if row["events"] > 1]
    unsealed = [s for s, row in by_subject.items() if row["unsealed"]]
    out_of_order = [
        s for s, row in by_subject.items() if row["events"] == 1 and row["event_seq"] != row["last_seq"]
    ]
    bad = missing or twice or unsealed or out_of_order
    return check(
        name,
        not bad,
        f"{len(subjects)} subjects: {len(missing)} without the event, {len(twice)} with it more than once,"
        f" {len(unsealed)} unchained, {len(out_of_order)} followed by a later event"
        + (f" (first: {(missing + twice + unsealed + out_of_order)[0]})" if bad else ""),
    )
