"""What every handler, job and command shares: settings, the database and the clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from app.bidding.bounded_cache import BoundedCache
from app.bidding.lot_batches import LotBatches
from app.bidding.lot_gates import LotGates
from app.db import Database
from app.http.auth_failures import FailedAuthentications
from app.http.key_cache import KeyCache
from app.live.feed import LiveFeeds
from app.live.relay import PostgresRelay
from app.settings import Settings
from app.working_calendar import load_calendar
from auction.bidding.lot import EnglishBidOutcome, EnglishBidRequest, KnownLot
from auction.disposal.origin import DisposalRounds
from auction.disposal.policy import DisposalPolicy
from auction.disposal.rules.claim_bounds import ClaimBounds
from auction.disposal.rules.rounds import RoundLimits
from auction.disposal.rules.waterfall import parse_recovery_order
from auction.disposal.session_origin import SessionLots
from auction.listing_sales import ListingSales
from auction.operation.policy import OperationPolicy
from auction.origins import OriginKind
from auction.policy import AuctionPolicy
from transfer.kernel.clock import Clock, system_clock
from transfer.kernel.unit_of_work import UnitOfWork, run_in_transaction
from transfer.market.policy import MarketPolicy
from transfer.rules.annuity_schedule import AnnuityPolicy
from transfer.rules.working_calendar import WorkingCalendar

T = TypeVar("T")
# The calendar is loaded from the settings unless a caller passes one (a test's fixed calendar).
_UNLOADED = WorkingCalendar(source="not loaded")

# Bounds of the bid path's caches (app/bidding/bounded_cache.py); a lot forgotten costs a read.
NOT_ENGLISH_MAX_ENTRIES = 10_000
KNOWN_LOTS_MAX_ENTRIES = 10_000


@dataclass
class AppContext:
    settings: Settings
    database: Database
    clock: Clock = field(default=system_clock)
    # Publishes committed live events (app.live.stream); None until the app wires its channels.
    publish: Callable[[list[tuple[str, dict[str, Any]]]], Awaitable[None]] | None = None
    # Several processes: live events go out as notifications inside their transactions instead
    # (app/live/relay.py), and `publish` is None.
    relay: PostgresRelay | None = None
    # Bids on lots of the other kinds, one at a time per lot (app/bidding/lot_gates.py).
    lot_gates: LotGates = field(default_factory=LotGates)
    # English bids on the driver, batched per lot (app/bidding/driver_bids.py, lot_batches.py).
    bid_batches: LotBatches[EnglishBidRequest, EnglishBidOutcome] = field(default_factory=LotBatches)
    # Auctions the driver found not to be English: their bids skip the driver's read, as an
    # auction's kind never changes once created.
    not_english: BoundedCache[int, None] = field(
        default_factory=lambda: BoundedCache(NOT_ENGLISH_MAX_ENTRIES)
    )
    # English lots as this process last read or wrote them (auction.bidding.lot.KnownLot): a bid
    # on one of them is judged on it and written without reading it first.
    known_lots: BoundedCache[int, KnownLot] = field(
        default_factory=lambda: BoundedCache(KNOWN_LOTS_MAX_ENTRIES)
    )
    # China's working calendar, loaded once from the package and the operator's file
    # (app/working_calendar.py); every date the system counts in working days uses it.
    calendar: WorkingCalendar = field(default=_UNLOADED)
    # The only cache of API keys in this process (app/http/key_cache.py), and its failed
    # authentications (app/http/auth_failures.py).
    key_cache: KeyCache = field(default_factory=KeyCache)
    failed_authentications: FailedAuthentications = field(init=False)
    # The lots' live feeds in this process (app/live/feed.py); None until the app wires its channels.
    live_feeds: LiveFeeds | None = None

    def __post_init__(self) -> None:
        if self.calendar is _UNLOADED:
            self.calendar = load_calendar(self.settings)
        s = self.settings
        self.failed_authentications = FailedAuthentications(
            threshold=s.auth_failure_threshold,
            window_s=s.auth_failure_window_s,
            delay_s=s.auth_failure_delay_s,
        )

    @property
    def auction_policy(self) -> AuctionPolicy:
        s = self.settings
        return AuctionPolicy(
            min_duration_s=s.auction_min_duration_s,
            min_notice_s=s.auction_min_notice_s,
            deposit_min_bps=s.auction_deposit_min_bps,
            deposit_max_bps=s.auction_deposit_max_bps,
            extension_window_s=s.auction_extension_window_s,
            extension_s=s.auction_extension_s,
            max_extension_s=s.auction_max_extension_s,
            max_lead_s=s.auction_max_lead_s,
            payment_deadline_s=s.payment_deadline_s,
            close_retry_s=s.auction_close_retry_s,
            close_max_attempts=s.auction_close_max_attempts,
            origins={
                OriginKind.LISTING.value: ListingSales(self.market_policy),
                OriginKind.DISPOSAL_ROUND.value: DisposalRounds(lambda: self.disposal_policy),
                OriginKind.SESSION_LOT.value: SessionLots(lambda: self.disposal_policy),
            },
        )

    @property
    def disposal_policy(self) -> DisposalPolicy:
        s = self.settings
        return DisposalPolicy(
            auction=self.auction_policy,
            limits=RoundLimits(
                start_min_bps=s.disposal_start_min_bps,
                round_cut_max_bps=s.disposal_round_cut_max_bps,
                notice_s=s.disposal_notice_s,
                rerun_within_s=s.disposal_rerun_within_s,
                rerun_notice_s=s.disposal_rerun_notice_s,
                max_rounds=s.disposal_max_rounds,
            ),
            takeover_window_s=s.disposal_takeover_window_s,
            fixed_price_s=s.disposal_fixed_price_s,
            buyout_window_s=s.disposal_buyout_window_s,
            auto_advance=s.disposal_auto_advance,
            recovery_order=parse_recovery_order(s.recovery_order),
            operation=self.operation_policy,
            claim_bounds=ClaimBounds(
                interest_tolerance_bps=s.claim_interest_tolerance_bps,
                penalty_rate_max_bps=s.claim_penalty_rate_max_bps,
                costs_max_bps=s.claim_costs_max_bps,
            ),
            compensation_seasoning_days=s.compensation_seasoning_days,
        )

    @property
    def operation_policy(self) -> OperationPolicy:
        s = self.settings
        return OperationPolicy(max_validity_s=s.buyout_max_validity_s, earn_out_max_s=s.earn_out_max_s)

    @property
    def market_policy(self) -> MarketPolicy:
        s = self.settings
        return MarketPolicy(
            s.fee_waiver_start,
            self.calendar,
            fee_waiver_years=s.fee_waiver_years,
            settlement_days=s.settlement_days,
        )

    @property
    def annuity_policy(self) -> AnnuityPolicy:
        s = self.settings
        return AnnuityPolicy(
            late_fee_step_bps=s.annuity_late_fee_step_bps,
            late_fee_cap_bps=s.annuity_late_fee_cap_bps,
            grace_months=s.annuity_grace_months,
            free_months=s.annuity_free_months,
            restoration_window_months=s.annuity_restoration_window_months,
            restoration_fee_fen=s.annuity_restoration_fee_fen,
            alert_horizon_days=s.annuity_alert_horizon_days,
        )

    async def transact(self, work: Callable[[UnitOfWork], Awaitable[T]], *, actor_id: int | None) -> T:
        """Run one unit of work as one write transaction on this context's database."""
        return await run_in_transaction(
            self.database.write,
            work,
            actor_id=actor_id,
            clock=self.clock,
            gate=self.database.write_gate,
            publish=self.publish,
            notify=self.relay.notify_in if self.relay is not None else None,
        )
