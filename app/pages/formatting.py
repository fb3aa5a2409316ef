"""How the pages write money and time: yuan with thousands separators, Asia/Shanghai with its offset.

Amounts come either as integer fen (from the cores) or as the API's yuan strings (from the
presenters); both end in the same text, so a page and the JSON API never disagree on a figure.
"""

from __future__ import annotations

from datetime import datetime

from transfer.kernel.money import format_fen
from transfer.rules.fee_waiver import SHANGHAI


def yuan(amount: int | str | None) -> str:
    """1234567.8 yuan as "¥1,234,567.80"; fen (int) or the API's "1234567.80"; None as "—"."""
    if amount is None:
        return "—"
    text = format_fen(amount) if isinstance(amount, int) else amount
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, fraction = digits.partition(".")
    return f"{sign}¥{int(whole):,}.{fraction or '00'}"


def shanghai_time(instant: datetime | str | None) -> str:
    """An instant as Asia/Shanghai wall time with the offset shown: "2026-12-01 18:00:05 +08:00"."""
    if instant is None:
        return "—"
    moment = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    local = moment.astimezone(SHANGHAI)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}"


def countdown_text(seconds_left: float, day_unit: str = "d") -> str:
    """Time left as the page first shows it (the script then counts down on the server's clock)."""
    whole = max(0, int(seconds_left))
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    return f"{days}{day_unit} {clock}" if days else clock


def share_percent(share_ppm: int) -> str:
    """A share in parts per million as an exact percentage: 625_000 as "62.5%", 1_000_000 as "100%"."""
    whole, rest = divmod(share_ppm, 10_000)
    fraction = f"{rest:04d}".rstrip("0")
    return f"{whole}.{fraction}%" if fraction else f"{whole}%"


def bps_percent(basis_points: int) -> str:
    """Basis points as an exact percentage: 300 as "3%", 625 as "6.25%"."""
    return share_percent(basis_points * 100)


def spreadsheet_time(instant: datetime | str | None) -> str:
    """An instant as the page shows it, for a CSV cell: an empty cell when there is none."""
    return "" if instant is None else shanghai_time(instant)
