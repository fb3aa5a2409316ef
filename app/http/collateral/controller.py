"""质物状态查询 over HTTP: GET /api/v1/collateral/status?kind=&registry_number= for any participant."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import Parameter

from app.context import AppContext
from app.http.auth import Actor
from app.http.input_bounds import NOT_BLANK_PATTERN, one_of
from transfer.annuities.collateral_status import CollateralStatus, collateral_status
from transfer.registry.loans import MAX_REGISTRY_NUMBER_LENGTH
from transfer.rules.collateral import ALL_KINDS


class CreditorOut(msgspec.Struct):
    id: int
    name: str


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

    @classmethod
    def of(cls, status: CollateralStatus) -> CollateralStatusOut:
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
        )


class CollateralStatusController(Controller):
    path = "/api/v1/collateral"
    tags = ["collateral"]

    @get(
        "/status",
        summary="Where a right stands: pledged (to whom, since when), in disposal, lapsed, restored",
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
        async with ctx.database.read() as session:
            return CollateralStatusOut.of(await collateral_status(session, kind, registry_number))
