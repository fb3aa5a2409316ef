from __future__ import annotations

from datetime import timedelta

import msgspec
from litestar import Controller, get

from app.context import AppContext
from transfer.kernel.money import format_fen
from transfer.rules.fee_schedule import DEFAULT_FEE_SCHEDULE, items_in_force
from transfer.rules.fee_waiver import shanghai_trade_date, waiver_window

WAIVER_SOURCE = (
    "《知识产权金融生态综合试点工作方案》(金发〔2025〕10号) item 8: no fees of any kind on IP-pledge loan "
    "transfers for three years from issuance; start date set by IPX_FEE_WAIVER_START"
)


class WaiverOut(msgspec.Struct):
    start: str
    end_exclusive: str
    last_day: str
    years: int
    in_force_today: bool
    applies_to: str
    source: str


class FeeItemOut(msgspec.Struct):
    item: str
    payers: list[str]
    effective_from: str
    rate_bps: int
    flat: str
    minimum: str
    maximum: str | None


class FeePolicyOut(msgspec.Struct):
    waiver: WaiverOut
    schedule: list[FeeItemOut]
    calendar: str = "Asia/Shanghai"


class FeePolicyController(Controller):
    path = "/api/v1/fee-policy"
    tags = ["fees"]

    @get("/", summary="The waiver window (start, end, source) and the fee schedule in force")
    async def fee_policy(self, ctx: AppContext) -> FeePolicyOut:
        settings = ctx.settings
        start, end = waiver_window(settings.fee_waiver_start, settings.fee_waiver_years)
        today = shanghai_trade_date(ctx.clock())
        return FeePolicyOut(
            waiver=WaiverOut(
                start=start.isoformat(),
                end_exclusive=end.isoformat(),
                last_day=(end - timedelta(days=1)).isoformat(),
                years=settings.fee_waiver_years,
                in_force_today=start <= today < end,
                applies_to="whole-loan and income-right transfers of IP-pledge loans (any IP collateral)",
                source=WAIVER_SOURCE,
            ),
            schedule=[
                FeeItemOut(
                    item=i.item,
                    payers=list(i.payers),
                    effective_from=i.effective_from.isoformat(),
                    rate_bps=i.rate_bps,
                    flat=format_fen(i.flat_fen),
                    minimum=format_fen(i.min_fen),
                    maximum=None if i.max_fen is None else format_fen(i.max_fen),
                )
                for i in items_in_force(DEFAULT_FEE_SCHEDULE, today)
            ],
        )
