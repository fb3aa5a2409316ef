from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from transfer.kernel.model_base import Base, IdType, UTCDateTime


class Participant(Base):
    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    # Comma-separated role names, sorted: a participant holds few roles and they are read as a set.
    roles: Mapped[str] = mapped_column(String(100))
    credit_code: Mapped[str | None] = mapped_column(String(18), nullable=True)
    qualified_investor: Mapped[bool] = mapped_column(Boolean, default=False)
    # Its keys live in api_keys (transfer/models/api_keys.py). False while an admin has it
    # suspended: every key of it is refused, its bids, offers and holds stay as they are.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.split(",")) if self.roles else frozenset()
