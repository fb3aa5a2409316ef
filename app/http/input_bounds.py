"""The bounds on what a client may send: ids, paging, dates, free text and bodies.

Values past them used to reach the database driver, the calendar arithmetic or the JSON decoder
and answer 500. The README's "Bounds on input" lists them; this module is the only place they are
defined. app/bounds_middleware.py applies the id, paging and date bounds to every route's path and
query, the schemas use the types below for bodies, and the raw ASGI bid path calls id_in_range.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar.params import KwargDefinition, Parameter

from transfer.kernel.errors import DomainError

# Ids are 64-bit signed integers in both databases; 0 and negatives are never issued.
MAX_ID = 2**63 - 1
# Deeper pages are a report's job, not a list's: OFFSET makes the database walk every skipped row.
MAX_OFFSET = 1_000_000
# Every other integer in a query (cursors such as after_sequence) must fit a 64-bit column.
MAX_QUERY_INT = MAX_ID
# The calendar the service reasons about: business days, fee waivers, statements, auction times.
# Wide enough for any real loan or patent date, narrow enough that no date arithmetic overflows.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
# Nesting past this many levels (the interpreter's recursion limit, roughly) is refused by the
# decoder itself; the number only appears in the refusal's text.
JSON_MAX_DEPTH_HINT = 1_000

# C0 and C1 controls, DEL, and the bidirectional formatting characters (a name of U+202E + "knab"
# shows as "bank"). A JSON lone surrogate never gets here: the decoder refuses it.
_BIDI = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
SINGLE_LINE_PATTERN = rf"^[^\x00-\x1f\x7f-\x9f{_BIDI}]*$"
# Descriptions may keep their tabs and line breaks.
MULTI_LINE_PATTERN = rf"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]*$"
TEXT_REASON = (
    "must not contain control characters (U+0000-U+001F, U+007F-U+009F) or bidirectional formatting "
    "characters (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069)"
)
MULTI_LINE_REASON = TEXT_REASON.replace("control characters", "control characters other than tab, CR, LF")
_SINGLE_LINE = re.compile(SINGLE_LINE_PATTERN)
# One line with at least one character that is not whitespace.
NOT_BLANK_PATTERN = (
    rf"^[^\x00-\x1f\x7f-\x9f{_BIDI}]*[^\s\x00-\x1f\x7f-\x9f{_BIDI}][^\x00-\x1f\x7f-\x9f{_BIDI}]*$"
)


# Room for surrounding whitespace in fields the service strips before applying its own limit.
WHITESPACE_SLACK = 20


def one_of_values(values: Iterable[str], **meta: Any) -> msgspec.Meta:
    """A body field the service checks against a set of values itself (refusing any other with its
    own problem code): the OpenAPI document states the set as an `enum`."""
    return msgspec.Meta(**meta, extra_json_schema={"extra": one_of(values)})


def _documented(max_length: int, min_length: int, pattern: str, stripped: bool) -> dict[str, Any] | None:
    """For a stripped field, what the OpenAPI document states: the service's own limit, and (when
    the field is required) at least one character that is not whitespace, so every value the
    document admits is one the service accepts."""
    if not stripped:
        return None
    extra: dict[str, Any] = {"maxLength": max_length}
    if min_length:
        allowed = pattern[1:-2]  # the character class of ^[^...]*$
        not_blank = allowed.replace("[^", r"[^\s", 1)
        extra["pattern"] = f"^{allowed}*{not_blank}{allowed}*$"  # NOT_BLANK_PATTERN for one line
    return {"extra": extra}


def text(max_length: int, *, min_length: int = 0, stripped: bool = False) -> msgspec.Meta:
    """A name, title, reason or reference: one line of printable text. `stripped`: the service
    strips surrounding whitespace and applies `max_length` itself, so the decoder allows a little
    more (WHITESPACE_SLACK) and leaves the refusal to the service's clearer message."""
    return msgspec.Meta(
        min_length=min_length,
        max_length=max_length + (WHITESPACE_SLACK if stripped else 0),
        pattern=SINGLE_LINE_PATTERN,
        extra_json_schema=_documented(max_length, min_length, SINGLE_LINE_PATTERN, stripped),
    )


def multi_line_text(max_length: int, *, min_length: int = 0, stripped: bool = False) -> msgspec.Meta:
    """A description or a reason: text that may keep its tabs and line breaks."""
    return msgspec.Meta(
        min_length=min_length,
        max_length=max_length + (WHITESPACE_SLACK if stripped else 0),
        pattern=MULTI_LINE_PATTERN,
        extra_json_schema=_documented(max_length, min_length, MULTI_LINE_PATTERN, stripped),
    )


# Money in a body: a string of yuan with at most two decimals, as transfer/kernel/money.py parses
# it. The pattern is stated in the OpenAPI document only (Litestar's KwargDefinition, which msgspec
# ignores), so parse_yuan keeps its own refusals (negative, a third decimal, too large), each with
# its reason. At most 13 whole digits keeps a documented amount under MAX_AMOUNT_FEN.
_YUAN_DIGITS = r"[1-9][0-9]{0,12}(\.[0-9]{1,2})?"
POSITIVE_YUAN_PATTERN = rf"^({_YUAN_DIGITS}|0\.([1-9][0-9]?|0[1-9]))$"
YUAN_PATTERN = rf"^({_YUAN_DIGITS}|0(\.[0-9]{{1,2}})?)$"
# An amount that must be more than zero (a price, a principal) ...
Yuan = Annotated[str, KwargDefinition(pattern=POSITIVE_YUAN_PATTERN)]
# ... and one that may be zero (a deposit, accrued interest, an upfront fee).
YuanOrZero = Annotated[str, KwargDefinition(pattern=YUAN_PATTERN)]

# A reference to another resource in a body.
Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
# The list routes' offset, declared with the bound so the OpenAPI document shows it; the
# middleware applies the same bound to an `offset` whatever its declaration.
Offset = Annotated[int, Parameter(ge=0, le=MAX_OFFSET)]


def one_of(values: Iterable[str]) -> dict[str, Any]:
    """The OpenAPI `enum` of a query parameter the service checks itself (refusing any other value
    with its own problem code), so the document states the values without Litestar enforcing them."""
    return {"enum": [str(value) for value in values]}


def id_in_range(value: int) -> bool:
    """Could this be an id? Cheap enough for the bid path: two comparisons."""
    return 0 < value <= MAX_ID


def check_id(value: int, field: str, *, ascii_digits: bool = True) -> None:
    """ascii_digits: the id was written in ASCII digits, so one path names one resource for logs,
    filters and the audit trail (int() also reads other scripts' digits)."""
    if not ascii_digits or not id_in_range(value):
        raise DomainError("id_out_of_range", f"{field} must be an integer from 1 to {MAX_ID}", field=field)


def check_query_int(value: int, field: str) -> None:
    high = MAX_OFFSET if field == "offset" else MAX_QUERY_INT
    if not 0 <= value <= high:
        raise DomainError("integer_out_of_range", f"{field} must be an integer from 0 to {high}", field=field)


def _date_out_of_range(field: str) -> DomainError:
    return DomainError(
        "date_out_of_range",
        f"{field} must lie between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}",
        field=field,
    )


def check_date(value: date, field: str) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise _date_out_of_range(field)
    return value


def check_datetime(value: datetime, field: str) -> datetime:
    """On its own calendar, before any conversion: 9999-12-31T23:59:59-14:00 overflows in UTC."""
    if not EARLIEST_DATE <= value.date() <= LATEST_DATE:
        raise _date_out_of_range(field)
    return value


def check_text(value: str, field: str) -> None:
    if _SINGLE_LINE.match(value) is None:
        raise DomainError("invalid_text", f"{field} {TEXT_REASON}", field=field)
