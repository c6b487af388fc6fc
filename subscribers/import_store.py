"""SQL of subscriber import and export: COPY into staging tables, set-based inserts, one streamed export query."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence

import asyncpg

from subscribers.importer import ImportRow, PhoneOwner

# Staging lives in the batch's transaction: a commit or a rollback drops it, so nothing is ever left behind.
CREATE_STAGING = """
    CREATE TEMP TABLE import_rows (
        line integer PRIMARY KEY, subscriber_id bigint, name text NOT NULL, name_key text NOT NULL
    ) ON COMMIT DROP;
    CREATE TEMP TABLE import_phones (
        line integer NOT NULL, position smallint NOT NULL, e164 text NOT NULL, raw text NOT NULL,
        national text NOT NULL, kind text NOT NULL, label text
    ) ON COMMIT DROP;
    CREATE TEMP TABLE import_addresses (
        line integer NOT NULL, position smallint NOT NULL, label text NOT NULL, full_text text NOT NULL,
        text_key text NOT NULL, landmark text, lat double precision, lng double precision
    ) ON COMMIT DROP;
"""
ROW_COLUMNS = ("line", "name", "name_key")
PHONE_COLUMNS = ("line", "position", "e164", "raw", "national", "kind", "label")
ADDRESS_COLUMNS = ("line", "position", "label", "full_text", "text_key", "landmark", "lat", "lng")

# The planner knows nothing of a fresh temp table; a few statistics turn the join below into a hash join.
ANALYZE_STAGING = "ANALYZE import_rows, import_phones"

SELECT_TAKEN_PHONES = """
    SELECT p.e164, p.subscriber_id, s.name_key
    FROM import_phones i
    JOIN subscriber_phones p ON p.e164 = i.e164
    JOIN subscribers s ON s.id = p.subscriber_id
"""

DROP_STAGED_LINES = "DELETE FROM import_rows WHERE line = ANY($1::integer[])"

# Ids are drawn before the inserts so phones and addresses can name their subscriber without a lookup.
ASSIGN_IDS = "UPDATE import_rows SET subscriber_id = nextval(pg_get_serial_sequence('subscribers', 'id'))"

INSERT_SUBSCRIBERS = """
    INSERT INTO subscribers (id, name, name_key)
    SELECT subscriber_id, name, name_key FROM import_rows ORDER BY line
"""

INSERT_PHONES = """
    INSERT INTO subscriber_phones (subscriber_id, e164, raw, national, kind, label)
    SELECT r.subscriber_id, p.e164, p.raw, p.national, p.kind, p.label
    FROM import_phones p JOIN import_rows r USING (line)
    ORDER BY p.line, p.position
"""

INSERT_ADDRESSES = """
    INSERT INTO subscriber_addresses (subscriber_id, label, full_text, text_key, landmark, lat, lng)
    SELECT r.subscriber_id, a.label, a.full_text, a.text_key, a.landmark, a.lat, a.lng
    FROM import_addresses a JOIN import_rows r USING (line)
    ORDER BY a.line, a.position
"""

# One pass over live subscribers; each one's phones and addresses come from index lookups in the same query.
SELECT_EXPORT = """
    SELECT s.name,
           ARRAY(SELECT ROW(p.e164, p.label) FROM subscriber_phones p
                 WHERE p.subscriber_id = s.id ORDER BY p.id) AS phones,
           ARRAY(SELECT ROW(a.label, a.full_text, a.landmark, a.lat, a.lng) FROM subscriber_addresses a
                 WHERE a.subscriber_id = s.id ORDER BY a.id) AS addresses
    FROM subscribers s
    WHERE s.merged_into IS NULL
    ORDER BY s.id
"""


async def stage_rows(conn: asyncpg.Connection, rows: Sequence[ImportRow]) -> None:
    """Create the staging tables in the current transaction and COPY the rows into them."""
    await conn.execute(CREATE_STAGING)
    await conn.copy_records_to_table(
        "import_rows", columns=ROW_COLUMNS, records=[(row.line, row.name, row.name_key) for row in rows])
    await conn.copy_records_to_table(
        "import_phones", columns=PHONE_COLUMNS,
        records=[(row.line, position, phone.e164, phone.raw, phone.national, phone.kind, phone.label)
                 for row in rows for position, phone in enumerate(row.phones)])
    await conn.copy_records_to_table(
        "import_addresses", columns=ADDRESS_COLUMNS,
        records=[(row.line, position, a.label, a.full_text, a.text_key, a.landmark, a.lat, a.lng)
                 for row in rows for position, a in enumerate(row.addresses)])
    await conn.execute(ANALYZE_STAGING)


async def taken_phones(conn: asyncpg.Connection) -> dict[str, PhoneOwner]:
    """Return the staged phones the database already has, with the subscriber each belongs to."""
    return {record["e164"]: PhoneOwner(record["subscriber_id"], record["name_key"])
            for record in await conn.fetch(SELECT_TAKEN_PHONES)}


async def drop_staged_lines(conn: asyncpg.Connection, lines: Sequence[int]) -> None:
    """Remove rejected rows from staging, so the inserts skip them."""
    if lines:
        await conn.execute(DROP_STAGED_LINES, list(lines))


async def insert_staged(conn: asyncpg.Connection) -> int:
    """Insert every staged row as a subscriber with its phones and addresses; return how many."""
    await conn.execute(ASSIGN_IDS)
    status = await conn.execute(INSERT_SUBSCRIBERS)
    await conn.execute(INSERT_PHONES)
    await conn.execute(INSERT_ADDRESSES)
    return int(status.rsplit(" ", 1)[-1])


async def export_records(conn: asyncpg.Connection, prefetch: int = 2000) -> AsyncGenerator[asyncpg.Record, None]:
    """Yield every live subscriber with phones and addresses, through a server-side cursor.

    Must run inside a transaction (cursors need one); a REPEATABLE READ one gives a consistent snapshot.
    """
    async for record in conn.cursor(SELECT_EXPORT, prefetch=prefetch):
        yield record
