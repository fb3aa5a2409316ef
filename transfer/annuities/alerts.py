"""Alerts to participants: written set-based by the daily run, each once (its dedupe key), each
also an audit event and a live event on the participant's channel after commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Select, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.annuities.sql import insert_skipping_existing
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.annuities import Alert

ESCROW_SHORT = "escrow_short"  # the escrow will not cover the fees due within the alert horizon
ANNUITY_IN_GRACE = "annuity_in_grace"  # a fee is past its deadline: each grace month, once
ANNUITY_LAPSED = "annuity_lapsed"
KINDS = (ESCROW_SHORT, ANNUITY_IN_GRACE, ANNUITY_LAPSED)
COLUMNS = [
    "participant_id",
    "kind",
    "loan_id",
    "annuity_id",
    "amount_fen",
    "due_on",
    "dedupe_key",
    "created_at",
]


def alert_channel(participant_id: int) -> str:
    return f"participant:{participant_id}:alerts"


async def raise_alerts(unit: UnitOfWork, rows: Select[*tuple[Any, ...]]) -> int:
    """Insert the alerts `rows` selects (in COLUMNS order) that are not there yet; returns how many
    are new. Alerts are few (a fee's grace months, a short escrow), so each is recorded."""
    statement = await insert_skipping_existing(unit.session, cast(Table, Alert.__table__), COLUMNS, rows)
    created = (
        await unit.session.execute(
            statement.returning(Alert.id, Alert.participant_id, Alert.kind, Alert.loan_id, Alert.annuity_id)
        )
    ).all()
    for alert_id, participant_id, kind, loan_id, annuity_id in created:
        payload = {"alert_id": alert_id, "kind": kind, "loan_id": loan_id, "annuity_id": annuity_id}
        unit.record("alert.raised", f"participant:{participant_id}", payload)
        unit.publish(alert_channel(participant_id), {"type": "alert", **payload})
    return len(created)


@dataclass(frozen=True, slots=True)
class AlertView:
    id: int
    kind: str
    loan_id: int
    annuity_id: int | None
    amount_fen: int | None
    due_on: date | None
    created_at: datetime


async def list_alerts(
    session: AsyncSession, participant_id: int, *, kind: str | None, limit: int, offset: int
) -> tuple[list[AlertView], int]:
    """A participant's own alerts, newest first."""
    where = [Alert.participant_id == participant_id]
    if kind is not None:
        where.append(Alert.kind == kind)
    total = int((await session.execute(select(func.count()).select_from(Alert).where(*where))).scalar_one())
    rows = await session.execute(
        select(Alert).where(*where).order_by(Alert.id.desc()).limit(limit).offset(offset)
    )
    return [
        AlertView(a.id, a.kind, a.loan_id, a.annuity_id, a.amount_fen, a.due_on, a.created_at)
        for a in rows.scalars()
    ], total
