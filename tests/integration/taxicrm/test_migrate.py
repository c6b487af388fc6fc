import asyncio
import re
import shutil

import asyncpg
import pytest

from taxicrm.migrations import MigrationError, migrate, migrations_dir
from tests.support import with_database


@pytest.fixture
async def empty_database_url(postgres_server_url):
    name = "taxicrm_empty_" + str(id(object()))
    admin = await asyncpg.connect(postgres_server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    yield with_database(postgres_server_url, name)
    await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    await admin.close()


async def ledger(url):
    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch("SELECT version, name FROM schema_migrations ORDER BY 1")]
    finally:
        await conn.close()


async def test_migrations_apply_once_in_order(empty_database_url):
    first = await migrate(empty_database_url)
    assert first == sorted(p.name for p in migrations_dir().glob("*.sql"))
    assert await migrate(empty_database_url) == []
    assert [name for _, name in await ledger(empty_database_url)] == first


async def test_an_edited_applied_migration_is_refused(empty_database_url, tmp_path):
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), folder)
    await migrate(empty_database_url, folder)
    target = sorted(folder.glob("*.sql"))[0]
    target.write_text(target.read_text() + "\n-- a harmless-looking edit\n")
    with pytest.raises(MigrationError, match=re.escape(f"{target.name} was edited after it was applied")):
        await migrate(empty_database_url, folder)


async def test_a_failing_migration_leaves_nothing_behind(empty_database_url, tmp_path):
    (tmp_path / "0001_good.sql").write_text("CREATE TABLE kept (id int);")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE half_done (id int); SELECT * FROM no_such_table;")
    with pytest.raises(MigrationError, match=r"0002_bad\.sql failed and was rolled back"):
        await migrate(empty_database_url, tmp_path)
    conn = await asyncpg.connect(empty_database_url)
    try:
        assert await conn.fetchval("SELECT to_regclass('half_done')") is None
        assert await conn.fetchval("SELECT to_regclass('kept')") is not None
    finally:
        await conn.close()
    assert await ledger(empty_database_url) == [(1, "0001_good.sql")]


async def test_two_instances_migrating_at_once_apply_each_file_once(empty_database_url, tmp_path):
    # The slow first file keeps the first instance inside the lock while the second arrives.
    (tmp_path / "0001_slow.sql").write_text("SELECT pg_sleep(0.5); CREATE TABLE once (id int);")
    (tmp_path / "0002_more.sql").write_text("CREATE TABLE twice_would_fail (id int);")
    results = await asyncio.gather(migrate(empty_database_url, tmp_path), migrate(empty_database_url, tmp_path))
    assert sorted(map(len, results)) == [0, 2]
    assert await ledger(empty_database_url) == [(1, "0001_slow.sql"), (2, "0002_more.sql")]


async def test_searches_keep_their_decisions_when_these_move_into_the_search_row(empty_database_url, tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    for path in sorted(migrations_dir().glob("*.sql")):
        if path.name < "0016":
            shutil.copy(path, folder)
    await migrate(empty_database_url, folder)
    conn = await asyncpg.connect(empty_database_url)
    try:
        await conn.execute("SET session_replication_role = replica")  # No ride or driver behind the ids.
        await conn.execute("""
            INSERT INTO ride_searches (id, ride_id, radius_m, strategy, searched_at)
            VALUES (1, 7, 1000, 'nearest', now()), (2, 8, 8000, 'queue_first', now()), (3, 9, 1000, 'nearest', now());
            INSERT INTO ride_match_decisions (search_id, driver_id, distance_m, rank, via, skip_reason) VALUES
                (1, 30, 900, NULL, NULL, 'not_available'), (1, 10, 400, 2, 'nearest', NULL),
                (1, 20, 100, 1, 'nearest', NULL), (2, 10, 5000, 1, 'zone_queue', NULL)""")
        shutil.copy(migrations_dir() / "0016_search_decisions_inline.sql", folder)
        assert await migrate(empty_database_url, folder) == ["0016_search_decisions_inline.sql"]
        rows = await conn.fetch("SELECT id, driver_ids, distances_m, ranks, vias, skip_reasons FROM ride_searches"
                                " ORDER BY id")
        assert [tuple(r) for r in rows] == [
            (1, [20, 10, 30], [100, 400, 900], [1, 2, None], ["nearest", "nearest", None],
             [None, None, "not_available"]),
            (2, [10], [5000], [1], ["zone_queue"], [None]),
            (3, [], [], [], [], []),  # A search that looked at nobody.
        ]
        assert await conn.fetchval("SELECT to_regclass('ride_match_decisions')") is None
    finally:
        await conn.close()
