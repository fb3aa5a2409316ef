"""Live events across server processes: NOTIFY in the writing transaction, LISTEN in every process.

With one process the channels plugin's memory backend is enough. With several (IPX_WORKERS > 1,
or single-worker services with IPX_LIVE_RELAY, on one PostgreSQL) a bid lands in one process while
its watchers may be streaming from another, so every process LISTENs and relays what it hears into
its own memory channels, its own events included.

The notifications are sent inside the transaction that made the change: the English bid's one
conditional write (auction.bidding.statements, `notifying`) or a unit of work just before its
commit (`notify_in`). PostgreSQL delivers a transaction's notifications at its commit, in commit
order, and two writes to one lot commit in the lot's order, so every listener sees a lot's events
in order whichever processes wrote them. Sent after the commit from each process instead, they
went out in whatever order the processes got to them: watchers saw bid 3 before bid 2 when two
processes took bids on one lot (scripts/workers). A lost listening connection still drops events
(the watcher reconnects and reads the history), never a bid.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import msgspec
import structlog
from litestar.channels import ChannelsPlugin
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

log = structlog.get_logger("ipx.live")

NOTIFY_CHANNEL = "ipx_live"
# PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more; batches stay well under.
MAX_PAYLOAD_BYTES = 7_000
RECONNECT_S = 1.0

Event = tuple[str, dict[str, Any]]
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


def asyncpg_dsn(database_url: str) -> str:
    scheme, _, rest = database_url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgres") else database_url


def batches(events: list[Event], max_bytes: int = MAX_PAYLOAD_BYTES) -> list[str]:
    """Events encoded as JSON arrays of [channel, payload], each array under max_bytes."""
    out: list[bytes] = []
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
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._listen())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def payloads(self, events: list[Event]) -> list[str]:
        """The notifications that carry these events, for a statement that sends them itself."""
        return batches(events)

    async def notify_in(self, session: AsyncSession, events: list[Event]) -> None:
        """Send the events inside the session's transaction: delivered at its commit, in order."""
        for payload in batches(events):
            await session.execute(_NOTIFY, {"channel": NOTIFY_CHANNEL, "payload": payload})

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
