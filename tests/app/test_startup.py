from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from app import migrate
from app.context import AppContext
from app.db import create_database
from app.main import prepare_database
from app.settings import load_settings
from tests.conftest import _postgres_admin, _postgres_test_url
from transfer.models import Participant
from transfer.registry.participants import find_by_api_key


async def test_service_refuses_a_postgres_schema_that_is_behind(database_urls: dict[str, str]) -> None:
    if "postgres" not in database_urls:
        pytest.skip("postgres is not available")
    name = f"ipx_behind_{uuid.uuid4().hex[:8]}"
    await _postgres_admin(f"CREATE DATABASE {name}")
    url = _postgres_test_url(name)
    database = create_database(url, null_pool=True)
    try:
        with pytest.raises(migrate.SchemaBehind) as refused:
            await prepare_database(AppContext(load_settings({}, database_url=url), database))
        assert "run `python -m app migrate`" in str(refused.value)
    finally:
        await database.dispose()
        await _postgres_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def test_sqlite_migrates_itself_and_ensures_the_admin(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    database = create_database(url, null_pool=True)
    settings = load_settings({}, database_url=url, admin_api_key="an-admin-key-of-length")
    try:
        await prepare_database(AppContext(settings, database))
        await prepare_database(AppContext(settings, database))  # a second start changes nothing

        assert await migrate.current_revision(database) == migrate.head_revision(url)
        async with database.read() as session:
            admin = await find_by_api_key(session, "an-admin-key-of-length")
            assert admin is not None
            assert admin.role_set == frozenset({"admin"})
            assert (await session.execute(select(func.count()).select_from(Participant))).scalar_one() == 1
    finally:
        await database.dispose()
