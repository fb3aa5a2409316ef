from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, FetchedValue, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from transfer.kernel.model_base import Base, IdType, UTCDateTime


class AuditEvent(Base):
    """Append-only record of every state change; never updated.

    A transaction inserts its events (id in insertion order); the sealer (transfer.kernel.audit) then
    chains them by inserting one AuditSeal per event. Writers never wait on each other for the
    chain: only sealers take the chain head.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        # The sealer's work queue, read from the head's watermark onwards (transfer.kernel.audit).
        Index("ix_audit_events_tx_id_id", "tx_id", "id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    # The writing transaction's id on PostgreSQL (pg_current_xact_id(), 64-bit, never wraps),
    # given by the database's default (migration 0009); 0 on SQLite, whose writers take turns.
    tx_id: Mapped[int] = mapped_column(BigInteger, server_default=FetchedValue())
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    type: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(100), index=True)
    # Canonical JSON, stored as text so the hash can be recomputed byte for byte.
    payload: Mapped[str] = mapped_column(Text)


class AuditSeal(Base):
    """An event's place in the chain (seq 1, 2, 3, … in sealing order) and its hashes.

    Insert-only, like the events: sealing writes new rows instead of updating events, so neither
    table carries dead row versions or index entries that a vacuum must clean before scans get
    fast again.
    """

    __tablename__ = "audit_seals"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # No foreign key: verification left-joins the events and names a seal whose event is gone.
    event_id: Mapped[int] = mapped_column(IdType, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """A single row: the chain's last sequence number and hash, and the sealer's watermark.

    Only sealers lock it, so the chain never forks when several processes seal at once. Every
    event at or below (last_tx_id, last_event_id), in (tx_id, id) order, is sealed; the sealer
    reads onwards from there.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    last_tx_id: Mapped[int] = mapped_column(BigInteger, server_default="0")
    last_event_id: Mapped[int] = mapped_column(BigInteger, server_default="0")
