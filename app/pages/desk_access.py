"""What the desks share: who may open a desk, its page number, and a table as a spreadsheet's CSV.

A desk is its participant's own book: a visitor without a session is sent to login, a participant
without the desk's role gets a 403 page (or the API's problem document when it asks for JSON, as
every page refusal does).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from litestar import Request
from litestar.params import Parameter
from litestar.response import Redirect, Template

from app.context import AppContext
from app.http.auth import Actor
from app.http.csv_stream import CsvStream
from app.pages import i18n
from app.pages.rendering import language, page, to_login
from app.pages.sessions import viewer_of

# A desk pages its long tables; past this page a participant's book belongs in the CSV.
MAX_PAGE = 10_000
# A desk's CSV is the participant's own table, read a page at a time; this bounds one download
# (a bank's whole book fits many times over; a bigger extract is a report's job).
MAX_CSV_ROWS = 20_000
# Rows written before a chunk goes out, so a long CSV streams instead of growing in memory.
CSV_CHUNK_ROWS = 500

PageNumber = Annotated[int, Parameter(ge=1, le=MAX_PAGE)]


async def desk_viewer(
    request: Request[Any, Any, Any], ctx: AppContext, role: str
) -> Actor | Redirect | Template:
    viewer = await viewer_of(request, ctx)
    if viewer is None:
        return to_login(request)
    if role not in viewer.roles:
        t = i18n.translator(language(request))
        return page(request, "error.html.j2", viewer, status_code=403, message=f"{t('forbidden_role')}{role}")
    return viewer


# One page (from 1) of a desk's table: its CSV rows, how many of the table's items it covered (a loan
# or a case gives several rows) and how many items the table has.
RowPage = Callable[[int], Awaitable[tuple[Sequence[list[str]], int, int]]]


async def paged_rows(read_page: RowPage) -> AsyncGenerator[list[str], None]:
    """Every row of a paged table, one page read (one short read transaction) at a time."""
    number, seen = 1, 0
    while True:
        rows, items, total = await read_page(number)
        for row in rows:
            yield row
        seen += items
        if items == 0 or seen >= total:
            return
        number += 1


# Excel and WPS on a Chinese Windows read a CSV without a byte-order mark in the ANSI code page
# (GBK), which garbles every Chinese name: a desk's CSV begins with the UTF-8 BOM.
UTF8_BOM = "\ufeff"
# A cell that starts with one of these is a formula to a spreadsheet (OWASP "CSV injection"); names
# and titles typed by other participants could start so.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain number, as the desks write amounts ("-100.00"): a spreadsheet must still read it as one.
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def spreadsheet_cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs: a leading `'` before a formula's first
    character; a plain number stays a number."""
    if value.startswith(_FORMULA_STARTS) and _PLAIN_NUMBER.fullmatch(value) is None:
        return "'" + value
    return value


async def _chunks(
    header: list[str],
    rows: AsyncGenerator[list[str], None],
    max_rows: int,
    truncated_note: Callable[[int], str],
) -> AsyncIterator[str]:
    buffer = io.StringIO()
    buffer.write(UTF8_BOM)
    writer = csv.writer(buffer)
    writer.writerow([spreadsheet_cell(cell) for cell in header])
    written = 0
    async with aclosing(rows):
        async for row in rows:
            if written == max_rows:
                # One row past the cap: the file is cut, and its last line says so.
                writer.writerow([truncated_note(written)])
                break
            writer.writerow([spreadsheet_cell(cell) for cell in row])
            written += 1
            if written % CSV_CHUNK_ROWS == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


def table_csv(
    lang: str,
    header_keys: Sequence[str],
    rows: AsyncGenerator[list[str], None],
    filename: str,
    max_rows: int | None = None,
) -> CsvStream:
    """A desk's table as a spreadsheet's CSV download, streamed as it is read: UTF-8 with a BOM,
    headers in the page's language, no cell a formula, and at most max_rows rows (MAX_CSV_ROWS
    unless said; a cut file ends with a line that says so)."""
    t = i18n.translator(lang)
    header = [t(key) for key in header_keys]
    limit = MAX_CSV_ROWS if max_rows is None else max_rows
    assert limit >= 1
    chunks = _chunks(header, rows, limit, lambda written: t("csv_truncated", rows=written))
    return CsvStream(chunks, filename)


async def listed_rows(rows: Iterable[list[str]]) -> AsyncGenerator[list[str], None]:
    """Rows already read (a short table) as the rows table_csv streams."""
    for row in rows:
        yield row


@dataclass(frozen=True, slots=True)
class Pager:
    """Where a paged table stands, with the links to its neighbours (other tables keep their page)."""

    number: int
    pages: int
    total: int
    previous_href: str | None
    next_href: str | None


def pager(request: Request[Any, Any, Any], name: str, number: int, total: int, page_size: int) -> Pager:
    pages = max(1, -(-total // page_size))

    def href(wanted: int) -> str:
        pairs = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k != name]
        return f"{request.url.path}?{urlencode([*pairs, (name, str(wanted))])}"

    return Pager(
        number=number,
        pages=pages,
        total=total,
        previous_href=href(number - 1) if number > 1 else None,
        next_href=href(number + 1) if number < pages else None,
    )
