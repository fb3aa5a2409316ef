"""What every handler, job and command shares: settings, the database and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.db import Database
from app.settings import Settings
from transfer.clock import Clock, system_clock


@dataclass
class AppContext:
    settings: Settings
    database: Database
    clock: Clock = field(default=system_clock)
