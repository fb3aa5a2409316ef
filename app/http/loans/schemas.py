"""Loan registry bodies: money as yuan strings, dates as YYYY-MM-DD, shares as integer ppm.

Shapes and bounds are checked here (msgspec); the rules (credit code, kinds, amounts, dates) are
the service's, so they hold whoever calls it. Lengths here only bound what is decoded.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from app.http.input_bounds import Id, Yuan, YuanOrZero, check_date, one_of_values, text
from transfer.kernel.money import format_fen, parse_yuan
from transfer.models.loans import CollateralItem
from transfer.registry.loans import (
    MAX_BORROWER_NAME_LENGTH,
    MAX_COLLATERAL_ITEMS,
    MAX_PLEDGE_REGISTRATION_NO_LENGTH,
    MAX_RATE_BPS,
    MAX_REGISTRY_NUMBER_LENGTH,
    MAX_RIGHT_HOLDER_LENGTH,
    MAX_TITLE_LENGTH,
    CollateralSpec,
    LoanSpec,
    LoanView,
)
from transfer.registry.loans import STATUSES as LOAN_STATUSES
from transfer.registry.patent_facts import PatentFacts
from transfer.rules.annuity_fees import FEE_REDUCTION_BPS
from transfer.rules.collateral import ALL_KINDS, is_ip_kind

# Basis points of the fee reduction; the values the rule knows (or null: none given), stated in the
# document, checked by the service.
ReductionBps = Annotated[
    int,
    msgspec.Meta(ge=0, le=10_000, extra_json_schema={"extra": {"enum": [*sorted(FEE_REDUCTION_BPS), None]}}),
]


def _text(max_length: int) -> msgspec.Meta:
    """Required text the service strips (an empty one is refused as `empty_field`)."""
    return text(max_length, min_length=1, stripped=True)


class CollateralIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Annotated[str, one_of_values(sorted(ALL_KINDS), max_length=64)]
    registry_number: Annotated[str, _text(MAX_REGISTRY_NUMBER_LENGTH)]
    title: Annotated[str, _text(MAX_TITLE_LENGTH)]
    right_holder: Annotated[str, _text(MAX_RIGHT_HOLDER_LENGTH)]
    appraisal: Yuan
    appraised_on: date
    pledge_registration_no: Annotated[str, text(MAX_PLEDGE_REGISTRATION_NO_LENGTH, stripped=True)] | None = (
        None
    )
    expires_on: date | None = None
    # Patents only: required for a patent, refused for anything else (transfer.registry.patent_facts).
    filed_on: date | None = None
    granted_on: date | None = None
    fee_reduction_bps: ReductionBps | None = None

    def to_spec(self, position: int) -> CollateralSpec:
        return CollateralSpec(
            kind=self.kind,
            registry_number=self.registry_number,
            title=self.title,
            right_holder=self.right_holder,
            appraisal_fen=parse_yuan(self.appraisal, f"collateral[{position}].appraisal"),
            appraised_on=check_date(self.appraised_on, f"collateral[{position}].appraised_on"),
            pledge_registration_no=self.pledge_registration_no,
            expires_on=None
            if self.expires_on is None
            else check_date(self.expires_on, f"collateral[{position}].expires_on"),
            patent=patent_facts(
                self.filed_on, self.granted_on, self.fee_reduction_bps, f"collateral[{position}]."
            ),
        )


def patent_facts(
    filed_on: date | None, granted_on: date | None, fee_reduction_bps: int | None, prefix: str
) -> PatentFacts:
    return PatentFacts(
        filed_on=None if filed_on is None else check_date(filed_on, f"{prefix}filed_on"),
        granted_on=None if granted_on is None else check_date(granted_on, f"{prefix}granted_on"),
        fee_reduction_bps=fee_reduction_bps,
    )


class PatentFactsIn(msgspec.Struct, forbid_unknown_fields=True):
    """PATCH /loans/{id}/collateral/{cid}: the facts given replace the stored ones; at least one."""

    filed_on: date | None = None
    granted_on: date | None = None
    fee_reduction_bps: ReductionBps | None = None

    def to_facts(self) -> PatentFacts:
        return patent_facts(self.filed_on, self.granted_on, self.fee_reduction_bps, "")


class LoanCreate(msgspec.Struct, forbid_unknown_fields=True):
    borrower_name: Annotated[str, _text(MAX_BORROWER_NAME_LENGTH)]
    borrower_credit_code: Annotated[str, text(64)]
    principal: Yuan
    outstanding_principal: YuanOrZero
    rate_bps: Annotated[int, msgspec.Meta(ge=0, le=MAX_RATE_BPS)]
    originated_on: date
    matures_on: date
    status: Annotated[str, one_of_values(LOAN_STATUSES, max_length=64)]
    collateral: Annotated[list[CollateralIn], msgspec.Meta(max_length=MAX_COLLATERAL_ITEMS)]
    servicer_id: Id | None = None

    def to_spec(self) -> LoanSpec:
        return LoanSpec(
            borrower_name=self.borrower_name,
            borrower_credit_code=self.borrower_credit_code,
            principal_fen=parse_yuan(self.principal, "principal"),
            # A loan repaid down to nothing is still a loan on the books until it is closed.
            outstanding_principal_fen=parse_yuan(
                self.outstanding_principal, "outstanding_principal", allow_zero=True
            ),
            rate_bps=self.rate_bps,
            originated_on=check_date(self.originated_on, "originated_on"),
            matures_on=check_date(self.matures_on, "matures_on"),
            status=self.status,
            collateral=[item.to_spec(position) for position, item in enumerate(self.collateral)],
            servicer_id=self.servicer_id,
        )


class CollateralOut(msgspec.Struct):
    id: int
    kind: str
    is_ip: bool
    registry_number: str
    title: str
    right_holder: str
    appraisal: str
    appraised_on: date
    pledge_registration_no: str | None
    expires_on: date | None
    filed_on: date | None
    granted_on: date | None
    fee_reduction_bps: int | None
    # pledged | in_disposal | released | delivered | lapsed
    state: str

    @classmethod
    def of(cls, item: CollateralItem) -> CollateralOut:
        return cls(
            id=item.id,
            kind=item.kind,
            is_ip=is_ip_kind(item.kind),
            registry_number=item.registry_number,
            title=item.title,
            right_holder=item.right_holder,
            appraisal=format_fen(item.appraisal_fen),
            appraised_on=item.appraised_on,
            pledge_registration_no=item.pledge_registration_no,
            expires_on=item.expires_on,
            filed_on=item.filed_on,
            granted_on=item.granted_on,
            fee_reduction_bps=item.fee_reduction_bps,
            state=item.state,
        )


class IncomeRightOut(msgspec.Struct):
    holder_id: int
    share_ppm: int


class LoanOut(msgspec.Struct):
    id: int
    creditor_id: int
    servicer_id: int
    originator_id: int
    borrower_name: str
    borrower_credit_code: str
    principal: str
    outstanding_principal: str
    rate_bps: int
    originated_on: date
    matures_on: date
    status: str
    # What the debtor still owes after a disposal of the collateral; None before any disposal ended.
    remaining_claim: str | None
    is_ip_pledge: bool
    # Both over the collateral in force: a lapsed patent backs nothing until it is restored.
    ip_share_ppm: int
    appraisal_in_force: str
    collateral: list[CollateralOut]
    income_rights: list[IncomeRightOut]
    created_at: str

    @classmethod
    def of(cls, view: LoanView) -> LoanOut:
        loan = view.loan
        return cls(
            id=loan.id,
            creditor_id=loan.creditor_id,
            servicer_id=loan.servicer_id,
            originator_id=loan.originator_id,
            borrower_name=loan.borrower_name,
            borrower_credit_code=loan.borrower_credit_code,
            principal=format_fen(loan.principal_fen),
            outstanding_principal=format_fen(loan.outstanding_principal_fen),
            rate_bps=loan.rate_bps,
            originated_on=loan.originated_on,
            matures_on=loan.matures_on,
            status=loan.status,
            remaining_claim=None
            if loan.remaining_claim_fen is None
            else format_fen(loan.remaining_claim_fen),
            is_ip_pledge=view.is_ip_pledge,
            ip_share_ppm=view.ip_share_ppm,
            appraisal_in_force=format_fen(view.appraisal_in_force_fen),
            collateral=[CollateralOut.of(item) for item in view.collateral],
            income_rights=[
                IncomeRightOut(holder_id, share_ppm) for holder_id, share_ppm in view.income_rights
            ],
            created_at=loan.created_at.isoformat(),
        )


class LoanPage(msgspec.Struct):
    items: list[LoanOut]
    total: int
    limit: int
    offset: int
