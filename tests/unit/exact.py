"""`pytest.raises(..., match=exactly(message))`: the whole message, not a part of it.

A refusal's message is what an operator or a client reads, so tests pin it whole: a partial match
still passes when the words around it are garbled or the message is replaced by one that quotes it.
"""

from __future__ import annotations

import re


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"
