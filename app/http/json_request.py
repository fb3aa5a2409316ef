"""The request class of every route: JSON nested too deep for the decoder is a 422, not a 500.

msgspec refuses nesting past the interpreter's recursion limit with RecursionError, which Litestar
does not expect from a decoder. Caught here, around the one call that decodes a body, it cannot
hide a RecursionError from anywhere else.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from app.http.input_bounds import JSON_MAX_DEPTH_HINT
from transfer.kernel.errors import DomainError


class BoundedJsonRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise DomainError(
                "json_too_deep",
                f"the JSON body nests deeper than about {JSON_MAX_DEPTH_HINT} levels",
                field="body",
            ) from None
