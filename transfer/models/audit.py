from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from transfer.models.base import Base, UTCDateTime


class AuditEvent(Base):
    """Append-only, hash-chained record of every state change.

    A transaction inserts its events (id in insertion order) with no chain fields; the sealer
    (transfer.audit.seal_pending) then gives each one its place in the chain (seq) and its hashes.
    Writers never wait on each other for the chain: only sealers take the chain head.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        # The sealer's work queue: only the not yet sealed events, a handful at any moment.
        Index(
            "ix_audit_events_unsealed",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    # Position in the chain, 1, 2, 3, … in sealing order; NULL until sealed.
    seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    type: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(100), index=True)
    # Canonical JSON, stored as text so the hash can be recomputed byte for byte.
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditHead(Base):
    """A single row: the chain's last sequence number and hash.

    Only sealers lock it, so the chain never forks when several processes seal at once.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
