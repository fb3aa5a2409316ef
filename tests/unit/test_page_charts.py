"""Chart labels: measured with Chinese characters counted as one em, kept whole when they fit the
narrowest chart, else cut with an ellipsis (the whole label kept for the SVG's <title>)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.pages.charts import ELLIPSIS, FONT_PX, LABEL_MAX_PX, bar_chart, fitted_label, text_width_px


def test_a_chinese_character_counts_as_wide_as_one_em_and_a_latin_one_as_less() -> None:
    assert text_width_px("中国银行") == 4 * FONT_PX
    assert text_width_px("Bank") < 4 * FONT_PX
    assert text_width_px("中国 Bank") > text_width_px("中 Bank")


def test_a_label_that_fits_the_narrowest_chart_is_drawn_whole_with_no_title() -> None:
    chart = bar_chart("institutions", [("Demo Bank of Hangzhou", 100), ("2026-12", 50)])

    assert [bar.label for bar in chart.bars] == ["Demo Bank of Hangzhou", "2026-12"]
    assert [bar.full_label for bar in chart.bars] == [None, None]


def test_a_long_chinese_name_is_cut_with_an_ellipsis_to_the_narrowest_chart_and_kept_whole_for_its_title() -> (
    None
):
    name = "中国工商银行股份有限公司杭州西湖支行营业部 Demo Layout Bank"
    (bar,) = bar_chart("institutions", [(name, 123_456)]).bars

    assert bar.label.endswith(ELLIPSIS) and name.startswith(bar.label[:-1])
    assert text_width_px(bar.label) <= LABEL_MAX_PX < text_width_px(name)
    assert bar.full_label == name
    assert bar.value_text == "¥1,234.56"  # the value is the table's yuan string, never cut


def test_a_caller_may_ask_for_narrower_labels_but_never_wider_than_the_narrowest_chart() -> None:
    name = "利息 · 中国工商银行股份有限公司杭州西湖支行营业部"
    wide = bar_chart("waterfall", [(name, 1)], label_width_px=2 * LABEL_MAX_PX).bars[0]
    narrow = bar_chart("waterfall", [(name, 1)], label_width_px=100).bars[0]

    assert text_width_px(wide.label) <= LABEL_MAX_PX
    assert text_width_px(narrow.label) <= 100 and len(narrow.label) < len(wide.label)


@given(st.text(min_size=0, max_size=80), st.integers(min_value=20, max_value=600))
def test_a_fitted_label_fits_and_is_the_label_or_a_beginning_of_it_with_an_ellipsis(
    label: str, max_px: int
) -> None:
    fitted = fitted_label(label, max_px)

    assert text_width_px(fitted) <= max_px
    assert fitted == label or (fitted.endswith(ELLIPSIS) and label.startswith(fitted[:-1]))
