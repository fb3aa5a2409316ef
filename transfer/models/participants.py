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
    # Only the SHA-256 of the key is stored; the key itself is shown once at creation.
    api_key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    api_key_prefix: Mapped[str] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.split(",")) if self.roles else frozenset()
