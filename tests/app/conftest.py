"""Fixtures for migration tests: an empty database of each kind, migrated only as far as a test says."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _postgres_admin, _postgres_test_url


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path, database_urls: dict[str, str]) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/migration.db"
        return
    if "postgres" not in database_urls:
        pytest.skip("postgres is not available")
    name = f"ipx_mig_{uuid.uuid4().hex[:10]}"
    asyncio.run(_postgres_admin(f"CREATE DATABASE {name}"))
    try:
        yield _postgres_test_url(name)
    finally:
        asyncio.run(_postgres_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
