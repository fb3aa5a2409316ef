"""A CSV answer streamed from a handler that can also answer JSON (`?format=csv`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from litestar.response import Stream

# The charset is added by Litestar from the response's encoding (utf-8).
CSV_MEDIA_TYPE = "text/csv"


class CsvStream(Stream):
    """Litestar 2's Stream lets the route's media type win over its own (`media_type or
    self.media_type` in litestar/response/streaming.py, against its docstring), so a handler
    declared to answer JSON would label its CSV `application/json`. This one says what it is."""

    def __init__(self, chunks: AsyncIterator[str], filename: str) -> None:
        super().__init__(
            chunks,
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["media_type"] = self.media_type
        return super().to_asgi_response(*args, **kwargs)
