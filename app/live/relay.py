"""Live events across server processes: NOTIFY on publish, LISTEN in every process.

With one process the channels plugin's memory backend is enough. With several (IPX_WORKERS > 1,
PostgreSQL) a bid lands in one process while its watchers may be streaming from another, so each
process sends its committed events with pg_notify and relays what it hears into its own memory
channels. Best effort, like the memory path: a lost connection drops events, never a bid.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import msgspec
import structlog
from litestar.channels import ChannelsPlugin

log = structlog.get_logger("ipx.live")

NOTIFY_CHANNEL = "ipx_live"
# PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more; batches stay well under.
MAX_PAYLOAD_BYTES = 7_000
RECONNECT_S = 1.0

Event = tuple[str, dict[str, Any]]


def asyncpg_dsn(database_url: str) -> str:
    scheme, _, rest = database_url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgres") else database_url


def batches(events: list[Event], max_bytes: int = MAX_PAYLOAD_BYTES) -> list[str]:
    """Events encoded as JSON arrays of [channel, payload], each array under max_bytes."""
    out: list[str] = []
    current: list[bytes] = []
    size = 2
    for channel, payload in events:
        item = msgspec.json.encode([channel, payload])
        if len(item) + 2 > max_bytes:
            log.warning("live event too large to relay, dropped", channel=channel, bytes=len(item))
            continue
        if current and size + len(item) + 1 > max_bytes:
            out.append(b"[" + b",".join(current) + b"]")
            current, size = [], 2
        current.append(item)
        size += len(item) + 1
    if current:
        out.append(b"[" + b",".join(current) + b"]")
    return [batch.decode() for batch in out]


class PostgresRelay:
    def __init__(self, database_url: str, channels: ChannelsPlugin) -> None:
        self.dsn = asyncpg_dsn(database_url)
        self.channels = channels
        self._queue: asyncio.Queue[list[Event]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._send())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def publish(self, events: list[Event]) -> None:
        # Queued, not sent here: the answer to the bid does not wait for the notification.
        self._queue.put_nowait(events)

    def _deliver(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        for channel, event in msgspec.json.decode(payload):
            self.channels.publish(msgspec.json.encode(event), channels=[channel])

    async def _listen(self) -> None:
        while True:
            try:
                connection = await asyncpg.connect(self.dsn)
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _c, lost=lost: lost.set())
                await connection.add_listener(NOTIFY_CHANNEL, self._deliver)
                try:
                    await lost.wait()
                finally:
                    await connection.close()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("live relay listener lost, reconnecting", error=str(error))
            await asyncio.sleep(RECONNECT_S)

    async def _send(self) -> None:
        connection: asyncpg.Connection | None = None
        while True:
            events = list(await self._queue.get())
            # Everything queued meanwhile goes out in the same notifications, in order.
            while not self._queue.empty():
                events.extend(self._queue.get_nowait())
            try:
                if connection is None or connection.is_closed():
                    connection = await asyncpg.connect(self.dsn)
                for payload in batches(events):
                    await connection.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, payload)
            except asyncio.CancelledError:
                if connection is not None:
                    await connection.close()
                raise
            except Exception as error:
                log.warning(
                    "live relay could not notify; events dropped", error=str(error), count=len(events)
                )
                connection = None
                await asyncio.sleep(RECONNECT_S)
