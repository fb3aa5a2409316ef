"""What the bank and agency desks share: who may open a desk, its page number, and a table as CSV.

A desk is its participant's own book: a visitor without a session is sent to login, a participant
without the desk's role gets a 403 page (or the API's problem document when it asks for JSON, as
every page refusal does).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
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


async def _chunks(header: list[str], rows: AsyncGenerator[list[str], None]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    written = 0
    async with aclosing(rows):
        async for row in rows:
            writer.writerow(row)
            written += 1
            if written >= MAX_CSV_ROWS:
                break
            if written % CSV_CHUNK_ROWS == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


def table_csv(header: list[str], rows: AsyncGenerator[list[str], None], filename: str) -> CsvStream:
    """A desk's table as a CSV download (up to MAX_CSV_ROWS rows), streamed as it is read."""
    return CsvStream(_chunks(header, rows), filename)


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
