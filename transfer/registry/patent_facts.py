"""The facts of a patent that its annuity schedule counts from: filing date, grant date, fee reduction.

Checked the same way at registration (`collateral[i].filed_on`) and on the creditor's PATCH
(`filed_on`): each refusal is a 422 naming the field and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from transfer.kernel.errors import DomainError
from transfer.rules.annuity_fees import FEE_REDUCTION_BPS, PATENT_KINDS
from transfer.rules.annuity_schedule import term_ends_on


@dataclass(frozen=True, slots=True)
class PatentFacts:
    filed_on: date | None = None
    granted_on: date | None = None
    fee_reduction_bps: int | None = None

    @property
    def empty(self) -> bool:
        return self.filed_on is None and self.granted_on is None and self.fee_reduction_bps is None


def is_patent(kind: str) -> bool:
    return kind in PATENT_KINDS


def check_patent_facts(kind: str, facts: PatentFacts, today: date, prefix: str, *, required: bool) -> None:
    """Refuse facts on a right that is no patent, a missing filing date where one is `required`, a
    grant before filing, a date after today, an unknown reduction, a reduction without a grant
    date (the reduced years count from the grant year), and a patent whose term has ended."""
    field = f"{prefix}filed_on"
    if not is_patent(kind):
        if not facts.empty:
            raise DomainError(
                "not_a_patent", f"a {kind} has no filing date, grant date or fee reduction", field=field
            )
        return
    if facts.filed_on is None:
        if required:
            raise DomainError(
                "filed_on_required",
                "a patent needs its filing date: its annuities count from it",
                field=field,
            )
        return
    if facts.filed_on > today:
        raise DomainError("date_in_future", f"{facts.filed_on} is after today ({today})", field=field)
    if facts.granted_on is not None:
        if facts.granted_on < facts.filed_on:
            raise DomainError(
                "granted_before_filed", "must not be before filed_on", field=f"{prefix}granted_on"
            )
        if facts.granted_on > today:
            raise DomainError(
                "date_in_future", f"{facts.granted_on} is after today ({today})", field=f"{prefix}granted_on"
            )
    reduction = facts.fee_reduction_bps
    if reduction is not None:
        if reduction not in FEE_REDUCTION_BPS:
            raise DomainError(
                "unknown_fee_reduction",
                f"must be one of {', '.join(str(b) for b in sorted(FEE_REDUCTION_BPS))} basis points",
                field=f"{prefix}fee_reduction_bps",
            )
        if reduction and facts.granted_on is None:
            raise DomainError(
                "grant_date_required",
                "a fee reduction applies to the ten years from the grant year: give granted_on",
                field=f"{prefix}granted_on",
            )
    ends_on = term_ends_on(kind, facts.filed_on)
    if ends_on < today:
        raise DomainError(
            "patent_term_ended", f"a {kind} filed on {facts.filed_on} expired on {ends_on}", field=field
        )
