"""The demo's history: steps at instants, run in time order through the services with the clock set
to each step's instant, so a case can have failed a round weeks ago and every row, ledger line and
audit event says when it happened. Nothing is written around the services.

A step at `None` runs on the real clock (the present)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from app.context import AppContext
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.rules.fee_waiver import shanghai_trade_date
from transfer.rules.uscc import uscc_check_character

Work = Callable[[UnitOfWork], Awaitable[object]]
# How far ahead of today a demo patent's next annuity falls: past the annuity alert horizon (90
# days by default), and no anniversary falls inside the demo's history (at most ~240 days back), so
# no fee of a demo patent is overdue because its loan was written in the past.
ANNIVERSARY_AHEAD_DAYS = 120


@dataclass(frozen=True, slots=True)
class Step:
    at: datetime | None
    label: str
    work: Work
    actor_id: int | None = None  # the participant acting, as the audit records it


def in_order(steps: Sequence[Step], now: datetime) -> list[Step]:
    """Past steps by instant (stable for equal instants), then the present ones as given."""
    return sorted(steps, key=lambda step: step.at if step.at is not None else now)


def context_at(context: AppContext, instant: datetime | None) -> AppContext:
    """The same context with its clock stopped at `instant`; live events are not published for the
    past (nobody watched it)."""
    if instant is None:
        return context
    return replace(context, clock=lambda: instant, publish=None, relay=None)


def filed_on(today: date, years_ago: int) -> date:
    """A filing date `years_ago` years back whose anniversary is ANNIVERSARY_AHEAD_DAYS from today."""
    anniversary = today + timedelta(days=ANNIVERSARY_AHEAD_DAYS)
    day = min(anniversary.day, 28) if anniversary.month == 2 else anniversary.day
    return date(anniversary.year - years_ago, anniversary.month, day)


def today_of(now: datetime) -> date:
    return shanghai_trade_date(now)


def credit_code(division: str, serial: int) -> str:
    """A well-formed unified social credit code (GB 32100-2015) of an enterprise registered in the
    administrative division `division` (six digits, GB/T 2260): the catalogue's region comes from it."""
    assert len(division) == 6 and division.isdigit(), division
    body = f"91{division}MA{serial:07d}"
    return body + uscc_check_character(body)
