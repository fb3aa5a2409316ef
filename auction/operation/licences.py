"""Licences of pool assets: granted by the pool's agency within the overlap rule
(auction.operation.rules.licence_overlap), and, for a right pledged again, only with its pledgee's
consent for those terms (民法典第444条). An open licence (开放许可, 专利法第50条) publishes its terms;
any market participant (transfer.registry.market_standing) takes a non-exclusive licence at them.

Every grant locks the asset first, so two licences that cannot both stand are never both granted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auction.operation.models import LicenseConsent, PoolAsset, PoolLicense
from auction.operation.pools import own_pool
from auction.operation.rules.licence_overlap import LicenceKind, LicenceTerms, first_conflict
from auction.operation.terms import BPS_WHOLE
from transfer.kernel.errors import Conflict, DomainError, NotFound
from transfer.kernel.money import MAX_AMOUNT_FEN
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.loans import CollateralItem, CollateralPledge
from transfer.registry.loans import registry_key
from transfer.registry.market_standing import refuse_without_market_standing
from transfer.rules.fee_waiver import shanghai_trade_date
from transfer.rules.uscc import normalize_uscc, validate_uscc

MAX_TERRITORY_LENGTH = 100
MAX_FIELD_LENGTH = 200
MAX_NAME_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Licensee:
    name: str
    credit_code: str


@dataclass(frozen=True, slots=True)
class LicenceSpec:
    asset_id: int
    kind: str
    licensee: Licensee | None
    territory: str
    field_of_use: str
    upfront_fen: int
    running_royalty_bps: int
    starts_on: date
    ends_on: date


def _text(value: str, field: str, max_length: int) -> str:
    cleaned = value.strip()
    if not cleaned or len(cleaned) > max_length:
        raise DomainError("text_length", f"{field} must be 1 to {max_length} characters", field=field)
    return cleaned


def check_licensee(licensee: Licensee) -> Licensee:
    code = normalize_uscc(licensee.credit_code)
    reason = validate_uscc(code)
    if reason is not None:
        raise DomainError("invalid_credit_code", reason, field="licensee_credit_code")
    return Licensee(_text(licensee.name, "licensee_name", MAX_NAME_LENGTH), code)


def _kind(kind: str) -> LicenceKind:
    try:
        return LicenceKind(kind)
    except ValueError:
        raise DomainError(
            "unknown_kind", f"kind must be one of {', '.join(k.value for k in LicenceKind)}", field="kind"
        ) from None


def _checked(spec: LicenceSpec) -> tuple[LicenceKind, Licensee | None, LicenceTerms]:
    kind = _kind(spec.kind)
    if kind is LicenceKind.OPEN and spec.licensee is not None:
        raise DomainError(
            "licensee_not_allowed", "an open licence names no licensee: it is taken", field="licensee_name"
        )
    if kind is not LicenceKind.OPEN and spec.licensee is None:
        raise DomainError(
            "licensee_required", f"a {kind.value} licence names its licensee", field="licensee_name"
        )
    licensee = None if spec.licensee is None else check_licensee(spec.licensee)
    if spec.starts_on > spec.ends_on:
        raise DomainError("ends_before_start", "ends_on must not be before starts_on", field="ends_on")
    if not 0 <= spec.upfront_fen <= MAX_AMOUNT_FEN:
        raise DomainError(
            "amount_out_of_range", "upfront must lie between 0 and the largest amount", field="upfront"
        )
    if not 0 <= spec.running_royalty_bps <= BPS_WHOLE:
        raise DomainError(
            "share_out_of_range",
            f"running_royalty_bps must lie between 0 and {BPS_WHOLE}",
            field="running_royalty_bps",
        )
    terms = LicenceTerms(
        0,
        kind,
        _text(spec.territory, "territory", MAX_TERRITORY_LENGTH),
        _text(spec.field_of_use, "field", MAX_FIELD_LENGTH),
        spec.starts_on,
        spec.ends_on,
    )
    return kind, licensee, terms


async def _lock_asset(unit: UnitOfWork, asset_id: int, pool_id: int) -> PoolAsset:
    asset = (
        await unit.session.execute(
            select(PoolAsset).where(PoolAsset.id == asset_id, PoolAsset.pool_id == pool_id).with_for_update()
        )
    ).scalar_one_or_none()
    if asset is None:
        raise NotFound("asset_not_found", f"pool {pool_id} holds no asset {asset_id}", field="asset_id")
    return asset


def _terms(licence: PoolLicense) -> LicenceTerms:
    return LicenceTerms(
        licence.id,
        LicenceKind(licence.kind),
        licence.territory,
        licence.field_of_use,
        licence.starts_on,
        licence.ends_on,
    )


async def _refuse_conflict(unit: UnitOfWork, asset: PoolAsset, wanted: LicenceTerms, field: str) -> None:
    standing = (
        await unit.session.execute(
            select(PoolLicense).where(PoolLicense.asset_id == asset.id).order_by(PoolLicense.id)
        )
    ).scalars()
    conflict = first_conflict(wanted, (_terms(licence) for licence in standing))
    if conflict is not None:
        raise Conflict(
            "license_conflict",
            f"a {wanted.kind.value} licence in {wanted.territory} / {wanted.field_of_use} from {wanted.starts_on}"
            f" to {wanted.ends_on} cannot stand with {conflict.kind.value} licence {conflict.licence_id}"
            f" ({conflict.territory} / {conflict.field_of_use}, {conflict.starts_on} to {conflict.ends_on})",
            field=field,
            extra={"conflicting_license_id": conflict.licence_id, "conflicting_kind": conflict.kind.value},
        )


async def _consent_for(
    unit: UnitOfWork, asset: PoolAsset, terms: LicenceTerms, licensee: Licensee | None
) -> int | None:
    """A right pledged again (a live pledge of its kind and registry number) is licensed only under
    a consent of that loan's creditor for exactly these terms; None when it is not pledged."""
    item = await unit.session.get(CollateralItem, asset.collateral_id)
    assert item is not None
    pledge = await unit.session.get(CollateralPledge, (item.kind, registry_key(item.registry_number)))
    if pledge is None:
        return None
    consent = (
        await unit.session.execute(
            select(LicenseConsent.id)
            .where(
                LicenseConsent.loan_id == pledge.loan_id,
                LicenseConsent.collateral_id == pledge.collateral_id,
                LicenseConsent.kind == terms.kind.value,
                LicenseConsent.territory == terms.territory,
                LicenseConsent.field_of_use == terms.field_of_use,
                LicenseConsent.starts_on == terms.starts_on,
                LicenseConsent.ends_on == terms.ends_on,
                LicenseConsent.licensee_credit_code.is_(None)
                if licensee is None
                else LicenseConsent.licensee_credit_code == licensee.credit_code,
            )
            .order_by(LicenseConsent.id)
            .limit(1)
        )
    ).scalar_one_or_none()
    if consent is None:
        raise Conflict(
            "consent_required",
            f"asset {asset.id} is pledged again on loan {pledge.loan_id}: licensing it needs that loan's"
            " creditor's consent to these terms (民法典第444条)",
            field="asset_id",
            extra={"loan_id": pledge.loan_id, "collateral_id": pledge.collateral_id},
        )
    return consent


async def grant_licence(unit: UnitOfWork, pool_id: int, agency_id: int, spec: LicenceSpec) -> PoolLicense:
    kind, licensee, terms = _checked(spec)
    pool = await own_pool(unit, pool_id, agency_id, "id")
    asset = await _lock_asset(unit, spec.asset_id, pool.id)
    await _refuse_conflict(unit, asset, terms, "kind")
    consent_id = await _consent_for(unit, asset, terms, licensee)
    licence = PoolLicense(
        pool_id=pool.id,
        asset_id=asset.id,
        kind=kind.value,
        licensee_name=None if licensee is None else licensee.name,
        licensee_credit_code=None if licensee is None else licensee.credit_code,
        territory=terms.territory,
        field_of_use=terms.field_of_use,
        upfront_fen=spec.upfront_fen,
        running_royalty_bps=spec.running_royalty_bps,
        starts_on=terms.starts_on,
        ends_on=terms.ends_on,
        consent_id=consent_id,
        created_at=unit.now,
    )
    unit.session.add(licence)
    await unit.session.flush()
    _record(unit, licence)
    return licence


def _record(unit: UnitOfWork, licence: PoolLicense) -> None:
    unit.record(
        "pool.licensed",
        f"pool:{licence.pool_id}",
        {
            "license_id": licence.id,
            "asset_id": licence.asset_id,
            "kind": licence.kind,
            "licensee_credit_code": licence.licensee_credit_code,
            "territory": licence.territory,
            "field": licence.field_of_use,
            "starts_on": licence.starts_on.isoformat(),
            "ends_on": licence.ends_on.isoformat(),
            "open_license_id": licence.open_license_id,
            "consent_id": licence.consent_id,
        },
    )


async def take_open_licence(unit: UnitOfWork, open_id: int, taker_id: int, licensee: Licensee) -> PoolLicense:
    """Any market participant takes a non-exclusive licence at an open licence's published terms,
    from today on (the clearing and admin roles are not market participants)."""
    await refuse_without_market_standing(unit.session, taker_id)
    taker = check_licensee(licensee)
    published = await unit.session.get(PoolLicense, open_id)
    if published is None or published.kind != LicenceKind.OPEN:
        raise NotFound("open_license_not_found", f"open licence {open_id} does not exist", field="id")
    asset = await _lock_asset(unit, published.asset_id, published.pool_id)
    today = shanghai_trade_date(unit.now)
    if published.ends_on < today:
        raise Conflict(
            "open_license_ended", f"open licence {open_id} ended on {published.ends_on}", field="id"
        )
    taken = (
        await unit.session.execute(
            select(PoolLicense.id).where(
                PoolLicense.open_license_id == published.id,
                PoolLicense.licensee_credit_code == taker.credit_code,
            )
        )
    ).first()
    if taken is not None:
        raise Conflict(
            "already_licensed",
            f"{taker.credit_code} already holds licence {taken[0]} from it",
            field="licensee_credit_code",
        )
    licence = PoolLicense(
        pool_id=published.pool_id,
        asset_id=asset.id,
        kind=LicenceKind.NON_EXCLUSIVE.value,
        licensee_name=taker.name,
        licensee_credit_code=taker.credit_code,
        territory=published.territory,
        field_of_use=published.field_of_use,
        upfront_fen=published.upfront_fen,
        running_royalty_bps=published.running_royalty_bps,
        starts_on=max(published.starts_on, today),
        ends_on=published.ends_on,
        open_license_id=published.id,
        # The open licence was granted under the pledgee's consent, if the right needed one.
        consent_id=published.consent_id,
        created_at=unit.now,
    )
    unit.session.add(licence)
    await unit.session.flush()
    _record(unit, licence)
    return licence


async def list_open_licences(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[list[tuple[PoolLicense, CollateralItem]], int]:
    """Published open licences with the right each covers, oldest first."""
    total = (
        await session.execute(
            select(func.count()).select_from(PoolLicense).where(PoolLicense.kind == LicenceKind.OPEN.value)
        )
    ).scalar_one()
    rows = await session.execute(
        select(PoolLicense, CollateralItem)
        .join(PoolAsset, PoolAsset.id == PoolLicense.asset_id)
        .join(CollateralItem, CollateralItem.id == PoolAsset.collateral_id)
        .where(PoolLicense.kind == LicenceKind.OPEN.value)
        .order_by(PoolLicense.id)
        .limit(limit)
        .offset(offset)
    )
    return [(licence, item) for licence, item in rows.all()], int(total)


async def pool_licences(session: AsyncSession, pool_id: int, *, limit: int) -> list[PoolLicense]:
    rows = await session.execute(
        select(PoolLicense).where(PoolLicense.pool_id == pool_id).order_by(PoolLicense.id).limit(limit)
    )
    return list(rows.scalars())
