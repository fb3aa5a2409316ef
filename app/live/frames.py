"""Server-sent-event frames (the WHATWG HTML standard, "Server-sent events"), encoded once per
event and written as they are to every watcher."""

from __future__ import annotations


def frame(event: str, data: bytes, event_id: int | None = None) -> bytes:
    """One event. `data` is compact JSON (no newline); `event_id`, the English lot's bid sequence,
    is what a client sends back as Last-Event-ID when it reconnects. An event without one leaves
    the client's last id as it was, as the standard says."""
    assert b"\n" not in data and b"\r" not in data, event
    head = b"id: %d\n" % event_id if event_id is not None else b""
    return b"%sevent: %s\ndata: %s\n\n" % (head, event.encode(), data)
