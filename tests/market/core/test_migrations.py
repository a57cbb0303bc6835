"""Schema migrations: applied in order, once, safely from two processes at once, and never silently edited."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from market.app.asgi import create_app
from market.core import migrate
from market.core.migrate import Migration, MigrationError
from tests.conftest import wait_until_ready

MIGRATIONS_DIR = Path(migrate.__file__).parent / "migrations"


def names(migrations: list[Migration]) -> list[str]:
    return [f"{migration.version:04d}_{migration.name}" for migration in migrations]


@pytest.fixture
async def conn(empty_database: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(empty_database)
    yield connection
    await connection.close()


async def recorded(conn: asyncpg.Connection) -> list[tuple[int, str, str]]:
    rows = await conn.fetch("SELECT * FROM schema_migrations ORDER BY applied_at, version")
    return [(row["version"], row["name"], row["checksum"]) for row in rows]


async def table_exists(conn: asyncpg.Connection, name: str) -> bool:
    return await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", name)


@pytest.fixture
def db_upgrade(empty_database: str, tmp_path: Path) -> Callable[[], Awaitable[subprocess.CompletedProcess]]:
    """Runs `agora db upgrade` as its own process against the empty database."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("AGORA_") and k != "DATABASE_URL"}
    env = inherited | {"DATABASE_URL": empty_database, "AGORA_DATA_DIR": str(tmp_path / "data")}
    command = [sys.executable, "-c", "from market.app.cli import main; main()", "db", "upgrade"]

    async def run() -> subprocess.CompletedProcess:
        options = {"env": env, "cwd": tmp_path, "capture_output": True, "text": True, "timeout": 120}
        return await asyncio.to_thread(subprocess.run, command, **options)

    return run


def test_every_migration_file_is_found_in_version_order():
    files = sorted(path.name for path in MIGRATIONS_DIR.glob("*.sql"))

    assert [f"{name}.sql" for name in names(migrate.available_migrations())] == files
    assert files, "there is at least the first migration"


async def test_upgrade_applies_every_migration_in_order_and_records_it(conn):
    available = migrate.available_migrations()

    applied = await migrate.upgrade(conn)

    assert names(applied) == names(available)
    assert await recorded(conn) == [(m.version, m.name, m.checksum) for m in available]
    assert await table_exists(conn, "products")
    assert await table_exists(conn, "catalog_changes")
    assert await migrate.pending(conn) == []


@pytest.fixture
def migrations_dir(tmp_path, monkeypatch) -> Path:
    """A migrations directory of the test's own, holding copies of the real files, that `migrate` reads."""
    directory = tmp_path / "migrations"
    directory.mkdir()
    for path in MIGRATIONS_DIR.glob("*.sql"):
        (directory / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(migrate, "resources", SimpleNamespace(files=lambda package: directory))
    return directory


async def test_later_migrations_run_after_the_ones_they_build_on(conn, migrations_dir):
    # 9011 needs the table 9010 makes; both must come after the real ones.
    (migrations_dir / "9011_add_rating.sql").write_text("ALTER TABLE reviews ADD COLUMN rating integer;")
    (migrations_dir / "9010_reviews.sql").write_text("CREATE TABLE reviews (product_id bigint);")
    (migrations_dir / "notes.txt").write_text("not a migration")
    (migrations_dir / "12_misnamed.sql").write_text("SELECT 1 / 0;")

    applied = await migrate.upgrade(conn)

    assert names(applied)[-2:] == ["9010_reviews", "9011_add_rating"]
    assert [version for version, _, _ in await recorded(conn)][-2:] == [9010, 9011]
    assert await conn.fetchval("SELECT rating FROM reviews") is None  # the column 9011 adds is there


def test_two_files_with_one_version_number_are_refused(migrations_dir):
    (migrations_dir / "9010_reviews.sql").write_text("SELECT 1;")
    (migrations_dir / "9010_ratings.sql").write_text("SELECT 1;")

    with pytest.raises(MigrationError, match="share a version"):
        migrate.available_migrations()


async def test_a_second_upgrade_applies_nothing(conn):
    await migrate.upgrade(conn)
    before = await recorded(conn)

    assert await migrate.upgrade(conn) == []
    assert await recorded(conn) == before


async def test_two_upgrades_at_once_both_succeed_and_record_each_migration_once(empty_database):
    first, second = await asyncpg.connect(empty_database), await asyncpg.connect(empty_database)
    try:
        both = asyncio.gather(migrate.upgrade(first), migrate.upgrade(second))
        applied = await asyncio.wait_for(both, timeout=30)
        counts = await first.fetch("SELECT version, count(*) FROM schema_migrations GROUP BY 1 ORDER BY 1")
    finally:
        await first.close()
        await second.close()

    available = migrate.available_migrations()
    assert sorted(names(applied[0] + applied[1])) == names(available)
    assert [tuple(row) for row in counts] == [(m.version, 1) for m in available]


async def test_a_migration_changed_after_it_was_applied_is_refused(conn, empty_database):
    await migrate.upgrade(conn)
    first = migrate.available_migrations()[0]
    await conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = $1", first.version)

    with pytest.raises(MigrationError, match=names([first])[0]):
        await migrate.upgrade(conn)

    # The refusal released the migration lock: another process is not kept waiting for it.
    other = await asyncpg.connect(empty_database)
    try:
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", migrate.MIGRATION_LOCK_KEY)
    finally:
        await other.close()


async def test_a_failing_migration_leaves_nothing_half_done(conn, migrations_dir):
    real = migrate.available_migrations()
    (migrations_dir / "9999_broken.sql").write_text("CREATE TABLE half_done (id integer); SELECT 1 / 0;")

    with pytest.raises(asyncpg.DivisionByZeroError):
        await migrate.upgrade(conn)

    assert not await table_exists(conn, "half_done")
    assert [version for version, _, _ in await recorded(conn)] == [m.version for m in real]
    assert names(await migrate.pending(conn)) == ["9999_broken"]


async def test_agora_db_upgrade_says_what_it_applied_then_that_nothing_was_left(db_upgrade):
    available = migrate.available_migrations()

    first = await db_upgrade()
    second = await db_upgrade()

    assert first.returncode == 0, first.stderr
    for name in names(available):
        assert f"applied {name}" in first.stdout
    assert f"{len(available)} migration(s) applied" in first.stdout
    assert second.returncode == 0, second.stderr
    assert not [line for line in second.stdout.splitlines() if line.startswith("applied ")]
    assert "0 migration(s) applied" in second.stdout


async def test_agora_db_upgrade_refuses_an_edited_migration_with_a_message_not_a_traceback(conn, db_upgrade):
    await migrate.upgrade(conn)
    await conn.execute("UPDATE schema_migrations SET checksum = 'edited'")

    result = await db_upgrade()

    assert result.returncode == 1
    assert "was changed after it was applied" in result.stderr
    assert "Traceback" not in result.stderr


async def test_readyz_names_pending_migrations_until_the_database_is_migrated(settings, empty_database, conn):
    app = create_app(settings, empty_database, migrate_on_start=False)
    async with AsyncTestClient(app) as client:
        health = await client.get("/healthz")
        before = await client.get("/readyz")
        await migrate.upgrade(conn)
        # The search index starts in the background once the schema exists: wait for it, bounded.
        deadline = asyncio.get_running_loop().time() + 30
        while (
            after := await client.get("/readyz")
        ).status_code != 200 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.2)

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert before.status_code == 503
    assert before.json()["pending_migrations"] == names(migrate.available_migrations())
    assert before.json()["search"] == "loading"
    assert after.status_code == 200
    ready = after.json()
    assert {key: ready[key] for key in ("status", "database", "pending_migrations", "search")} == {
        "status": "ok",
        "database": "reachable",
        "pending_migrations": [],
        "search": "ready",
    }
    assert ready["models"]["reranker"].startswith("reranker-seed-")  # what serves, for operators and tools
    assert ready["models"]["embedding"].startswith("model-")  # all-MiniLM-L6-v2 from its package


async def test_the_app_migrates_on_start_by_default(settings, empty_database, conn):
    async with AsyncTestClient(create_app(settings, empty_database)) as client:
        await wait_until_ready(client)  # search embeds the (empty) catalog in the background
        ready = await client.get("/readyz")

    assert ready.status_code == 200
    assert await migrate.pending(conn) == []
