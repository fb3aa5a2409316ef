"""The loan and collateral registry: registering a loan with its collateral, and who may see it.

A registration is all or nothing: the loan, its collateral items, one live pledge per item and the
creditor's whole income right are written in one transaction with one audit event. A right (kind and
registry number) can back only one live loan at a time; the collateral_pledges primary key enforces
that under any concurrency, and this module turns the race into a clean refusal naming the item.

Its length is the registration's validation (one short function per field group) next to the
write it guards: a loan's rules read in one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.kernel.errors import Conflict, DomainError, NotFound
from transfer.kernel.money import MAX_AMOUNT_FEN
from transfer.kernel.unit_of_work import RetryTransaction, UnitOfWork
from transfer.models import Participant
from transfer.models.loans import CollateralItem, CollateralPledge, IncomeRight, Loan
from transfer.registry.patent_facts import PatentFacts, check_patent_facts
from transfer.rules.collateral import ALL_KINDS, ip_share_ppm, is_ip_pledge, is_known_kind
from transfer.rules.fee_waiver import shanghai_trade_date
from transfer.rules.shares import WHOLE_SHARE_PPM
from transfer.rules.uscc import normalize_uscc, validate_uscc

STATUSES = ("performing", "overdue", "non_performing")
# Set by the repayment of the last principal (transfer.servicing.repayments), never at registration.
REPAID = "repaid"
# Set when its creditor declares a default (auction.disposal): the collateral goes to disposal, the
# loan is no longer traded.
DEFAULTED = "defaulted"
# A collateral item's state when its patent lapsed for an unpaid annuity (transfer.annuities): it
# backs nothing until restored, so it counts for nothing in the loan's appraisal-backed figures.
LAPSED = "lapsed"
MAX_RATE_BPS = 100_000  # 1,000 % a year: anything above is a typo, not a loan
MIN_COLLATERAL_ITEMS = 1
MAX_COLLATERAL_ITEMS = 100
MAX_BORROWER_NAME_LENGTH = 200
MAX_REGISTRY_NUMBER_LENGTH = 100
MAX_TITLE_LENGTH = 300
MAX_RIGHT_HOLDER_LENGTH = 200
MAX_PLEDGE_REGISTRATION_NO_LENGTH = 100
# Roles that see every loan: the center's clearing desk reconciles them all, admins run the system.
ROLES_SEEING_ALL_LOANS = frozenset({"clearing", "admin"})

NO_PATENT_FACTS = PatentFacts()

_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class CollateralSpec:
    kind: str
    registry_number: str
    title: str
    right_holder: str
    appraisal_fen: int
    appraised_on: date
    pledge_registration_no: str | None = None
    expires_on: date | None = None
    patent: PatentFacts = NO_PATENT_FACTS


@dataclass(frozen=True, slots=True)
class LoanSpec:
    borrower_name: str
    borrower_credit_code: str
    principal_fen: int
    outstanding_principal_fen: int
    rate_bps: int
    originated_on: date
    matures_on: date
    status: str
    collateral: Sequence[CollateralSpec]
    servicer_id: int | None = None


@dataclass(frozen=True, slots=True)
class LoanView:
    """A loan as its parties see it: the row, its collateral in request order, its income rights."""

    loan: Loan
    collateral: list[CollateralItem]
    income_rights: list[tuple[int, int]]  # (holder_id, share_ppm), by holder id

    @property
    def is_ip_pledge(self) -> bool:
        return is_ip_pledge(item.kind for item in self.collateral)

    @property
    def ip_share_ppm(self) -> int:
        return ip_share_ppm((item.kind, appraisal_in_force_fen(item)) for item in self.collateral)

    @property
    def appraisal_in_force_fen(self) -> int:
        return sum(appraisal_in_force_fen(item) for item in self.collateral)


def patent_facts_payload(item: CollateralItem) -> dict[str, object]:
    """An item's patent facts for an audit event (nothing for a right that is no patent)."""
    if item.filed_on is None:
        return {}
    return {
        "filed_on": item.filed_on.isoformat(),
        "granted_on": None if item.granted_on is None else item.granted_on.isoformat(),
        "fee_reduction_bps": item.fee_reduction_bps,
    }


def appraisal_in_force_fen(item: CollateralItem) -> int:
    """What an item backs the loan with: its appraisal, or nothing once its patent has lapsed."""
    return 0 if item.state == LAPSED else item.appraisal_fen


def registry_key(registry_number: str) -> str:
    """The identity of a registry number: case and whitespace are how people type it, not what it is."""
    return _WHITESPACE.sub("", registry_number).upper()


def _text(value: str, field: str, max_length: int) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise DomainError("empty_field", "must not be empty", field=field)
    if len(cleaned) > max_length:
        raise DomainError("field_too_long", f"is longer than {max_length} characters", field=field)
    return cleaned


def _optional_text(value: str | None, field: str, max_length: int) -> str | None:
    if value is None or not value.strip():
        return None
    return _text(value, field, max_length)


def _validate_amounts(spec: LoanSpec) -> None:
    if not 0 < spec.principal_fen <= MAX_AMOUNT_FEN:
        raise DomainError("invalid_amount", "must be greater than zero", field="principal")
    if spec.outstanding_principal_fen < 0:
        raise DomainError("invalid_amount", "must not be negative", field="outstanding_principal")
    if spec.outstanding_principal_fen > spec.principal_fen:
        raise DomainError(
            "outstanding_exceeds_principal",
            "the outstanding principal cannot exceed the principal",
            field="outstanding_principal",
        )
    if not 0 <= spec.rate_bps <= MAX_RATE_BPS:
        raise DomainError(
            "rate_out_of_range", f"must lie in 0..{MAX_RATE_BPS} basis points", field="rate_bps"
        )
    if spec.originated_on >= spec.matures_on:
        raise DomainError(
            "maturity_not_after_origination", "must be later than originated_on", field="matures_on"
        )
    if spec.status not in STATUSES:
        raise DomainError("unknown_status", f"must be one of {', '.join(STATUSES)}", field="status")


def _validate_collateral(items: Sequence[CollateralSpec], today: date) -> list[CollateralSpec]:
    if not MIN_COLLATERAL_ITEMS <= len(items) <= MAX_COLLATERAL_ITEMS:
        raise DomainError(
            "collateral_count",
            f"a loan needs {MIN_COLLATERAL_ITEMS} to {MAX_COLLATERAL_ITEMS} collateral items, got {len(items)}",
            field="collateral",
        )
    cleaned: list[CollateralSpec] = []
    first_position_of: dict[tuple[str, str], int] = {}
    for position, item in enumerate(items):
        prefix = f"collateral[{position}]"
        if not is_known_kind(item.kind):
            raise DomainError(
                "unknown_collateral_kind",
                f"unknown kind {item.kind[:40]!r}; kinds are {', '.join(sorted(ALL_KINDS))}",
                field=f"{prefix}.kind",
            )
        if not 0 < item.appraisal_fen <= MAX_AMOUNT_FEN:
            raise DomainError("invalid_amount", "must be greater than zero", field=f"{prefix}.appraisal")
        registry_number = _text(item.registry_number, f"{prefix}.registry_number", MAX_REGISTRY_NUMBER_LENGTH)
        identity = (item.kind, registry_key(registry_number))
        if identity in first_position_of:
            raise DomainError(
                "duplicate_collateral",
                f"the same {item.kind} is already collateral[{first_position_of[identity]}] of this loan",
                field=f"{prefix}.registry_number",
            )
        first_position_of[identity] = position
        check_patent_facts(item.kind, item.patent, today, f"{prefix}.", required=True)
        cleaned.append(
            CollateralSpec(
                kind=item.kind,
                registry_number=registry_number,
                title=_text(item.title, f"{prefix}.title", MAX_TITLE_LENGTH),
                right_holder=_text(item.right_holder, f"{prefix}.right_holder", MAX_RIGHT_HOLDER_LENGTH),
                appraisal_fen=item.appraisal_fen,
                appraised_on=item.appraised_on,
                pledge_registration_no=_optional_text(
                    item.pledge_registration_no,
                    f"{prefix}.pledge_registration_no",
                    MAX_PLEDGE_REGISTRATION_NO_LENGTH,
                ),
                expires_on=item.expires_on,
                patent=item.patent,
            )
        )
    return cleaned


async def _servicer_id(unit: UnitOfWork, creditor_id: int, servicer_id: int | None) -> int:
    if servicer_id is None or servicer_id == creditor_id:
        return creditor_id
    servicer = await unit.session.get(Participant, servicer_id)
    # The body names the servicer, so an unknown or unfit one is a fault of the request (422).
    if servicer is None or not servicer.active:
        raise DomainError(
            "servicer_not_found", f"participant {servicer_id} does not exist", field="servicer_id"
        )
    if "bank" not in servicer.role_set:
        raise DomainError(
            "servicer_not_bank", f"participant {servicer_id} does not hold the role bank", field="servicer_id"
        )
    return servicer_id


async def _refuse_live_pledges(unit: UnitOfWork, items: Sequence[CollateralSpec]) -> None:
    keys = {registry_key(item.registry_number) for item in items}
    rows = await unit.session.execute(
        select(CollateralPledge.kind, CollateralPledge.registry_key).where(
            CollateralPledge.registry_key.in_(keys)
        )
    )
    pledged = {(kind, key) for kind, key in rows.all()}
    for position, item in enumerate(items):
        if (item.kind, registry_key(item.registry_number)) in pledged:
            # The other loan is not named: its existence and id belong to its own parties.
            raise Conflict(
                "collateral_already_pledged",
                f"{item.kind} {item.registry_number} is already pledged to a live loan",
                field=f"collateral[{position}].registry_number",
            )


async def assert_income_rights_whole(session: AsyncSession, loan_id: int) -> None:
    """DESIGN §4.3: a loan's income-right shares sum to exactly 1,000,000 ppm, always."""
    total_ppm = (
        await session.execute(
            select(func.coalesce(func.sum(IncomeRight.share_ppm), 0)).where(IncomeRight.loan_id == loan_id)
        )
    ).scalar_one()
    assert int(total_ppm) == WHOLE_SHARE_PPM, f"income rights of loan {loan_id} sum to {total_ppm} ppm"


async def register_loan(unit: UnitOfWork, creditor_id: int, spec: LoanSpec) -> LoanView:
    """Register a loan with the caller as creditor, servicer by default, and holder of all income."""
    borrower_credit_code = normalize_uscc(spec.borrower_credit_code)
    reason = validate_uscc(borrower_credit_code)
    if reason is not None:
        raise DomainError("invalid_credit_code", reason, field="borrower_credit_code")
    borrower_name = _text(spec.borrower_name, "borrower_name", MAX_BORROWER_NAME_LENGTH)
    _validate_amounts(spec)
    items = _validate_collateral(spec.collateral, shanghai_trade_date(unit.now))
    servicer_id = await _servicer_id(unit, creditor_id, spec.servicer_id)
    await _refuse_live_pledges(unit, items)

    loan = Loan(
        creditor_id=creditor_id,
        originator_id=creditor_id,
        servicer_id=servicer_id,
        borrower_name=borrower_name,
        borrower_credit_code=borrower_credit_code,
        principal_fen=spec.principal_fen,
        outstanding_principal_fen=spec.outstanding_principal_fen,
        rate_bps=spec.rate_bps,
        originated_on=spec.originated_on,
        matures_on=spec.matures_on,
        status=spec.status,
        created_at=unit.now,
    )
    unit.session.add(loan)
    await unit.session.flush()
    collateral = await _add_collateral(unit, loan, items)
    await _pledge(unit, loan, collateral)
    unit.session.add(IncomeRight(loan_id=loan.id, holder_id=creditor_id, share_ppm=WHOLE_SHARE_PPM))
    await unit.session.flush()
    await assert_income_rights_whole(unit.session, loan.id)

    view = LoanView(loan, collateral, [(creditor_id, WHOLE_SHARE_PPM)])
    unit.record("loan.registered", f"loan:{loan.id}", _registered_payload(view))
    return view


async def _add_collateral(
    unit: UnitOfWork, loan: Loan, items: Sequence[CollateralSpec]
) -> list[CollateralItem]:
    collateral = [
        CollateralItem(
            loan_id=loan.id,
            position=position,
            kind=item.kind,
            registry_number=item.registry_number,
            title=item.title,
            right_holder=item.right_holder,
            appraisal_fen=item.appraisal_fen,
            appraised_on=item.appraised_on,
            pledge_registration_no=item.pledge_registration_no,
            expires_on=item.expires_on,
            filed_on=item.patent.filed_on,
            granted_on=item.patent.granted_on,
            fee_reduction_bps=item.patent.fee_reduction_bps,
        )
        for position, item in enumerate(items)
    ]
    unit.session.add_all(collateral)
    await unit.session.flush()
    return collateral


async def _pledge(unit: UnitOfWork, loan: Loan, collateral: Sequence[CollateralItem]) -> None:
    """One live pledge per right: the table's unique key settles a race the check above lost."""
    try:
        # A savepoint, so that only a clash on the pledge key is read as the race below.
        async with unit.session.begin_nested():
            unit.session.add_all(
                CollateralPledge(
                    kind=item.kind,
                    registry_key=registry_key(item.registry_number),
                    collateral_id=item.id,
                    loan_id=loan.id,
                    pledged_at=unit.now,
                )
                for item in collateral
            )
    except IntegrityError as error:
        # Another registration pledged one of these rights after our check and committed first
        # (PostgreSQL; SQLite serialises writers). Running again, the check sees its pledge and
        # refuses with the item's field; if that transaction rolled back instead, we succeed.
        raise RetryTransaction("collateral pledged concurrently") from error


def _registered_payload(view: LoanView) -> dict[str, Any]:
    """The loan.registered audit event: the loan as registered, its collateral and income rights."""
    loan = view.loan
    return {
        "creditor_id": loan.creditor_id,
        "servicer_id": loan.servicer_id,
        "borrower_credit_code": loan.borrower_credit_code,
        "principal_fen": loan.principal_fen,
        "outstanding_principal_fen": loan.outstanding_principal_fen,
        "rate_bps": loan.rate_bps,
        "originated_on": loan.originated_on.isoformat(),
        "matures_on": loan.matures_on.isoformat(),
        "status": loan.status,
        "is_ip_pledge": view.is_ip_pledge,
        "ip_share_ppm": view.ip_share_ppm,
        "collateral": [
            {
                "id": item.id,
                "kind": item.kind,
                "registry_number": item.registry_number,
                "appraisal_fen": item.appraisal_fen,
                **patent_facts_payload(item),
            }
            for item in view.collateral
        ],
        "income_rights": {str(holder_id): share_ppm for holder_id, share_ppm in view.income_rights},
    }


async def _views(session: AsyncSession, loans: Sequence[Loan]) -> list[LoanView]:
    """Collateral and income rights for a page of loans, in two queries whatever the page size."""
    loan_ids = [loan.id for loan in loans]
    if not loan_ids:
        return []
    collateral_of: dict[int, list[CollateralItem]] = {loan_id: [] for loan_id in loan_ids}
    items = await session.execute(
        select(CollateralItem)
        .where(CollateralItem.loan_id.in_(loan_ids))
        .order_by(CollateralItem.loan_id, CollateralItem.position)
    )
    for item in items.scalars():
        collateral_of[item.loan_id].append(item)
    rights_of: dict[int, list[tuple[int, int]]] = {loan_id: [] for loan_id in loan_ids}
    rights = await session.execute(
        select(IncomeRight.loan_id, IncomeRight.holder_id, IncomeRight.share_ppm)
        .where(IncomeRight.loan_id.in_(loan_ids))
        .order_by(IncomeRight.loan_id, IncomeRight.holder_id)
    )
    for loan_id, holder_id, share_ppm in rights.all():
        rights_of[loan_id].append((holder_id, share_ppm))
    return [LoanView(loan, collateral_of[loan.id], rights_of[loan.id]) for loan in loans]


def may_see(view: LoanView, viewer_id: int, viewer_roles: Iterable[str]) -> bool:
    """The loan's parties (creditor, income-right holders, servicer) and the center's staff."""
    if ROLES_SEEING_ALL_LOANS & frozenset(viewer_roles):
        return True
    if viewer_id in (view.loan.creditor_id, view.loan.servicer_id):
        return True
    return any(holder_id == viewer_id for holder_id, _ in view.income_rights)


async def get_loan(
    session: AsyncSession, loan_id: int, *, viewer_id: int, viewer_roles: Iterable[str]
) -> LoanView:
    """The loan if the viewer may see it. Otherwise the same 404 as for a loan that does not exist,
    so that nobody learns which loan ids are taken (a bank's book is confidential)."""
    loan = await session.get(Loan, loan_id)
    views = await _views(session, [loan]) if loan is not None else []
    if not views or not may_see(views[0], viewer_id, viewer_roles):
        raise NotFound("loan_not_found", f"loan {loan_id} does not exist", field="loan_id")
    return views[0]


async def list_creditor_loans(
    session: AsyncSession, creditor_id: int, *, limit: int, offset: int
) -> tuple[list[LoanView], int]:
    """The loans whose creditor is `creditor_id`, oldest first."""
    total = int(
        (
            await session.execute(
                select(func.count()).select_from(Loan).where(Loan.creditor_id == creditor_id)
            )
        ).scalar_one()
    )
    rows = await session.execute(
        select(Loan).where(Loan.creditor_id == creditor_id).order_by(Loan.id).limit(limit).offset(offset)
    )
    return await _views(session, list(rows.scalars())), total


async def is_ip_pledge_loan(session: AsyncSession, loan_id: int) -> bool:
    """Whether the loan is an IP-pledge loan (any IP collateral): what the fee waiver asks."""
    kinds = await session.execute(select(CollateralItem.kind).where(CollateralItem.loan_id == loan_id))
    return is_ip_pledge(kinds.scalars())


def refuse_defaulted(loan: Loan, field: str | None) -> None:
    """A defaulted loan is being disposed of (auction.disposal): it is no longer traded."""
    if loan.status == DEFAULTED:
        raise Conflict(
            "loan_defaulted",
            f"loan {loan.id} is in default: its collateral is being disposed of, it is not traded",
            field=field,
        )
