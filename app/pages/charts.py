"""Bar charts as SVG drawn on the server (templates/chart.svg.j2): the geometry is computed here.

Hand-kept SVG rather than a charting library (README, "Pages"): a chart here is a handful of bars,
its labels are Chinese or English text and its values the same yuan text as the tables beside it,
and it must work with no script. Bars are scaled in integer fen, so no float touches an amount;
only the bars' widths are fractions.

Each bar has its label on a line of its own above it and its value right after its end. The SVG has
no viewBox: one of its units is one CSS pixel and its width is its box's, so its text keeps its size
on a phone instead of shrinking with the drawing, and the bars' widths are percentages of that box.
A label is drawn whole if it fits the narrowest box a chart gets, else cut with an ellipsis (the
template gives the cut label a <title> with the whole name; the table beside the chart has it too).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from app.pages.formatting import yuan

# The chart's text size (style.css draws .chart-label and .chart-value at it), in CSS pixels.
FONT_PX = 13
LABEL_LINE_PX = 18
BAR_HEIGHT_PX = 16
ROW_GAP_PX = 10
ROW_HEIGHT_PX = LABEL_LINE_PX + BAR_HEIGHT_PX + ROW_GAP_PX
# The largest bar takes this share of the chart's width; the rest holds its value after its end:
# half of the narrowest box still holds "¥99,999,999.99".
BAR_AREA_PERCENT = 50
VALUE_GAP_PX = 6
# The narrowest box a chart is drawn in: a 320-px phone less the page's and the card's margins.
LABEL_MAX_PX = 260
# A character's width estimated in ems: Chinese (and other wide) characters one em, the others at most
# this much (digits and capitals of the fonts the pages use are 0.6–0.7 em, lower case less).
NARROW_CHARACTER_EM = 0.65
ELLIPSIS = "…"
# A chart with more bars than this shows the largest ones and says how many it left out.
MAX_BARS = 24


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    # The whole label when `label` had to be cut to fit, else None.
    full_label: str | None
    value_fen: int
    value_text: str
    y_px: int
    width_percent: float


@dataclass(frozen=True, slots=True)
class BarChart:
    title: str
    bars: list[Bar]
    left_out: int
    height_px: int
    label_baseline_px: int = LABEL_LINE_PX - 5
    bar_top_px: int = LABEL_LINE_PX
    bar_height_px: int = BAR_HEIGHT_PX
    value_baseline_px: int = LABEL_LINE_PX + BAR_HEIGHT_PX - 3
    value_gap_px: int = VALUE_GAP_PX


def text_width_px(text: str, font_px: int = FONT_PX) -> float:
    """The estimated drawn width of a text: wide characters (CJK, full-width, and the ambiguous ones
    such as "…", which a Chinese font draws wide) count one em."""
    ems = sum(
        1.0 if unicodedata.east_asian_width(character) in "WFA" else NARROW_CHARACTER_EM for character in text
    )
    return ems * font_px


def fitted_label(label: str, max_px: float) -> str:
    """The label if it fits max_px, else its longest beginning that fits with an ellipsis after it."""
    if text_width_px(label) <= max_px:
        return label
    kept = label
    while kept and text_width_px(kept.rstrip() + ELLIPSIS) > max_px:
        kept = kept[:-1]
    fitted = kept.rstrip() + ELLIPSIS
    assert text_width_px(fitted) <= max_px, "the ellipsis alone must fit"
    return fitted


def bar_chart(
    title: str,
    values: Sequence[tuple[str, int]],
    *,
    keep_order: bool = True,
    label_width_px: int = LABEL_MAX_PX,
) -> BarChart:
    """values: (label, amount in fen), each ≥ 0. keep_order=False shows the largest first. A label
    wider than label_width_px (at most LABEL_MAX_PX, since every label has the chart's whole width
    above its bar and the narrowest chart is that wide) is cut with an ellipsis."""
    assert all(amount_fen >= 0 for _, amount_fen in values), "a chart bar cannot be negative"
    label_max_px = min(label_width_px, LABEL_MAX_PX)
    chosen = list(values) if keep_order else sorted(values, key=lambda item: -item[1])
    left_out = max(0, len(chosen) - MAX_BARS)
    chosen = chosen[-MAX_BARS:] if keep_order else chosen[:MAX_BARS]
    largest_fen = max((amount_fen for _, amount_fen in chosen), default=0)
    bars = []
    for index, (label, amount_fen) in enumerate(chosen):
        shown = fitted_label(label, label_max_px)
        bars.append(
            Bar(
                label=shown,
                full_label=None if shown == label else label,
                value_fen=amount_fen,
                value_text=yuan(amount_fen),
                y_px=index * ROW_HEIGHT_PX,
                width_percent=round(BAR_AREA_PERCENT * amount_fen / largest_fen, 2) if largest_fen else 0.0,
            )
        )
    return BarChart(title=title, bars=bars, left_out=left_out, height_px=max(1, len(bars)) * ROW_HEIGHT_PX)
