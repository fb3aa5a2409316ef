"""Settings from IPX_* environment variables, validated once at start.

A wrong value raises SettingsError whose message names the variable; the CLI prints that one line
and exits, so an operator never gets a half-configured service.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from auction.closing import CLOSE_BATCH_SIZE
from auction.disposal.proceeds import SETTLE_BATCH_SIZE
from auction.disposal.rules.waterfall import parse_recovery_order
from transfer.annuities.daily_run import RUN_BATCH_LOANS
from transfer.kernel.errors import DomainError
from transfer.kernel.money import parse_yuan
from transfer.rules.interest_accrual import TOLERANCE_MAX_BPS, TOLERANCE_MIN_BPS
from transfer.rules.working_calendar import OverrideFileError, parse_overrides

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    pass


DEFAULT_DRIVER_POOL_SIZE = 8  # see Settings.driver_pool_size


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = "sqlite:///./ipx.db"
    admin_api_key: str | None = None
    log_level: str = "INFO"
    # The plan's issuance day is not yet confirmed from the notice; 2025-03-01 is the earliest date
    # the public sources allow, and operators set the notice's own date (DESIGN.md section 3).
    fee_waiver_start: date = date(2025, 3, 1)
    fee_waiver_years: int = 3
    auction_min_duration_s: int = 86_400
    auction_min_notice_s: int = 0
    auction_deposit_min_bps: int = 500
    auction_deposit_max_bps: int = 2_000
    auction_extension_window_s: int = 300
    auction_extension_s: int = 300
    auction_max_extension_s: int | None = None
    # How far ahead of its creation an auction may start or end (365 days). A lot announced a year
    # out is already unusual; without a bound a start in year 9999 was accepted.
    auction_max_lead_s: int = 31_536_000
    payment_deadline_s: int = 604_800
    # A lot whose close fails is set aside and tried again after this, doubling each time, at most
    # auction_close_max_attempts times (auction/close_isolation.py).
    auction_close_retry_s: int = 10
    auction_close_max_attempts: int = 5
    # Reconciliation reports a running auction this long past its end and not closed as a break.
    auction_close_lag_break_s: int = 60
    settlement_days: int = 3
    # China's working calendar (app/working_calendar.py): the operator's file over the package's
    # data, and how many years past this one must be covered before start stops warning.
    calendar_overrides_path: str | None = None
    calendar_warn_years_ahead: int = 1
    # Patent annuities (transfer.annuities): sources in the README's settings table.
    annuity_late_fee_step_bps: int = 500
    annuity_late_fee_cap_bps: int = 2_500
    annuity_grace_months: int = 6
    annuity_free_months: int = 1
    annuity_restoration_window_months: int = 2
    annuity_restoration_fee_fen: int = 100_000
    annuity_alert_horizon_days: int = 90
    annuity_run_interval_s: float = 3_600.0
    # Disposal of defaulted collateral (auction/disposal): sources in the README's settings table.
    disposal_start_min_bps: int = 7_000
    disposal_round_cut_max_bps: int = 2_000
    disposal_notice_s: int = 2_592_000
    disposal_rerun_within_s: int = 2_592_000
    disposal_rerun_notice_s: int = 1_296_000
    disposal_max_rounds: int = 2
    disposal_takeover_window_s: int = 864_000
    disposal_fixed_price_s: int = 5_184_000
    disposal_buyout_window_s: int = 2_592_000
    disposal_auto_advance: bool = False
    # Buyouts and operation pools (auction/operation): sources in the README's settings table.
    buyout_max_validity_s: int = 15_552_000
    earn_out_max_s: int = 631_152_000
    recovery_order: str = "costs,interest,principal"
    # Guards of the default and of risk compensation (F6, F9, F10): sources in the README's table.
    claim_interest_tolerance_bps: int = 200
    claim_penalty_rate_max_bps: int = 15_000
    claim_costs_max_bps: int = 1_000
    compensation_seasoning_days: int = 90
    session_stagger_s: int = 60
    # Servicing (transfer/servicing/repayments.py): a repayment's interest is at most this multiple,
    # in bps, of what the loan accrued and was not yet paid (transfer/rules/interest_accrual.py);
    # why 1.5 times: the README's settings table.
    repayment_interest_tolerance_bps: int = 15_000
    scheduler_enabled: bool = True
    scheduler_tick_s: float = 1.0
    # Rows per transaction of the scheduler's batch jobs: auctions closed, paid disposal cases
    # split, loans in one annuity-run batch. A larger batch is fewer statements per row; a
    # smaller one commits sooner, so a crash rolls back less work in flight (scripts/crash).
    auction_close_batch_size: int = CLOSE_BATCH_SIZE
    disposal_settle_batch_size: int = SETTLE_BATCH_SIZE
    annuity_run_batch_loans: int = RUN_BATCH_LOANS
    # How often committed audit events are chained (app/scheduler.py seal_audit_events). Sealing
    # costs PostgreSQL CPU per event; at a hot lot's rate one run a second was a burst of one core
    # that showed in the bids' p99, and small frequent runs spread it (BENCHMARKS.md, session 5).
    audit_seal_interval_s: float = 0.25
    idempotency_ttl_s: int = 86_400
    demo: bool = False
    # With demo: no simulated bidders and no fresh sessions; the demo market stays as seeded.
    demo_quiet: bool = False
    # Server processes. PostgreSQL only: they share live events through LISTEN/NOTIFY
    # (app/live_relay.py); SQLite has one writer anyway, and one process serves it best.
    workers: int = 1
    # Relay live events through PostgreSQL even with one worker: for several single-worker services
    # (hosts, ports) on one database, whose watchers must see bids taken by the others. On by itself
    # with several workers.
    live_relay: bool = False
    # PostgreSQL: English bids without an Idempotency-Key run on the asyncpg driver directly
    # (app/bidding/driver_bids.py). Off sends every bid through a SQLAlchemy unit of work.
    driver_bids: bool = True
    # Connections per process for those bids. A bid holds one for its round trips and its commit,
    # so the pool caps the rate at size / bid latency. More is not faster when PostgreSQL shares a
    # few cores: bids running in the database at once only take turns on its CPUs and raise the
    # tail (BENCHMARKS.md, session 4); waiting for a connection here costs less than waiting
    # there. Raise it for a database on a larger machine.
    driver_pool_size: int = DEFAULT_DRIVER_POOL_SIZE
    # The largest request body read (1 MiB): a loan with its full collateral list is a few tens of
    # kilobytes; Litestar's own default is ten times this.
    max_body_bytes: int = 1_048_576
    # Money leaving the system above this (a withdrawal, a surplus payout) needs a second clearing
    # participant's approval (maker-checker), and so do funds received; for a participant's
    # receipts and withdrawals it bounds the Asia/Shanghai day's running total (README, settings).
    dual_control_above_fen: int = 100_000_000
    # Failed authentications (app/http/auth_failures.py): past this many in the window from one
    # client address or on one key prefix, each further failure is answered only after the delay.
    auth_failure_threshold: int = 20
    auth_failure_window_s: float = 60.0
    auth_failure_delay_s: float = 1.0
    # Live events (app/live/): a watcher more than this many events behind the lot's stream is told
    # to reconnect and catch up from the bids table, so a stalled one never holds memory or others.
    live_watcher_backlog: int = 1_000
    # Events of a lot reach its watchers in writes at most this often: a hot lot's bids then cost
    # one write per watcher per interval, not one per bid (issue 17, "Many watchers").
    live_flush_interval_ms: int = 50
    # A flush serves this many watchers per turn of the event loop, so a pass over thousands never
    # holds a bid's request for the whole pass (0: the whole pass in one turn).
    live_flush_slice: int = 250
    # The flush writes idle watchers' chunks to their connections itself, without waking a task per
    # watcher (app/live/direct.py; uvicorn's httptools only). Off: every write goes through ASGI.
    live_direct_writes: bool = True
    live_heartbeat_s: float = 15.0
    # The most missed events a reconnect catches up from the bids table; further behind, it is
    # refused and starts afresh from the lot as it stands.
    live_catch_up_max_events: int = 10_000
    # Each connection's kernel send buffer (app/listen_socket.py); 0 leaves it to the kernel.
    socket_send_buffer_bytes: int = 0

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def relays_live_events(self) -> bool:
        return self.workers > 1 or self.live_relay


def _parse_int(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"must be an integer, got {raw!r}") from None
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise SettingsError(f"must be {bound}, got {value}")
        return value

    return parse


def _parse_optional_int(raw: str) -> int | None:
    return None if raw.strip().lower() in ("", "none") else _parse_int(1)(raw)


def _parse_positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"must be a number, got {raw!r}") from None
    if not 0.05 <= value <= 3600:
        raise SettingsError(f"must be between 0.05 and 3600 seconds, got {raw}")
    return value


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"must be true or false, got {raw!r}")


def _parse_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise SettingsError(f"must be a date YYYY-MM-DD, got {raw!r}") from None


def _parse_yuan_setting(raw: str) -> int:
    try:
        return parse_yuan(raw.strip(), "value", allow_zero=True)
    except DomainError as error:
        raise SettingsError(f"must be an amount of yuan such as 1000000.00, got {raw!r}") from error


def _parse_calendar_path(raw: str) -> str | None:
    """The override file is read and parsed here too, so a bad line stops the start at once."""
    if not raw.strip():
        return None
    try:
        with open(raw, encoding="utf-8") as file:
            parse_overrides(file.read())
    except OSError as error:
        raise SettingsError(f"cannot be read: {error.strerror or error}") from None
    except OverrideFileError as error:
        raise SettingsError(f"{raw}: {error}") from None
    return raw


def _parse_recovery_order(raw: str) -> str:
    return ",".join(str(part) for part in parse_recovery_order(raw))


def _parse_log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level not in LOG_LEVELS:
        raise SettingsError(f"must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    return level


def _parse_database_url(raw: str) -> str:
    if not raw.startswith(("sqlite", "postgresql", "postgres")):
        raise SettingsError(f"must be a sqlite:/// or postgresql:// URL, got {raw!r}")
    return raw


def _parse_host(raw: str) -> str:
    if not raw.strip():
        raise SettingsError("must not be empty")
    return raw.strip()


def _parse_api_key(raw: str) -> str | None:
    if raw == "":
        return None
    if len(raw) < 16:
        raise SettingsError("must be at least 16 characters (it guards the admin role)")
    return raw


_PARSERS: dict[str, Callable[[str], Any]] = {
    "host": _parse_host,
    "port": _parse_int(1, 65_535),
    "database_url": _parse_database_url,
    "admin_api_key": _parse_api_key,
    "log_level": _parse_log_level,
    "fee_waiver_start": _parse_date,
    "fee_waiver_years": _parse_int(1, 50),
    "auction_min_duration_s": _parse_int(0),
    "auction_min_notice_s": _parse_int(0),
    "auction_deposit_min_bps": _parse_int(0, 10_000),
    "auction_deposit_max_bps": _parse_int(0, 10_000),
    "auction_extension_window_s": _parse_int(0, 86_400),
    "auction_extension_s": _parse_int(0, 86_400),
    "auction_max_extension_s": _parse_optional_int,
    "auction_max_lead_s": _parse_int(60, 3_153_600_000),
    "payment_deadline_s": _parse_int(1),
    "auction_close_retry_s": _parse_int(1, 86_400),
    "auction_close_max_attempts": _parse_int(1, 100),
    "auction_close_lag_break_s": _parse_int(1),
    "settlement_days": _parse_int(0, 30),
    "calendar_overrides_path": _parse_calendar_path,
    "calendar_warn_years_ahead": _parse_int(0, 50),
    "annuity_late_fee_step_bps": _parse_int(0, 10_000),
    "annuity_late_fee_cap_bps": _parse_int(0, 10_000),
    "annuity_grace_months": _parse_int(1, 24),
    "annuity_free_months": _parse_int(0, 24),
    "annuity_restoration_window_months": _parse_int(0, 24),
    "annuity_restoration_fee_fen": _parse_int(0, 100_000_000),
    "annuity_alert_horizon_days": _parse_int(1, 3_660),
    "annuity_run_interval_s": _parse_positive_float,
    "disposal_start_min_bps": _parse_int(0, 10_000),
    "disposal_round_cut_max_bps": _parse_int(0, 10_000),
    "disposal_notice_s": _parse_int(0),
    "disposal_rerun_within_s": _parse_int(1),
    "disposal_rerun_notice_s": _parse_int(0),
    "disposal_max_rounds": _parse_int(1, 10),
    "disposal_takeover_window_s": _parse_int(1),
    "disposal_fixed_price_s": _parse_int(1),
    "disposal_buyout_window_s": _parse_int(1),
    "disposal_auto_advance": _parse_bool,
    "buyout_max_validity_s": _parse_int(60, 3_153_600_000),
    "earn_out_max_s": _parse_int(60, 3_153_600_000),
    "recovery_order": _parse_recovery_order,
    "claim_interest_tolerance_bps": _parse_int(0, 10_000),
    "claim_penalty_rate_max_bps": _parse_int(0, 100_000),
    "claim_costs_max_bps": _parse_int(0, 10_000),
    "compensation_seasoning_days": _parse_int(0, 3_660),
    "session_stagger_s": _parse_int(0, 86_400),
    "repayment_interest_tolerance_bps": _parse_int(TOLERANCE_MIN_BPS, TOLERANCE_MAX_BPS),
    "scheduler_enabled": _parse_bool,
    "scheduler_tick_s": _parse_positive_float,
    "auction_close_batch_size": _parse_int(1, 100_000),
    "disposal_settle_batch_size": _parse_int(1, 100_000),
    "annuity_run_batch_loans": _parse_int(1, 1_000_000),
    "audit_seal_interval_s": _parse_positive_float,
    "idempotency_ttl_s": _parse_int(60),
    "demo": _parse_bool,
    "demo_quiet": _parse_bool,
    "workers": _parse_int(1, 64),
    "live_relay": _parse_bool,
    "driver_bids": _parse_bool,
    "driver_pool_size": _parse_int(1, 200),
    "max_body_bytes": _parse_int(4_096, 104_857_600),
    "dual_control_above_fen": _parse_yuan_setting,
    "auth_failure_threshold": _parse_int(1, 1_000_000),
    "auth_failure_window_s": _parse_positive_float,
    "auth_failure_delay_s": _parse_positive_float,
    "live_watcher_backlog": _parse_int(10, 1_000_000),
    "live_flush_interval_ms": _parse_int(0, 1_000),
    "live_flush_slice": _parse_int(0, 1_000_000),
    "live_direct_writes": _parse_bool,
    "live_heartbeat_s": _parse_positive_float,
    "live_catch_up_max_events": _parse_int(1, 1_000_000),
    "socket_send_buffer_bytes": _parse_int(0, 67_108_864),
}


# Variables whose name is not IPX_ + the field's: an amount set in yuan, held in fen.
_VARIABLES = {"dual_control_above_fen": "IPX_DUAL_CONTROL_ABOVE"}


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read every IPX_* variable; the first wrong one raises SettingsError naming it."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for field in fields(Settings):
        variable = _VARIABLES.get(field.name, f"IPX_{field.name.upper()}")
        if variable in env:
            try:
                values[field.name] = _PARSERS[field.name](env[variable])
            except SettingsError as error:
                raise SettingsError(f"{variable} {error}") from None
    values.update(overrides)
    settings = Settings(**values)
    if settings.auction_deposit_min_bps > settings.auction_deposit_max_bps:
        raise SettingsError("IPX_AUCTION_DEPOSIT_MIN_BPS must not exceed IPX_AUCTION_DEPOSIT_MAX_BPS")
    if settings.auction_min_notice_s + settings.auction_min_duration_s > settings.auction_max_lead_s:
        raise SettingsError(
            "IPX_AUCTION_MAX_LEAD_S must be at least IPX_AUCTION_MIN_NOTICE_S + IPX_AUCTION_MIN_DURATION_S"
        )
    if settings.annuity_free_months > settings.annuity_grace_months:
        raise SettingsError("IPX_ANNUITY_FREE_MONTHS must not exceed IPX_ANNUITY_GRACE_MONTHS")
    if settings.workers > 1 and settings.is_sqlite:
        raise SettingsError("IPX_WORKERS must be 1 with SQLite (several workers need PostgreSQL)")
    if settings.live_relay and settings.is_sqlite:
        raise SettingsError("IPX_LIVE_RELAY needs PostgreSQL (it relays through LISTEN/NOTIFY)")
    return settings
