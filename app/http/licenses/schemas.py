"""Licence bodies and answers: money as yuan strings, dates YYYY-MM-DD."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from app.http.input_bounds import Id, YuanOrZero, check_date, one_of_values, text
from auction.operation.consents import ConsentSpec
from auction.operation.licences import (
    MAX_FIELD_LENGTH,
    MAX_NAME_LENGTH,
    MAX_TERRITORY_LENGTH,
    LicenceSpec,
    Licensee,
)
from auction.operation.models import LicenseConsent, PoolLicense
from auction.operation.rules.licence_overlap import LicenceKind
from transfer.kernel.money import format_fen, parse_yuan
from transfer.models.loans import CollateralItem

Name = Annotated[str, text(MAX_NAME_LENGTH, min_length=1, stripped=True)]
CreditCode = Annotated[str, text(40, min_length=1)]
Territory = Annotated[str, text(MAX_TERRITORY_LENGTH, min_length=1, stripped=True)]
FieldOfUse = Annotated[str, text(MAX_FIELD_LENGTH, min_length=1, stripped=True)]
Kind = Annotated[str, one_of_values(LicenceKind, max_length=20)]


def _licensee(name: str | None, credit_code: str | None) -> Licensee | None:
    if name is None and credit_code is None:
        return None
    return Licensee(name or "", credit_code or "")


class LicenseIn(msgspec.Struct, forbid_unknown_fields=True):
    asset_id: Id
    kind: Kind
    territory: Territory
    field: FieldOfUse
    starts_on: date
    ends_on: date
    upfront: YuanOrZero = "0.00"
    running_royalty_bps: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 0
    licensee_name: Name | None = None
    licensee_credit_code: CreditCode | None = None

    def to_spec(self) -> LicenceSpec:
        return LicenceSpec(
            asset_id=self.asset_id,
            kind=self.kind,
            licensee=_licensee(self.licensee_name, self.licensee_credit_code),
            territory=self.territory,
            field_of_use=self.field,
            upfront_fen=parse_yuan(self.upfront, "upfront", allow_zero=True),
            running_royalty_bps=self.running_royalty_bps,
            starts_on=check_date(self.starts_on, "starts_on"),
            ends_on=check_date(self.ends_on, "ends_on"),
        )


class TakeIn(msgspec.Struct, forbid_unknown_fields=True):
    licensee_name: Name
    licensee_credit_code: CreditCode

    def to_licensee(self) -> Licensee:
        return Licensee(self.licensee_name, self.licensee_credit_code)


class ConsentIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Kind
    territory: Territory
    field: FieldOfUse
    starts_on: date
    ends_on: date
    licensee_name: Name | None = None
    licensee_credit_code: CreditCode | None = None

    def to_spec(self) -> ConsentSpec:
        return ConsentSpec(
            kind=self.kind,
            licensee=_licensee(self.licensee_name, self.licensee_credit_code),
            territory=self.territory,
            field_of_use=self.field,
            starts_on=check_date(self.starts_on, "starts_on"),
            ends_on=check_date(self.ends_on, "ends_on"),
        )


class LicenseOut(msgspec.Struct):
    id: int
    pool_id: int
    asset_id: int
    kind: str
    licensee_name: str | None
    licensee_credit_code: str | None
    territory: str
    field: str
    upfront: str
    running_royalty_bps: int
    starts_on: str
    ends_on: str
    open_license_id: int | None
    consent_id: int | None
    created_at: str

    @classmethod
    def of(cls, licence: PoolLicense) -> LicenseOut:
        return cls(
            id=licence.id,
            pool_id=licence.pool_id,
            asset_id=licence.asset_id,
            kind=licence.kind,
            licensee_name=licence.licensee_name,
            licensee_credit_code=licence.licensee_credit_code,
            territory=licence.territory,
            field=licence.field_of_use,
            upfront=format_fen(licence.upfront_fen),
            running_royalty_bps=licence.running_royalty_bps,
            starts_on=licence.starts_on.isoformat(),
            ends_on=licence.ends_on.isoformat(),
            open_license_id=licence.open_license_id,
            consent_id=licence.consent_id,
            created_at=licence.created_at.isoformat(),
        )


class OpenLicenseOut(msgspec.Struct):
    """An open licence as anyone sees it: the right, and the terms anyone may take."""

    id: int
    kind: str
    registry_number: str
    title: str
    territory: str
    field: str
    upfront: str
    running_royalty_bps: int
    starts_on: str
    ends_on: str

    @classmethod
    def of(cls, licence: PoolLicense, item: CollateralItem) -> OpenLicenseOut:
        return cls(
            id=licence.id,
            kind=item.kind,
            registry_number=item.registry_number,
            title=item.title,
            territory=licence.territory,
            field=licence.field_of_use,
            upfront=format_fen(licence.upfront_fen),
            running_royalty_bps=licence.running_royalty_bps,
            starts_on=licence.starts_on.isoformat(),
            ends_on=licence.ends_on.isoformat(),
        )


class OpenLicensePage(msgspec.Struct):
    items: list[OpenLicenseOut]
    total: int
    limit: int
    offset: int


class ConsentOut(msgspec.Struct):
    id: int
    loan_id: int
    collateral_id: int
    kind: str
    licensee_name: str | None
    licensee_credit_code: str | None
    territory: str
    field: str
    starts_on: str
    ends_on: str
    created_at: str

    @classmethod
    def of(cls, consent: LicenseConsent) -> ConsentOut:
        return cls(
            id=consent.id,
            loan_id=consent.loan_id,
            collateral_id=consent.collateral_id,
            kind=consent.kind,
            licensee_name=consent.licensee_name,
            licensee_credit_code=consent.licensee_credit_code,
            territory=consent.territory,
            field=consent.field_of_use,
            starts_on=consent.starts_on.isoformat(),
            ends_on=consent.ends_on.isoformat(),
            created_at=consent.created_at.isoformat(),
        )
