"""The pledgee's consent to license pledged collateral (民法典第444条; 专利法第50条 for an open
licence): the loan's creditor records it for exact terms, and a licence of a pool asset pledged
again stands only on a matching one (auction.operation.licences)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from auction.operation.licences import Licensee, check_licensee
from auction.operation.models import LicenseConsent
from auction.operation.rules.licence_overlap import LicenceKind
from transfer.kernel.errors import Conflict, DomainError, Forbidden, NotFound
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.loans import CollateralItem, CollateralPledge, Loan


@dataclass(frozen=True, slots=True)
class ConsentSpec:
    kind: str
    licensee: Licensee | None
    territory: str
    field_of_use: str
    starts_on: date
    ends_on: date


async def record_consent(
    unit: UnitOfWork, loan_id: int, collateral_id: int, actor_id: int, spec: ConsentSpec
) -> LicenseConsent:
    loan = await unit.session.get(Loan, loan_id)
    if loan is None:
        raise NotFound("loan_not_found", f"loan {loan_id} does not exist", field="id")
    if loan.creditor_id != actor_id:
        raise Forbidden("not_creditor", "only the loan's creditor consents as its pledgee", field="id")
    item = await unit.session.get(CollateralItem, collateral_id)
    if item is None or item.loan_id != loan.id:
        raise NotFound(
            "collateral_not_found", f"loan {loan.id} has no collateral {collateral_id}", field="cid"
        )
    pledged = (
        await unit.session.execute(
            select(CollateralPledge.loan_id).where(CollateralPledge.collateral_id == item.id)
        )
    ).first()
    if pledged is None:
        raise Conflict(
            "not_pledged", f"collateral {item.id} is no longer pledged: no consent is needed", field="cid"
        )
    try:
        kind = LicenceKind(spec.kind)
    except ValueError:
        raise DomainError(
            "unknown_kind", "kind must be exclusive, sole, non_exclusive or open", field="kind"
        ) from None
    if (kind is LicenceKind.OPEN) != (spec.licensee is None):
        raise DomainError(
            "licensee_mismatch",
            "an open licence names no licensee; every other kind names one",
            field="licensee_name",
        )
    if spec.starts_on > spec.ends_on:
        raise DomainError("ends_before_start", "ends_on must not be before starts_on", field="ends_on")
    licensee = None if spec.licensee is None else check_licensee(spec.licensee)
    consent = LicenseConsent(
        loan_id=loan.id,
        collateral_id=item.id,
        creditor_id=actor_id,
        kind=kind.value,
        licensee_name=None if licensee is None else licensee.name,
        licensee_credit_code=None if licensee is None else licensee.credit_code,
        territory=spec.territory.strip(),
        field_of_use=spec.field_of_use.strip(),
        starts_on=spec.starts_on,
        ends_on=spec.ends_on,
        created_at=unit.now,
    )
    unit.session.add(consent)
    await unit.session.flush()
    unit.record(
        "loan.license_consented",
        f"loan:{loan.id}",
        {
            "consent_id": consent.id,
            "collateral_id": item.id,
            "kind": kind.value,
            "licensee_credit_code": consent.licensee_credit_code,
            "territory": consent.territory,
            "field": consent.field_of_use,
            "starts_on": spec.starts_on.isoformat(),
            "ends_on": spec.ends_on.isoformat(),
        },
    )
    return consent
