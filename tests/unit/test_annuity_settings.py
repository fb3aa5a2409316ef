"""The annuity settings: each number is an IPX_ variable, checked at start, reaching the policy."""

from __future__ import annotations

import pytest

from app.context import AppContext
from app.settings import SettingsError, load_settings
from transfer.rules.annuity_schedule import AnnuityPolicy


def test_the_annuity_policy_comes_from_the_settings() -> None:
    settings = load_settings(
        {
            "IPX_ANNUITY_LATE_FEE_STEP_BPS": "1000",
            "IPX_ANNUITY_LATE_FEE_CAP_BPS": "3000",
            "IPX_ANNUITY_GRACE_MONTHS": "4",
            "IPX_ANNUITY_FREE_MONTHS": "0",
            "IPX_ANNUITY_RESTORATION_WINDOW_MONTHS": "3",
            "IPX_ANNUITY_RESTORATION_FEE_FEN": "50000",
            "IPX_ANNUITY_ALERT_HORIZON_DAYS": "60",
        }
    )
    policy = AppContext(settings, database=None).annuity_policy  # type: ignore[arg-type]
    assert policy == AnnuityPolicy(1_000, 3_000, 4, 0, 3, 50_000, 60)
    assert AppContext(load_settings({}), database=None).annuity_policy == AnnuityPolicy()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"IPX_ANNUITY_LATE_FEE_CAP_BPS": "10001"},
            "IPX_ANNUITY_LATE_FEE_CAP_BPS must be between 0 and 10000",
        ),
        ({"IPX_ANNUITY_GRACE_MONTHS": "0"}, "IPX_ANNUITY_GRACE_MONTHS must be between 1 and 24"),
        (
            {"IPX_ANNUITY_GRACE_MONTHS": "2", "IPX_ANNUITY_FREE_MONTHS": "3"},
            "must not exceed IPX_ANNUITY_GRACE",
        ),
        (
            {"IPX_ANNUITY_RESTORATION_FEE_FEN": "1000.00"},
            "IPX_ANNUITY_RESTORATION_FEE_FEN must be an integer",
        ),
        ({"IPX_CALENDAR_WARN_YEARS_AHEAD": "-1"}, "IPX_CALENDAR_WARN_YEARS_AHEAD must be between 0 and 50"),
    ],
)
def test_a_wrong_annuity_setting_stops_the_start_naming_it(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(environ)
