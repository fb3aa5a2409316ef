"""质物状态查询 over HTTP: GET /api/v1/collateral/status?kind=&registry_number= for any participant.

The answer puts two parts together here, above both: the registry's (transfer.annuities:
pledged, in disposal, lapsed, restored) and the operation pools' (auction.operation: held in a
pool, its binding licences), which transfer may not import."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import Parameter

from app.context import AppContext
from app.http.auth import Actor
from app.http.input_bounds import NOT_BLANK_PATTERN, one_of
from auction.operation.collateral_status import LicenceFact, PoolHolding, PoolStatus, pool_status
from transfer.annuities.collateral_status import CollateralStatus, collateral_status
from transfer.registry.loans import MAX_REGISTRY_NUMBER_LENGTH
from transfer.rules.collateral import ALL_KINDS
from transfer.rules.fee_waiver import shanghai_trade_date


class CreditorOut(msgspec.Struct):
    id: int
    name: str


class AgencyOut(msgspec.Struct):
    id: int
    name: str


class PoolOut(msgspec.Struct):
    id: int
    name: str
    agency: AgencyOut
    # When the right was bought into the pool.
    since: str

    @classmethod
    def of(cls, holding: PoolHolding) -> PoolOut:
        return cls(
            holding.pool_id,
            holding.pool_name,
            AgencyOut(holding.agency_id, holding.agency_name),
            holding.since.isoformat(),
        )


class LicenceOut(msgspec.Struct):
    # exclusive | sole | open
    kind: str
    # None for an open licence (开放许可): anyone may take it at its published terms.
    licensee_name: str | None
    territory: str
    field: str
    starts_on: date
    ends_on: date

    @classmethod
    def of(cls, licence: LicenceFact) -> LicenceOut:
        return cls(
            licence.kind,
            licence.licensee_name,
            licence.territory,
            licence.field_of_use,
            licence.starts_on,
            licence.ends_on,
        )


class CollateralStatusOut(msgspec.Struct):
    kind: str
    # The registry number as the registry compares it: no whitespace, upper case.
    registry_number: str
    # not_pledged | pledged | in_disposal | lapsed
    state: str
    pledged: bool
    in_disposal: bool
    creditor: CreditorOut | None
    pledged_since: str | None
    # The latest lapse for an unpaid annuity while pledged here, and its restoration if any.
    lapsed_on: date | None
    restored_on: date | None
    # Held in an operation pool (bought out of a disposal), and since when; None if not.
    pool: PoolOut | None
    # Its exclusive, sole and open licences in force or to come (never their figures).
    licences: list[LicenceOut]

    @classmethod
    def of(cls, status: CollateralStatus, pooled: PoolStatus) -> CollateralStatusOut:
        return cls(
            kind=status.kind,
            registry_number=status.registry_key,
            state=status.state,
            pledged=status.creditor_id is not None,
            in_disposal=status.state == "in_disposal",
            creditor=None
            if status.creditor_id is None or status.creditor_name is None
            else CreditorOut(status.creditor_id, status.creditor_name),
            pledged_since=None if status.pledged_since is None else status.pledged_since.isoformat(),
            lapsed_on=status.lapsed_on,
            restored_on=status.restored_on,
            pool=None if pooled.holding is None else PoolOut.of(pooled.holding),
            licences=[LicenceOut.of(licence) for licence in pooled.licences],
        )


class CollateralStatusController(Controller):
    path = "/api/v1/collateral"
    tags = ["collateral"]

    @get(
        "/status",
        summary="Where a right stands: pledged (to whom, since when), in disposal, lapsed, restored,"
        " in an operation pool, its exclusive, sole and open licences",
    )
    async def status(
        self,
        request: Request[Actor, Any, Any],
        ctx: AppContext,
        kind: Annotated[str, Parameter(query="kind", max_length=64, schema_extra=one_of(sorted(ALL_KINDS)))],
        registry_number: Annotated[
            str,
            Parameter(
                query="registry_number",
                max_length=200,
                # The service's own limit, after it drops whitespace (the document cannot count so).
                schema_extra={"maxLength": MAX_REGISTRY_NUMBER_LENGTH, "pattern": NOT_BLANK_PATTERN},
            ),
        ],
    ) -> CollateralStatusOut:
        today = shanghai_trade_date(ctx.clock())
        async with ctx.database.read() as session:
            status = await collateral_status(session, kind, registry_number)
            pooled = await pool_status(session, kind, registry_number, today)
        return CollateralStatusOut.of(status, pooled)
