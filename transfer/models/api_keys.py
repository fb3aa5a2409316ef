"""A participant's named API keys, and the revocation generation every process watches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from transfer.kernel.model_base import Base, IdType, UTCDateTime


class ApiKey(Base):
    """One key of a participant. Only the SHA-256 of the key is stored; the key itself is shown
    once, in the answer that created it."""

    __tablename__ = "api_keys"
    __table_args__ = (
        Index("ix_api_keys_participant_id_id", "participant_id", "id"),
        # A name tells a participant's live keys apart; a revoked key's name may be used again.
        Index(
            "ix_api_keys_live_name",
            "participant_id",
            "name",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
            sqlite_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    participant_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"))
    name: Mapped[str] = mapped_column(String(100))
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Written at most once a minute per key (transfer.registry.keys.LAST_USED_RESOLUTION_S).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ApiKeyGeneration(Base):
    """One row: raised by every revocation, suspension and reinstatement, in the same transaction.
    Each process compares it with the one its key cache was filled under (app/http/key_cache.py)."""

    __tablename__ = "api_key_generation"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger)
