"""The pages' pure helpers: money and time as people read them, labels, refusals, chart geometry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.pages import i18n
from app.pages.charts import BAR_AREA_PERCENT, MAX_BARS, bar_chart
from app.pages.formatting import countdown_text, shanghai_time, yuan
from app.pages.rendering import safe_next
from transfer.kernel.money import MAX_AMOUNT_FEN, format_fen


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (0, "¥0.00"),
        (5, "¥0.05"),
        (123_456_789, "¥1,234,567.89"),
        (-150_000, "-¥1,500.00"),
        ("1500000.00", "¥1,500,000.00"),
        ("999.5", "¥999.5"),
        (None, "—"),
    ],
)
def test_yuan_has_thousands_separators_and_two_decimals(amount: int | str | None, shown: str) -> None:
    assert yuan(amount) == shown


@given(st.integers(min_value=-MAX_AMOUNT_FEN, max_value=MAX_AMOUNT_FEN))
def test_yuan_of_fen_and_of_the_api_string_agree_and_read_back(amount_fen: int) -> None:
    shown = yuan(amount_fen)
    assert shown == yuan(format_fen(amount_fen))
    assert shown.replace("¥", "").replace(",", "") == format_fen(amount_fen)


def test_times_are_shown_in_shanghai_with_the_offset() -> None:
    late_utc = datetime(2026, 12, 31, 16, 30, 5, tzinfo=UTC)
    assert shanghai_time(late_utc) == "2027-01-01 00:30:05 +08:00"
    assert shanghai_time("2026-06-01T02:00:00+00:00") == "2026-06-01 10:00:00 +08:00"
    assert shanghai_time(datetime(2026, 6, 1, 2, 0, tzinfo=timezone(timedelta(hours=-5)))) == (
        "2026-06-01 15:00:00 +08:00"
    )
    assert shanghai_time(None) == "—"


def test_countdown_shows_days_then_a_clock_and_never_goes_below_zero() -> None:
    assert countdown_text(3 * 86_400 + 4 * 3_600 + 5 * 60 + 6.9, "天") == "3天 04:05:06"
    assert countdown_text(59) == "00:00:59"
    assert countdown_text(-10) == "00:00:00"


def test_every_label_state_and_kind_has_both_languages() -> None:
    for table in (i18n.LABELS, i18n.STATE_NAMES, i18n.KIND_NAMES, i18n.REFUSALS, i18n.DEPOSIT_STATES):
        for key, (chinese, english) in table.items():
            assert chinese and english, key
    t_zh, t_en = i18n.translator("zh"), i18n.translator("en")
    assert (t_zh("nav_login"), t_en("nav_login")) == ("登录", "Log in")
    assert t_en("lots_capped", count=200) == "Showing the 200 lots ending soonest"
    assert (
        i18n.language_of(None) == "zh" and i18n.language_of("fr") == "zh" and i18n.language_of("en") == "en"
    )


def test_a_refusal_is_told_by_its_code_with_its_amounts_or_falls_back_to_the_service_sentence() -> None:
    amounts = {"nearest_below": "¥1,000.00", "nearest_above": "¥1,010.00"}
    assert i18n.refusal_text("off_grid", "x", "en", amounts) == (
        "The amount is off the increment grid; the nearest valid amounts are ¥1,000.00 and ¥1,010.00"
    )
    assert i18n.refusal_text("below_minimum", "x", "zh", {}) == "出价低于最低有效出价"
    assert i18n.refusal_text("a_new_code", "the service's own words", "zh", {}) == "the service's own words"


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/auctions/3?x=1", "/auctions/3?x=1"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
        (None, "/"),
        ("/auctions?kind=发明", "/auctions?kind=%E5%8F%91%E6%98%8E"),
        ("/x\r\nSet-Cookie: a=b", "/x%0D%0ASet-Cookie:%20a=b"),
    ],
)
def test_a_redirect_target_is_a_local_path_or_the_home_page(target: str | None, kept: str) -> None:
    assert safe_next(target) == kept


def test_a_chart_scales_bars_to_the_largest_and_keeps_the_exact_amounts() -> None:
    chart = bar_chart("t", [("2026-05", 0), ("2026-06", 250_000), ("2026-07", 1_000_000)])

    assert [bar.width_percent for bar in chart.bars] == [0.0, BAR_AREA_PERCENT / 4, BAR_AREA_PERCENT]
    assert [bar.value_text for bar in chart.bars] == ["¥0.00", "¥2,500.00", "¥10,000.00"]
    assert [bar.y_px for bar in chart.bars] == sorted({bar.y_px for bar in chart.bars})
    assert bar_chart("empty", []).bars == []
    assert bar_chart("zeros", [("a", 0)]).bars[0].width_percent == 0.0


def test_a_chart_with_too_many_bars_keeps_the_latest_or_the_largest_and_says_how_many_it_left() -> None:
    values = [(f"m{i:02d}", i * 100) for i in range(MAX_BARS + 6)]

    in_order = bar_chart("months", values)
    largest = bar_chart("institutions", values, keep_order=False)

    assert in_order.left_out == largest.left_out == 6
    assert in_order.bars[0].label == "m06" and in_order.bars[-1].label == f"m{MAX_BARS + 5:02d}"
    assert largest.bars[0].label == f"m{MAX_BARS + 5:02d}" and len(largest.bars) == MAX_BARS
    with pytest.raises(AssertionError):
        bar_chart("negative", [("a", -1)])
