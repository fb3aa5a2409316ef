"""The text, id and calendar bounds of app/input_bounds.py on their own."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated

import msgspec
import pytest

from app.http.input_bounds import (
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_ID,
    check_date,
    check_datetime,
    check_text,
    id_in_range,
    multi_line_text,
    text,
)
from transfer.kernel.errors import DomainError


class Named(msgspec.Struct):
    name: Annotated[str, text(100)]
    note: Annotated[str, multi_line_text(100)] = ""


@pytest.mark.parametrize(
    "name", ["杭州银行股份有限公司", "Bank of Ningbo (A)", "Zürich Re", "北京-1号 🏦", ""]
)
def test_ordinary_names_in_any_script_are_accepted(name: str) -> None:
    assert msgspec.convert({"name": name}, Named).name == name
    check_text(name, "name")


@pytest.mark.parametrize(
    "char",
    ["\x00", "\x08", "\t", "\n", "\x1f", "\x7f", "\x85", "\x9f", "\u061c", "\u200e", "\u202e", "\u2067"],
)
def test_a_control_or_bidi_character_is_refused_by_the_type_and_the_function_alike(char: str) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"name": f"a{char}b"}, Named)
    with pytest.raises(DomainError):
        check_text(f"a{char}b", "name")


def test_multi_line_text_keeps_tabs_and_line_breaks_but_no_other_control() -> None:
    assert msgspec.convert({"name": "x", "note": "a\tb\r\nc"}, Named).note == "a\tb\r\nc"
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"name": "x", "note": "a\x00b"}, Named)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"name": "x", "note": "\u202eb"}, Named)


def test_ids_are_1_to_2_63_minus_1() -> None:
    assert [id_in_range(v) for v in (-1, 0, 1, MAX_ID, MAX_ID + 1)] == [False, False, True, True, False]


def test_dates_and_times_are_bounded_on_their_own_calendar() -> None:
    assert check_date(EARLIEST_DATE, "d") == EARLIEST_DATE
    assert check_date(LATEST_DATE, "d") == LATEST_DATE
    for day in (EARLIEST_DATE - timedelta(days=1), LATEST_DATE + timedelta(days=1), date.max, date.min):
        with pytest.raises(DomainError):
            check_date(day, "d")
    late = datetime(2199, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14)))
    assert check_datetime(late, "t").astimezone(UTC).year == 2200  # converts without overflow
    with pytest.raises(DomainError):
        check_datetime(datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14))), "t")
