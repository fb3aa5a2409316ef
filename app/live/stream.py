"""Live auction events: Litestar channels (memory backend by default) streamed as server-sent events.

Events are published only after commit (transfer.kernel.unit_of_work), best effort: a client only ever
sees committed state, and a slow or stalled stream can never hold up or lose a bid.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC
from typing import Any

import msgspec
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.response import ServerSentEvent, ServerSentEventMessage

from transfer.kernel.clock import Clock

HEARTBEAT_S = 15.0
# A client that falls this far behind loses the oldest events rather than growing server memory.
SUBSCRIBER_BACKLOG = 1_000


def create_channels() -> ChannelsPlugin:
    return ChannelsPlugin(
        backend=MemoryChannelsBackend(history=0),
        arbitrary_channels_allowed=True,
        subscriber_max_backlog=SUBSCRIBER_BACKLOG,
        subscriber_backlog_strategy="dropleft",
    )


def publisher(channels: ChannelsPlugin) -> Any:
    async def publish(events: list[tuple[str, dict[str, Any]]]) -> None:
        for channel, payload in events:
            channels.publish(msgspec.json.encode(payload), channels=[channel])

    return publish


def event_stream(
    channels: ChannelsPlugin, channel: str, clock: Clock, hello: dict[str, Any]
) -> ServerSentEvent:
    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        subscriber = await channels.subscribe([channel])
        try:
            async with subscriber.run_in_background(queue.put, join=False):
                yield ServerSentEventMessage(event="hello", data=msgspec.json.encode(hello).decode())
                while True:
                    try:
                        message = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
                    except TimeoutError:
                        now = clock().astimezone(UTC).isoformat()
                        yield ServerSentEventMessage(event="heartbeat", data=f'{{"server_time":"{now}"}}')
                        continue
                    payload = msgspec.json.decode(message)
                    yield ServerSentEventMessage(
                        event=str(payload.get("event", "message")), data=message.decode()
                    )
        finally:
            await channels.unsubscribe(subscriber)

    return ServerSentEvent(stream())
