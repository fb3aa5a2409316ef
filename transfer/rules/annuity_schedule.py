"""A patent's annuity schedule, its grace months and late fees, and its restoration deadline.

DESIGN.md section 3, "Patent annuities" (专利法第42-44条; 实施细则 (2010) 第97-98条): patent
year n runs from the (n-1)-th filing anniversary (year 1 from the filing date); the fees of the years up to the grant year are paid at grant registration, and each
later year's fee is due on the anniversary that starts it, moved to the next working day when it
falls on a weekend or public holiday (China's calendar, 调休 included). A 29 February filing has its
anniversary on 28 February in other years. Late payment: free within the first month after the
deadline, then a step of the full (unreduced) fee for each further month begun, up to the cap;
unpaid after the grace months, the patent lapses from the original due date; restoration is
possible within a window after the lapse notice. Every number is an AnnuityPolicy field (settings).
"""

from __future__ import annotations

import calendar as gregorian
from dataclasses import dataclass
from datetime import date, timedelta

from transfer.rules.annuity_fees import FEE_REDUCTION_BPS, REDUCED_YEARS_FROM_GRANT, term_of
from transfer.rules.working_calendar import WorkingCalendar

BPS_WHOLE = 10_000


@dataclass(frozen=True, slots=True)
class AnnuityPolicy:
    """IPX_ANNUITY_* settings (README's settings table gives each one's source)."""

    late_fee_step_bps: int = 500
    late_fee_cap_bps: int = 2_500
    grace_months: int = 6
    free_months: int = 1
    restoration_window_months: int = 2
    restoration_fee_fen: int = 100_000
    alert_horizon_days: int = 90

    def __post_init__(self) -> None:
        assert 1 <= self.grace_months <= 24 and 0 <= self.free_months <= self.grace_months
        assert 0 <= self.late_fee_step_bps <= BPS_WHOLE and 0 <= self.late_fee_cap_bps <= BPS_WHOLE


@dataclass(frozen=True, slots=True)
class AnnuityYear:
    patent_year: int
    anniversary_on: date  # the nominal deadline: the anniversary that starts the patent year
    due_on: date  # the anniversary moved to a working day
    full_fee_fen: int  # the table's fee, on which late fees are counted
    fee_fen: int  # what is due: the full fee less any reduction
    reduced: bool


@dataclass(frozen=True, slots=True)
class GraceMonth:
    month: int  # 1 = the first month after the deadline
    ends_on: date  # its last day, moved to a working day
    late_fee_fen: int  # due with the fee if paid within this month


def add_months(day: date, months: int) -> date:
    """The same day `months` later; a day the target month lacks becomes its last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, gregorian.monthrange(year, month)[1]))


def anniversary(filed_on: date, years: int) -> date:
    """The `years`-th filing anniversary (a 29 February filing: 28 February in other years)."""
    return add_months(filed_on, 12 * years)


def patent_year_on(filed_on: date, day: date) -> int:
    """Which patent year `day` lies in (1 from the filing date)."""
    if day < filed_on:
        raise ValueError(f"{day} is before the filing date {filed_on}")
    year = day.year - filed_on.year + 1
    while year > 1 and anniversary(filed_on, year - 1) > day:
        year -= 1
    while anniversary(filed_on, year) <= day:
        year += 1
    return year


def term_ends_on(kind: str, filed_on: date) -> date:
    """The last day of the patent's term."""
    return anniversary(filed_on, term_of(kind, filed_on).term_years) - timedelta(days=1)


def schedule(
    kind: str,
    filed_on: date,
    granted_on: date | None,
    fee_reduction_bps: int,
    calendar: WorkingCalendar,
    *,
    due_from: date,
    due_until: date,
) -> list[AnnuityYear]:
    """The fees due in [due_from, due_until], oldest first, by their moved due dates.

    Without a grant date every year counts as granted before it (the patent is in force when
    pledged), and no reduction can apply, since the reduced years count from the grant year.
    """
    if fee_reduction_bps not in FEE_REDUCTION_BPS:
        raise ValueError(f"fee reduction must be one of {sorted(FEE_REDUCTION_BPS)} bps")
    if fee_reduction_bps and granted_on is None:
        raise ValueError("a fee reduction counts from the grant year, so it needs the grant date")
    term = term_of(kind, filed_on)
    grant_year = 0 if granted_on is None else patent_year_on(filed_on, granted_on)
    years: list[AnnuityYear] = []
    for patent_year in range(max(2, grant_year + 1), term.term_years + 1):
        nominal = anniversary(filed_on, patent_year - 1)
        due_on = calendar.on_or_next_working_day(nominal)
        if due_on < due_from:
            continue
        if due_on > due_until:
            break
        full_fee_fen = term.fee_fen(patent_year)
        reduced = bool(fee_reduction_bps) and patent_year < grant_year + REDUCED_YEARS_FROM_GRANT
        fee_fen = full_fee_fen * (BPS_WHOLE - fee_reduction_bps) // BPS_WHOLE if reduced else full_fee_fen
        years.append(AnnuityYear(patent_year, nominal, due_on, full_fee_fen, fee_fen, reduced))
    return years


def grace_months(
    anniversary_on: date, full_fee_fen: int, policy: AnnuityPolicy, calendar: WorkingCalendar
) -> list[GraceMonth]:
    """The grace months after a deadline: month m ends m months after the anniversary (moved to a
    working day) and carries (m - free months) steps of the full fee, up to the cap."""
    months: list[GraceMonth] = []
    for month in range(1, policy.grace_months + 1):
        steps = max(0, month - policy.free_months)
        bps = min(steps * policy.late_fee_step_bps, policy.late_fee_cap_bps)
        ends_on = calendar.on_or_next_working_day(add_months(anniversary_on, month))
        months.append(GraceMonth(month, ends_on, full_fee_fen * bps // BPS_WHOLE))
    return months


def late_fee_on(day: date, due_on: date, months: list[GraceMonth]) -> int | None:
    """The late fee for paying on `day`: 0 by the deadline, that grace month's fee within grace,
    None once the grace months are over (the patent has lapsed)."""
    if day <= due_on:
        return 0
    for month in months:
        if day <= month.ends_on:
            return month.late_fee_fen
    return None


def restoration_deadline(grace_ends_on: date, policy: AnnuityPolicy, calendar: WorkingCalendar) -> date:
    """The lapse is noticed the day after grace ends; restoration is possible for the window after."""
    noticed_on = grace_ends_on + timedelta(days=1)
    return calendar.on_or_next_working_day(add_months(noticed_on, policy.restoration_window_months))


def restoration_late_fee_fen(full_fee_fen: int, policy: AnnuityPolicy) -> int:
    """Restoring a lapsed patent pays the missed fee, the capped late fee (this) and the fixed
    restoration fee (policy.restoration_fee_fen)."""
    return full_fee_fen * policy.late_fee_cap_bps // BPS_WHOLE
