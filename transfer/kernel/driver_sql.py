"""SQLAlchemy Core statements compiled once for PostgreSQL's asyncpg driver.

The hottest paths (an English bid, the scheduler's probe) run on a driver connection without a
session: the statement is built with the same tables and columns as everywhere else, compiled
here once, and executed with positional arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """SQL with $n placeholders, the parameter names in order, and the values the statement
    itself fixed (a literal compared in a WHERE clause becomes a parameter too)."""

    sql: str
    parameter_names: tuple[str, ...]
    fixed: dict[str, Any] = field(default_factory=dict)

    def arguments(self, params: dict[str, Any]) -> list[Any]:
        if not self.fixed:  # the bid's statements: every value comes from the caller
            return [params[name] for name in self.parameter_names]
        return [params[name] if name in params else self.fixed[name] for name in self.parameter_names]


def compile_for_driver(statement: ClauseElement) -> DriverStatement:
    dialect = postgresql_asyncpg.dialect()  # type: ignore[no-untyped-call]
    done = cast(SQLCompiler, statement.compile(dialect=dialect))
    assert done.positiontup is not None
    names = tuple(done.positiontup)
    fixed = {name: value for name, value in done.params.items() if value is not None and name in names}
    return DriverStatement(str(done), names, fixed)
