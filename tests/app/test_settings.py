from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from app.settings import SettingsError, load_settings


def test_defaults_follow_the_design() -> None:
    settings = load_settings({})

    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.database_url == "sqlite:///./ipx.db"
    assert settings.fee_waiver_start == date(2025, 3, 1)
    assert settings.fee_waiver_years == 3
    assert settings.auction_min_duration_s == 86_400
    assert settings.auction_min_notice_s == 0
    assert settings.payment_deadline_s == 604_800
    assert settings.settlement_days == 3
    assert (settings.auction_deposit_min_bps, settings.auction_deposit_max_bps) == (500, 2_000)
    assert (settings.scheduler_tick_s, settings.audit_seal_interval_s) == (1.0, 0.25)
    assert settings.auction_max_lead_s == 365 * 86_400
    assert settings.max_body_bytes == 1_048_576
    assert (
        settings.auction_close_batch_size,
        settings.disposal_settle_batch_size,
        settings.annuity_run_batch_loans,
    ) == (1_000, 500, 10_000)


def test_every_variable_is_read_from_the_environment() -> None:
    settings = load_settings(
        {
            "IPX_HOST": "0.0.0.0",
            "IPX_PORT": "9001",
            "IPX_DATABASE_URL": "postgresql://u@h/db",
            "IPX_ADMIN_API_KEY": "a-long-admin-key-123",
            "IPX_LOG_LEVEL": "debug",
            "IPX_FEE_WAIVER_START": "2025-05-20",
            "IPX_FEE_WAIVER_YEARS": "3",
            "IPX_AUCTION_MIN_DURATION_S": "0",
            "IPX_AUCTION_MIN_NOTICE_S": "2592000",
            "IPX_PAYMENT_DEADLINE_S": "3600",
            "IPX_SETTLEMENT_DAYS": "1",
            "IPX_AUCTION_MAX_EXTENSION_S": "3600",
            "IPX_AUDIT_SEAL_INTERVAL_S": "2.5",
            "IPX_AUCTION_MAX_LEAD_S": "63072000",
            "IPX_MAX_BODY_BYTES": "65536",
            "IPX_AUCTION_CLOSE_BATCH_SIZE": "20",
            "IPX_DISPOSAL_SETTLE_BATCH_SIZE": "10",
            "IPX_ANNUITY_RUN_BATCH_LOANS": "5",
        }
    )

    assert (settings.host, settings.port, settings.log_level) == ("0.0.0.0", 9001, "DEBUG")
    assert settings.fee_waiver_start == date(2025, 5, 20)
    assert settings.auction_min_notice_s == 2_592_000
    assert settings.auction_max_extension_s == 3600
    assert settings.audit_seal_interval_s == 2.5
    assert (settings.auction_max_lead_s, settings.max_body_bytes) == (63_072_000, 65_536)
    assert (
        settings.auction_close_batch_size,
        settings.disposal_settle_batch_size,
        settings.annuity_run_batch_loans,
    ) == (20, 10, 5)
    assert not settings.is_sqlite


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("IPX_PORT", "eighty", "IPX_PORT must be an integer, got 'eighty'"),
        ("IPX_PORT", "70000", "IPX_PORT must be between 1 and 65535, got 70000"),
        (
            "IPX_FEE_WAIVER_START",
            "2025-02-30",
            "IPX_FEE_WAIVER_START must be a date YYYY-MM-DD, got '2025-02-30'",
        ),
        ("IPX_LOG_LEVEL", "LOUD", "IPX_LOG_LEVEL must be one of"),
        ("IPX_DATABASE_URL", "mysql://x", "IPX_DATABASE_URL must be a sqlite:/// or postgresql:// URL"),
        ("IPX_ADMIN_API_KEY", "short", "IPX_ADMIN_API_KEY must be at least 16 characters"),
        ("IPX_SETTLEMENT_DAYS", "-1", "IPX_SETTLEMENT_DAYS must be between 0 and 30, got -1"),
        ("IPX_SCHEDULER_ENABLED", "maybe", "IPX_SCHEDULER_ENABLED must be true or false"),
        ("IPX_AUDIT_SEAL_INTERVAL_S", "0", "IPX_AUDIT_SEAL_INTERVAL_S must be"),
        ("IPX_WORKERS", "0", "IPX_WORKERS must be between 1 and 64, got 0"),
        ("IPX_WORKERS", "2", "IPX_WORKERS must be 1 with SQLite (several workers need PostgreSQL)"),
        ("IPX_LIVE_RELAY", "true", "IPX_LIVE_RELAY needs PostgreSQL (it relays through LISTEN/NOTIFY)"),
        ("IPX_LIVE_RELAY", "sometimes", "IPX_LIVE_RELAY must be true or false"),
        (
            "IPX_AUCTION_CLOSE_BATCH_SIZE",
            "0",
            "IPX_AUCTION_CLOSE_BATCH_SIZE must be between 1 and 100000, got 0",
        ),
        (
            "IPX_DISPOSAL_SETTLE_BATCH_SIZE",
            "100001",
            "IPX_DISPOSAL_SETTLE_BATCH_SIZE must be between 1 and 100000, got 100001",
        ),
        ("IPX_ANNUITY_RUN_BATCH_LOANS", "ten", "IPX_ANNUITY_RUN_BATCH_LOANS must be an integer, got 'ten'"),
        ("IPX_MAX_BODY_BYTES", "100", "IPX_MAX_BODY_BYTES must be between 4096 and 104857600, got 100"),
        ("IPX_AUCTION_MAX_LEAD_S", "0", "IPX_AUCTION_MAX_LEAD_S must be between 60 and 3153600000, got 0"),
        (
            "IPX_AUCTION_MAX_LEAD_S",
            "3600",
            "IPX_AUCTION_MAX_LEAD_S must be at least IPX_AUCTION_MIN_NOTICE_S + IPX_AUCTION_MIN_DURATION_S",
        ),
    ],
)
def test_a_wrong_value_names_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({variable: value})

    assert str(refused.value).startswith(message)


def test_the_service_refuses_to_start_with_a_one_line_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "serve"],
        env={
            "IPX_PORT": "not-a-port",
            "PATH": "/usr/bin:/bin",
            "IPX_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        },
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "ipx: configuration error: IPX_PORT must be an integer, got 'not-a-port'"
    ]


def test_several_workers_are_allowed_on_postgresql() -> None:
    settings = load_settings({"IPX_WORKERS": "4", "IPX_DATABASE_URL": "postgresql://db.internal/ipx"})

    assert settings.workers == 4


def test_live_events_are_relayed_with_several_workers_or_when_asked_for_one() -> None:
    postgres = {"IPX_DATABASE_URL": "postgresql://db.internal/ipx"}

    assert load_settings(postgres).relays_live_events is False
    assert load_settings({**postgres, "IPX_WORKERS": "2"}).relays_live_events is True
    assert load_settings({**postgres, "IPX_LIVE_RELAY": "true"}).relays_live_events is True
