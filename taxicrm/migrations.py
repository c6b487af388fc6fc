"""Apply the numbered .sql files in migrations/ in order, each once, each in its own transaction."""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import asyncpg

log = logging.getLogger("taxicrm.migrations")

# Any fixed number works; all instances must agree on it so only one applies migrations at a time.
ADVISORY_LOCK_KEY = 7_402_113_001
_FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

CREATE_LEDGER = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
    )
"""
SELECT_APPLIED = "SELECT version, name, checksum FROM schema_migrations ORDER BY version"
RECORD_APPLIED = "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)"


class MigrationError(Exception):
    """The migrations on disk and in the database disagree; the message says how to fix it."""


@dataclass(frozen=True)
class Migration:
    """One numbered .sql file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """The sha256 of the file, to notice edits after it was applied."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migrations_dir() -> Path:
    """Find migrations/ beside the source tree (a checkout) or in the installed data files."""
    for candidate in (Path(__file__).resolve().parent.parent / "migrations",
                      Path(sys.prefix) / "share" / "taxicrm" / "migrations"):
        if candidate.is_dir():
            return candidate
    raise MigrationError("cannot find the migrations folder; reinstall taxicrm")


def load_migrations(folder: Path) -> list[Migration]:
    """Read and order the migration files, refusing badly named or doubly numbered ones."""
    found: dict[int, Migration] = {}
    for path in sorted(folder.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_lowercase_words.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"{path.name}: version {version} is used by {found[version].name} too")
        found[version] = Migration(version, path.name, path.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def pending(on_disk: list[Migration], applied: dict[int, tuple[str, str]]) -> list[Migration]:
    """Return the migrations still to apply, after checking the applied ones were not edited or lost."""
    by_version = {m.version: m for m in on_disk}
    for version, (name, checksum) in sorted(applied.items()):
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(
                f"the database has migration {name} which this code does not have; "
                "run a version of taxicrm that includes it"
            )
        if migration.checksum != checksum:
            raise MigrationError(
                f"migrations/{migration.name} was edited after it was applied; "
                "restore it and put the change in a new, higher-numbered file"
            )
    return [m for m in on_disk if m.version not in applied]


async def migrate(dsn: str, folder: Path | None = None) -> list[str]:
    """Bring the database up to date and return the names of the migrations applied now."""
    on_disk = load_migrations(folder or migrations_dir())
    conn = await asyncpg.connect(dsn)
    try:
        # Session-level lock: a second instance starting now waits here, then finds nothing to do.
        await conn.execute("SELECT pg_advisory_lock($1)", ADVISORY_LOCK_KEY)
        try:
            await conn.execute(CREATE_LEDGER)
            applied = {r["version"]: (r["name"], r["checksum"]) for r in await conn.fetch(SELECT_APPLIED)}
            done = []
            for migration in pending(on_disk, applied):
                try:
                    async with conn.transaction():
                        await conn.execute(migration.sql)
                        await conn.execute(
                            RECORD_APPLIED, migration.version, migration.name, migration.checksum
                        )
                except asyncpg.PostgresError as err:
                    raise MigrationError(f"{migration.name} failed and was rolled back: {err}") from err
                log.info("applied migration %s", migration.name)
                done.append(migration.name)
            return done
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)
    finally:
        await conn.close()
