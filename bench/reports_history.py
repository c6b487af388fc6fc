"""Synthetic history for the reports bench: a year of calls, rides with their steps and offers, complaints, ratings.

The shape follows a radio-taxi center in Tehran. Demand per local hour has a daily curve (morning and evening
peaks, quiet nights) and a weekly one (the week starts on Saturday; Thursday afternoons are busy, Fridays quiet,
holidays like Fridays, Nowruz quieter still), a slow growth over the year and day-to-day and hour-to-hour noise.
Busy hours have slower answers, more abandoned calls, more declined offers, longer approaches and more rides with
no driver found. Subscribers have a long tail (regulars riding most days, occasional riders, one-off callers), join
during the year and churn; drivers have their own work rhythm, acceptance, ratings and complaints; operators work
shifts. Every row is what the service itself writes (see dispatch/ride_store.py, callcenter/call_store.py,
feedback/store.py and feedback/rating_store.py): the same columns, statuses, step history, offer answers, fares
from the seeded tariff, SLA clocks and case histories.

What is left out, to keep the disk bounded (a real year at this volume needs roughly twice the space): the quote
and fare documents keep their keys, lines and amounts but not the lines' bilingual labels nor the meter reading a
locked quote keeps for disputes; a ride's step history (ride_events, six steps a ride, 40% of the space) is
written only for the rides a complaint or praise is about, whose evidence shows it; the matcher's decision log
(ride_searches, with its decisions), GPS traces and the customer page's tracking tokens are not generated. No
report reads any of these (an offer's search_id is its own id).

Generation runs inside PostgreSQL: INSERT ... SELECT over generate_series, with deterministic pseudo-random numbers
(hashes of a row's key), a calendar month per transaction, with a progress line. Foreign keys are not checked row
by row during the load (session_replication_role = replica, which also keeps any rollup triggers quiet: the bench
rebuilds rollups afterwards); every foreign key is checked once at the end, set-based. CHECK and unique constraints
are enforced as usual. A finished history is recorded in bench_gen.history: a second run with the same volumes
and migrations skips generation; an interrupted one resumes at the first month not done.

    RIDES=200000 CALLS=300000 SUBSCRIBERS=30000 DRIVERS=300 .venv/bin/python bench/reports_history.py

Volumes: RIDES (20,000,000), CALLS (30,000,000), SUBSCRIBERS (300,000), DRIVERS (2,000), DAYS (365), OPERATORS
(derived from the call volume). BENCH_POSTGRES_URL names the server; the database is taxicrm_bench_reports (or
BENCH_DATABASE, or BENCH_DATABASE_URL in full).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.history.literals import Context, constants
from bench.history.people import PASSWORD, SUPERVISOR, load_people
from bench.history.plan import SEED, Month, Volumes, plan_calendar
from bench.history.sql_base import SETUP, fill, price_functions, statements
from bench.history.sql_calls import MONTH_NUMBER_CALLS, MONTH_OTHER_CALLS, MONTH_RIDE_CALLS, MONTH_WRITE_CALLS
from bench.history.sql_cases import FINISH, MONTH_CASE_WRITE, MONTH_CASES, MONTH_RATINGS, MONTH_SUBSCRIBERS, RATED
from bench.history.sql_rides import MONTH_CANCELS, MONTH_PEOPLE, MONTH_RIDES, MONTH_WRITE
from taxicrm.migrations import MigrationError, migrate
from taxicrm.settings import load_settings
from tests.support import with_database

__all__ = ["DATABASE", "PASSWORD", "SUPERVISOR", "Volumes", "ensure_history"]

SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE = os.environ.get("BENCH_DATABASE_URL") or with_database(
    SERVER, os.environ.get("BENCH_DATABASE", "taxicrm_bench_reports"))
GENERATOR_VERSION = 3  # Bump when the generated shape changes, so an older history is regenerated.
WORKERS = int(os.environ.get("WORKERS", "2"))  # months generated at once, one connection each


def params_of(volumes: Volumes) -> dict[str, Any]:
    """What a history is made from: a recorded one with the same params is reused."""
    return {**asdict(volumes), "generator": GENERATOR_VERSION, "seed": SEED}


async def recreate_database() -> None:
    admin = await asyncpg.connect(SERVER)
    name = urlsplit(DATABASE).path.lstrip("/")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await migrate(DATABASE)


async def recorded(volumes: Volumes) -> tuple[dict[str, Any] | None, set[int]]:
    """The history the bench database holds (its row in bench_gen.history) and the months done, if it matches."""
    admin = await asyncpg.connect(SERVER)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1",
                                      urlsplit(DATABASE).path.lstrip("/"))
    finally:
        await admin.close()
    if not exists:
        return None, set()
    conn = await asyncpg.connect(DATABASE)
    try:
        if not await conn.fetchval("SELECT to_regclass('bench_gen.history') IS NOT NULL"):
            return None, set()
        row = await conn.fetchrow("SELECT params, figures, finished_at FROM bench_gen.history")
        if row is None:
            return None, set()
        params = json.loads(row["params"])
        if {k: v for k, v in params.items() if k != "end_day"} != params_of(volumes):
            return None, set()
        # Migrations added since apply to the history like to any database; a changed one means starting over.
        try:
            await migrate(DATABASE)
        except MigrationError as err:
            print(f"the bench database's schema is out of date ({err}); regenerating", flush=True)
            return None, set()
        done = {r["month"] for r in await conn.fetch("SELECT month FROM bench_gen.done")}
        return {"params": params, "figures": json.loads(row["figures"]) if row["figures"] else None,
                "finished": row["finished_at"] is not None}, done
    finally:
        await conn.close()


async def session(conn: asyncpg.Connection) -> None:
    """Settings for a loading session: room to sort and hash in memory, no row-by-row foreign-key checks."""
    for setting in ("temp_buffers = '1GB'", "work_mem = '512MB'", "maintenance_work_mem = '1GB'",
                    "synchronous_commit = off", "jit = off", "session_replication_role = replica",
                    "max_parallel_workers_per_gather = 0",
                    # Hash joins on the rides' keys beat sorting a month of wide rows for a merge.
                    "enable_mergejoin = off"):
        await conn.execute(f"SET {setting}")


async def run_script(conn: asyncpg.Connection, sql: str, values: dict[str, object], inserted: dict[str, int]) -> None:
    """Run a script's statements, adding the rows each INSERT wrote to `inserted` under its table's name."""
    for statement in statements(fill(sql, **values)):
        status = await conn.execute(statement)
        words = statement.split()
        if status.startswith("INSERT") and words[:2] == ["INSERT", "INTO"]:
            inserted[words[2]] = inserted.get(words[2], 0) + int(status.split()[-1])


async def run_month(conn: asyncpg.Connection, ctx: Context, month: Month) -> dict[str, Any]:
    """Generate and write one month in one transaction; return its counts."""
    started = time.monotonic()
    # Months load in parallel, so each numbers its rows in a range of its own: its share of the calls exactly,
    # two offers and a hundredth of a case per ride (checked below).
    values: dict[str, object] = dict(ctx.constants, m=month.month, call_base=ctx.call_bases[month.month],
                                     offer_base=2 * month.ride_base,
                                     complaint_base=month.ride_base // 100 + 10 * month.month)
    n: dict[str, int] = {}
    async with conn.transaction():
        await conn.execute(fill(MONTH_PEOPLE, **values))
        values["tickets"] = await conn.fetchval("SELECT count(*) FROM tix")
        if not values["tickets"]:
            raise SystemExit(f"no subscriber is active in month {month.month}: raise SUBSCRIBERS")
        for sql in (MONTH_RIDES, MONTH_CANCELS, MONTH_CASES, MONTH_RIDE_CALLS):
            await run_script(conn, sql, values, n)
        tied = await conn.fetchval("SELECT count(*) FROM c0")
        if tied > month.calls:
            raise SystemExit(f"month {month.month}: {tied:,} calls tied to rides and cases, more than its "
                             f"{month.calls:,}; raise CALLS")
        values["others"] = month.calls - tied
        for sql in (MONTH_OTHER_CALLS, MONTH_NUMBER_CALLS, MONTH_WRITE_CALLS, MONTH_WRITE, MONTH_CASE_WRITE, RATED,
                    MONTH_RATINGS, MONTH_SUBSCRIBERS):
            await run_script(conn, sql, values, n)
        counts = {"month": month.month, "first_day": month.first_day.isoformat(), "rides": n["rides"],
                  "calls": n["calls"], "offers": n["ride_offers"], "events": n["ride_events"],
                  "complaints": n["complaints"], "ratings": n["ride_ratings"],
                  "seconds": round(time.monotonic() - started, 1)}
        if counts["offers"] > 2 * month.rides or counts["complaints"] > month.rides // 100 + 10:
            raise SystemExit(f"month {month.month} overflowed its id ranges: {counts}")
        await conn.execute("""
            INSERT INTO bench_gen.done (month, rides, calls, events, offers, complaints, ratings, seconds)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""", month.month, counts["rides"], counts["calls"],
            counts["events"], counts["offers"], counts["complaints"], counts["ratings"], counts["seconds"])
    return counts


# Bulk loading: the big tables' secondary indexes are dropped for the load and built afterwards (a sort per index
# instead of a random insert per row), as PostgreSQL's "Populating a Database" advises. Primary keys and
# constraint indexes stay; a unique index rebuilt afterwards checks its uniqueness then.
LOADED_TABLES = ("calls", "rides", "ride_events", "ride_offers", "ride_ratings", "complaints", "complaint_events")
DROP_INDEXES = """
    CREATE TABLE IF NOT EXISTS bench_gen.dropped_index (name text PRIMARY KEY, definition text NOT NULL);
    INSERT INTO bench_gen.dropped_index (name, definition)
    SELECT i.indexname, i.indexdef FROM pg_indexes i
    WHERE i.schemaname = 'public' AND i.tablename = ANY($1::text[])
      AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = to_regclass(quote_ident(i.indexname)))
    ON CONFLICT (name) DO NOTHING
"""


async def drop_indexes(conn: asyncpg.Connection) -> None:
    """Drop the loaded tables' secondary indexes, remembering their definitions (a resumed load keeps them)."""
    await conn.execute(DROP_INDEXES.split(";")[0])
    await conn.execute(DROP_INDEXES.split(";")[1], list(LOADED_TABLES))
    for row in await conn.fetch("SELECT name FROM bench_gen.dropped_index"):
        await conn.execute(f'DROP INDEX IF EXISTS "{row["name"]}"')


async def build_indexes(conn: asyncpg.Connection, progress: Callable[[str], None]) -> float:
    """Build the indexes dropped for the load; return the seconds it took."""
    started = time.monotonic()
    for row in await conn.fetch("SELECT name, definition FROM bench_gen.dropped_index ORDER BY name"):
        if await conn.fetchval("SELECT to_regclass($1) IS NULL", row["name"]):
            one = time.monotonic()
            await conn.execute(row["definition"])
            progress(f"  index {row['name']} built in {time.monotonic() - one:.0f}s")
    await conn.execute("DROP TABLE bench_gen.dropped_index")
    return time.monotonic() - started


# Every foreign key of the tables the generator writes, checked set-based once at the end.
CHECKED_TABLES = ("calls", "rides", "ride_events", "ride_offers", "complaints", "complaint_events", "ride_ratings",
                  "subscribers", "subscriber_phones", "subscriber_addresses", "drivers", "staff_users")
FOREIGN_KEYS = """
    SELECT c.conname, c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent,
        (SELECT array_agg(a.attname ORDER BY k.n) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS child_columns,
        (SELECT array_agg(a.attname ORDER BY k.n) FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n)
         JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS parent_columns
    FROM pg_constraint c
    WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY($1::text[])
    ORDER BY 2, 1
"""


async def check_foreign_keys(conn: asyncpg.Connection) -> dict[str, Any]:
    """Count rows whose reference points at nothing, for every foreign key; raise if any."""
    started = time.monotonic()
    broken: dict[str, int] = {}
    for fk in await conn.fetch(FOREIGN_KEYS, list(CHECKED_TABLES)):
        present = " AND ".join(f"c.{col} IS NOT NULL" for col in fk["child_columns"])
        match = " AND ".join(f"p.{p} = c.{col}" for col, p in zip(fk["child_columns"], fk["parent_columns"],
                                                                    strict=True))
        missing = await conn.fetchval(f"SELECT count(*) FROM {fk['child']} c WHERE {present} "
                                      f"AND NOT EXISTS (SELECT FROM {fk['parent']} p WHERE {match})")
        if missing:
            broken[fk["conname"]] = missing
    if broken:
        raise SystemExit(f"rows with dangling references: {broken}")
    return {"foreign_keys_checked": True, "seconds": round(time.monotonic() - started, 1)}


async def table_figures(conn: asyncpg.Connection) -> dict[str, Any]:
    """Rows and sizes of the tables the reports read, and of the database."""
    tables = {}
    for name in ("calls", "rides", "ride_events", "ride_offers", "complaints", "complaint_events", "ride_ratings",
                 "subscribers", "subscriber_addresses", "drivers", "staff_users"):
        rows = await conn.fetchval(f"SELECT count(*) FROM {name}")
        size = await conn.fetchval("SELECT pg_total_relation_size($1::regclass)", name)
        tables[name] = {"rows": rows, "total_mb": round(size / 2**20)}
    return {"tables": tables, "database_mb": round(await conn.fetchval("SELECT pg_database_size(current_database())")
                                                   / 2**20)}


async def load_months(ctx: Context, months: list[Month], progress: Callable[[str], None]) -> None:
    """Generate the months, WORKERS at a time (each its own connection and transaction), saying how it goes."""
    queue = list(months)
    started, made, total = time.monotonic(), 0, sum(m.rides for m in months)

    async def worker() -> None:
        nonlocal made
        conn = await asyncpg.connect(DATABASE)
        try:
            await session(conn)
            while queue:
                month = queue.pop(0)
                counts = await run_month(conn, ctx, month)
                made += counts["rides"]
                elapsed = time.monotonic() - started
                progress(f"month {month.month + 1}/{len(ctx.plan.months)} ({month.first_day:%Y-%m}): "
                         f"{counts['rides']:,} rides, {counts['calls']:,} calls, {counts['offers']:,} offers, "
                         f"{counts['events']:,} steps, {counts['complaints']:,} cases, {counts['ratings']:,} ratings "
                         f"in {counts['seconds']:.0f}s; {made:,} of {total:,} rides in {elapsed / 60:.1f} min, "
                         f"about {(total - made) / max(1, made) * elapsed / 60:.0f} min to go")
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(max(1, WORKERS))))


def end_day_now(tz: ZoneInfo) -> date:
    """Today in the center's zone: the history ends at its midnight."""
    return datetime.now(tz).date()


async def ensure_history(volumes: Volumes, progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Make sure the bench database holds this history; generate or finish it if not. Return its figures."""
    tz = load_settings({}).timezone
    found, done = await recorded(volumes)
    if found is not None and found["finished"]:
        progress(f"the bench database already holds this history (to {found['params']['end_day']}); not regenerating")
        return {**found["figures"], "generated_now": False}
    plan = plan_calendar(volumes, date.fromisoformat(found["params"]["end_day"]) if found else end_day_now(tz), tz)
    conn: asyncpg.Connection
    started = time.monotonic()
    if found is None:
        progress(f"creating {urlsplit(DATABASE).path.lstrip('/')}: {volumes}")
        await recreate_database()
        conn = await asyncpg.connect(DATABASE)
        await conn.execute(SETUP)
        await price_functions(conn)
        await session(conn)
        async with conn.transaction():
            await drop_indexes(conn)
            await load_people(conn, volumes, plan)
            await conn.execute("INSERT INTO bench_gen.history (params) VALUES ($1::jsonb)",
                               json.dumps({**params_of(volumes), "end_day": plan.end_day.isoformat()}))
        progress(f"people, places and calendar loaded in {time.monotonic() - started:.0f}s")
    else:
        progress(f"resuming the history to {plan.end_day}: {len(done)} of {len(plan.months)} months done")
        conn = await asyncpg.connect(DATABASE)
        await session(conn)
    try:
        supervisors = [r["id"] for r in await conn.fetch(
            "SELECT id FROM staff_users WHERE role = 'supervisor' ORDER BY id")]
        pool_sizes = [r["n"] for r in await conn.fetch(
            "SELECT hour, count(*) AS n FROM bench_gen.op_pool GROUP BY hour ORDER BY hour")]
        bases = [0]
        for m in plan.months:
            bases.append(bases[-1] + m.calls)
        ctx = Context(volumes, plan, constants(plan, supervisors, pool_sizes), bases)
        await load_months(ctx, [m for m in plan.months if m.month not in done], progress)
        finishing = time.monotonic()
        await conn.execute("SET session_replication_role = origin")
        for statement in statements(FINISH):
            await conn.execute(statement)
        progress("building the indexes dropped for the load…")
        index_s = await build_indexes(conn, progress)
        checks = await check_foreign_keys(conn)
        progress(f"every foreign key holds (checked in {checks['seconds']:.0f}s); analysing…")
        # ANALYZE only: the planner's statistics are what queries need. A VACUUM here would rewrite every freshly
        # loaded page once for its hint bits (tens of GB); the rollups' rebuild reads the tables anyway.
        analyze_started = time.monotonic()
        await conn.execute("ANALYZE")
        analyze_s = time.monotonic() - analyze_started
        months = [dict(r) for r in await conn.fetch("SELECT * FROM bench_gen.done ORDER BY month")]
        figures = {
            "volumes": asdict(volumes), "first_day": plan.first_day.isoformat(),
            "last_day": (plan.end_day - timedelta(days=1)).isoformat(), "timezone": plan.tz.key,
            "load_seconds": round(sum(m["seconds"] for m in months), 1),
            "index_build_seconds": round(index_s, 1),
            "finish_seconds": round(time.monotonic() - finishing - analyze_s - index_s - checks["seconds"], 1),
            "analyze_seconds": round(analyze_s, 1), "foreign_key_check_seconds": checks["seconds"],
            "months": [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in m.items()} for m in months],
            **await table_figures(conn),
        }
        await conn.execute("UPDATE bench_gen.history SET finished_at = now(), figures = $1::jsonb",
                           json.dumps(figures, default=str))
        progress(f"history ready in {time.monotonic() - started:.0f}s: {figures['database_mb']:,} MB")
        return {**figures, "generated_now": True}
    finally:
        await conn.close()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(ensure_history(Volumes.from_env())), indent=2, default=str))
