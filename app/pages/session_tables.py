"""The pages' two tables: login sessions, and the secrets every serving process must share.

In the database rather than in a process's memory so that any process of the service (IPX_WORKERS,
or a restart) knows a browser's session and accepts the CSRF token another process gave it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from transfer.kernel.model_base import Base, UTCDateTime


class WebSession(Base):
    """One browser's login session. The cookie holds a random id; only its SHA-256 is kept here,
    so a copy of the table logs nobody in."""

    __tablename__ = "web_sessions"

    sid_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class ServiceSecret(Base):
    """A secret made once, by whichever process starts first, and read by every other (the CSRF
    tokens' signing key)."""

    __tablename__ = "service_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
