"""The creditor corrects or completes a pledged patent's facts (PATCH /loans/{id}/collateral/{cid});
the fees not yet due are scheduled again from them, in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from transfer.annuities.schedules import IN_GRACE, LAPSED, drop_scheduled, write_schedules
from transfer.kernel.errors import Conflict, NotFound
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.annuities import Annuity
from transfer.models.loans import CollateralItem, Loan
from transfer.registry.collateral import IN_DISPOSAL, PLEDGED
from transfer.registry.loans import REPAID, patent_facts_payload
from transfer.registry.patent_facts import PatentFacts, check_patent_facts
from transfer.rules.annuity_schedule import AnnuityPolicy
from transfer.rules.fee_waiver import shanghai_trade_date
from transfer.rules.working_calendar import WorkingCalendar

# The states in which a patent's fees are still the pledgee's concern.
LIVE_STATES = frozenset({PLEDGED, IN_DISPOSAL})


@dataclass(frozen=True, slots=True)
class Ledgered:
    """Which loan and item a request names, after checking they are the caller's."""

    loan: Loan
    item: CollateralItem


async def creditors_item(unit: UnitOfWork, loan_id: int, collateral_id: int, creditor_id: int) -> Ledgered:
    """The loan and item if the caller is the loan's creditor; another bank's loan is the same 404
    as a loan that does not exist, so nobody learns which ids are taken."""
    loan = await unit.session.get(Loan, loan_id, with_for_update=True)
    if loan is None or loan.creditor_id != creditor_id:
        raise NotFound("loan_not_found", f"loan {loan_id} does not exist", field="loan_id")
    item = await unit.session.get(CollateralItem, collateral_id, with_for_update=True)
    if item is None or item.loan_id != loan_id:
        raise NotFound(
            "collateral_not_found",
            f"collateral {collateral_id} is not collateral of loan {loan_id}",
            field="collateral_id",
        )
    return Ledgered(loan, item)


async def set_patent_facts(
    unit: UnitOfWork,
    loan_id: int,
    collateral_id: int,
    creditor_id: int,
    given: PatentFacts,
    calendar: WorkingCalendar,
    policy: AnnuityPolicy,
) -> CollateralItem:
    """The facts given replace the stored ones (those not given stay); the result is checked as at
    registration. Refused while a fee of the patent is late or lapsed: that history stands."""
    found = await creditors_item(unit, loan_id, collateral_id, creditor_id)
    loan, item = found.loan, found.item
    if loan.status == REPAID:
        raise Conflict("loan_repaid", f"loan {loan_id} is repaid: its pledges are released", field="loan_id")
    if item.state not in LIVE_STATES:
        raise Conflict(
            "collateral_not_pledged", f"collateral {collateral_id} is {item.state}", field="collateral_id"
        )
    today = shanghai_trade_date(unit.now)
    merged = PatentFacts(
        filed_on=given.filed_on or item.filed_on,
        granted_on=given.granted_on or item.granted_on,
        fee_reduction_bps=item.fee_reduction_bps
        if given.fee_reduction_bps is None
        else given.fee_reduction_bps,
    )
    check_patent_facts(item.kind, merged, today, "", required=True)
    late = (
        await unit.session.execute(
            select(Annuity.id)
            .where(Annuity.collateral_id == item.id, Annuity.status.in_((IN_GRACE, LAPSED)))
            .limit(1)
        )
    ).scalar_one_or_none()
    if late is not None:
        raise Conflict(
            "annuity_late",
            f"annuity {late} of this patent is in grace or lapsed: pay or restore it first",
            field="collateral_id",
        )
    before = patent_facts_payload(item)
    item.filed_on, item.granted_on = merged.filed_on, merged.granted_on
    item.fee_reduction_bps = merged.fee_reduction_bps
    await unit.session.flush()
    dropped = await drop_scheduled(unit, item.id)
    written = await write_schedules(unit, loan, [item], calendar, policy, today)
    unit.record(
        "collateral.patent_facts_set",
        f"collateral:{item.id}",
        {
            "loan_id": loan.id,
            "before": before,
            "after": patent_facts_payload(item),
            "annuities_dropped": dropped,
            "annuities_scheduled": written,
        },
    )
    return item
