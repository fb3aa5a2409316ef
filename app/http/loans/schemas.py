"""Loan registry bodies: money as yuan strings, dates as YYYY-MM-DD, shares as integer ppm.

Shapes and bounds are checked here (msgspec); the rules (credit code, kinds, amounts, dates) are
the service's, so they hold whoever calls it. Lengths here only bound what is decoded.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from app.http.input_bounds import Id, check_date, text
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
from transfer.rules.collateral import is_ip_kind

# Room for surrounding whitespace, which the service strips before applying its own limits.
_SLACK = 20


def _text(max_length: int) -> msgspec.Meta:
    return text(max_length + _SLACK)


class CollateralIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Annotated[str, text(64)]
    registry_number: Annotated[str, _text(MAX_REGISTRY_NUMBER_LENGTH)]
    title: Annotated[str, _text(MAX_TITLE_LENGTH)]
    right_holder: Annotated[str, _text(MAX_RIGHT_HOLDER_LENGTH)]
    appraisal: str
    appraised_on: date
    pledge_registration_no: Annotated[str, _text(MAX_PLEDGE_REGISTRATION_NO_LENGTH)] | None = None
    expires_on: date | None = None

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
        )


class LoanCreate(msgspec.Struct, forbid_unknown_fields=True):
    borrower_name: Annotated[str, _text(MAX_BORROWER_NAME_LENGTH)]
    borrower_credit_code: Annotated[str, text(64)]
    principal: str
    outstanding_principal: str
    rate_bps: Annotated[int, msgspec.Meta(ge=0, le=MAX_RATE_BPS)]
    originated_on: date
    matures_on: date
    status: Annotated[str, text(64)]
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
    # pledged | in_disposal | released | delivered
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
    ip_share_ppm: int
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
