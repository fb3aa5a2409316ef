"""Bar charts as SVG drawn on the server (templates/chart.svg.j2): the geometry is computed here.

Hand-kept SVG rather than a charting library (README, "Pages"): a chart here is a handful of bars,
its labels are Chinese or English text and its values the same yuan text as the tables beside it,
and it must work with no script. Bars are scaled in integer fen, so no float touches an amount;
only the pixel widths are fractions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.pages.formatting import yuan

LABEL_WIDTH_PX = 150
BAR_AREA_WIDTH_PX = 300
VALUE_WIDTH_PX = 110
BAR_HEIGHT_PX = 22
BAR_GAP_PX = 8
# A chart with more bars than this shows the largest ones and says how many it left out.
MAX_BARS = 24


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value_fen: int
    value_text: str
    y_px: int
    width_px: float


@dataclass(frozen=True, slots=True)
class BarChart:
    title: str
    bars: list[Bar]
    left_out: int
    width_px: int
    height_px: int
    label_width_px: int = LABEL_WIDTH_PX
    bar_height_px: int = BAR_HEIGHT_PX


def bar_chart(
    title: str,
    values: Sequence[tuple[str, int]],
    *,
    keep_order: bool = True,
    label_width_px: int = LABEL_WIDTH_PX,
) -> BarChart:
    """values: (label, amount in fen), each ≥ 0. keep_order=False shows the largest first; a chart
    whose labels are long (a waterfall's part and payee) asks for a wider label column."""
    assert all(amount_fen >= 0 for _, amount_fen in values), "a chart bar cannot be negative"
    chosen = list(values) if keep_order else sorted(values, key=lambda item: -item[1])
    left_out = max(0, len(chosen) - MAX_BARS)
    chosen = chosen[-MAX_BARS:] if keep_order else chosen[:MAX_BARS]
    largest_fen = max((amount_fen for _, amount_fen in chosen), default=0)
    bars = [
        Bar(
            label=label,
            value_fen=amount_fen,
            value_text=yuan(amount_fen),
            y_px=index * (BAR_HEIGHT_PX + BAR_GAP_PX),
            width_px=round(BAR_AREA_WIDTH_PX * amount_fen / largest_fen, 1) if largest_fen else 0.0,
        )
        for index, (label, amount_fen) in enumerate(chosen)
    ]
    height_px = max(1, len(bars)) * (BAR_HEIGHT_PX + BAR_GAP_PX)
    return BarChart(
        title=title,
        bars=bars,
        left_out=left_out,
        width_px=label_width_px + BAR_AREA_WIDTH_PX + VALUE_WIDTH_PX,
        height_px=height_px,
        label_width_px=label_width_px,
    )
