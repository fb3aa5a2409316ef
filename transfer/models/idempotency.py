from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from transfer.kernel.model_base import Base, IdType, UTCDateTime


class IdempotencyRecord(Base):
    """The stored answer to a mutating request, keyed by (participant, Idempotency-Key).

    Written in the same transaction as the request's effect, so a stored answer always means the
    effect happened, and an effect always has its stored answer.
    """

    __tablename__ = "idempotency_records"

    participant_id: Mapped[int] = mapped_column(IdType, ForeignKey("participants.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
