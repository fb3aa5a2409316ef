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

from auction.disposal.rules.waterfall import parse_recovery_order

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
    recovery_order: str = "costs,interest,principal"
    session_stagger_s: int = 60
    scheduler_enabled: bool = True
    scheduler_tick_s: float = 1.0
    # How often committed audit events are chained (app/scheduler.py seal_audit_events). Sealing
    # costs PostgreSQL CPU per event; at a hot lot's rate one run a second was a burst of one core
    # that showed in the bids' p99, and small frequent runs spread it (BENCHMARKS.md, session 5).
    audit_seal_interval_s: float = 0.25
    idempotency_ttl_s: int = 86_400
    demo: bool = False
    # Server processes. PostgreSQL only: they share live events through LISTEN/NOTIFY
    # (app/live_relay.py); SQLite has one writer anyway, and one process serves it best.
    workers: int = 1
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

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


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
    "recovery_order": _parse_recovery_order,
    "session_stagger_s": _parse_int(0, 86_400),
    "scheduler_enabled": _parse_bool,
    "scheduler_tick_s": _parse_positive_float,
    "audit_seal_interval_s": _parse_positive_float,
    "idempotency_ttl_s": _parse_int(60),
    "demo": _parse_bool,
    "workers": _parse_int(1, 64),
    "driver_bids": _parse_bool,
    "driver_pool_size": _parse_int(1, 200),
    "max_body_bytes": _parse_int(4_096, 104_857_600),
}


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read every IPX_* variable; the first wrong one raises SettingsError naming it."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for field in fields(Settings):
        variable = f"IPX_{field.name.upper()}"
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
    if settings.workers > 1 and settings.is_sqlite:
        raise SettingsError("IPX_WORKERS must be 1 with SQLite (several workers need PostgreSQL)")
    return settings
