"""SQL of the history's working schema: its tables, pseudo-random numbers and the seeded tariff's prices."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from string import Template

import asyncpg

SETUP = """
CREATE SCHEMA IF NOT EXISTS bench_gen;
CREATE TABLE IF NOT EXISTS bench_gen.history (
    id int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    params jsonb NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    figures jsonb
);
CREATE TABLE IF NOT EXISTS bench_gen.done (
    month int PRIMARY KEY,
    rides bigint NOT NULL, calls bigint NOT NULL, events bigint NOT NULL, offers bigint NOT NULL,
    complaints bigint NOT NULL, ratings bigint NOT NULL, seconds double precision NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now()
);
-- A uniform number in [0, 1) from a row's key and a stream number: the same every run, on any plan.
CREATE OR REPLACE FUNCTION bench_gen.u(k bigint, s integer) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ((hashint8extended(k, s) >> 11) & 9007199254740991)::double precision / 9007199254740992.0 $$;
-- A standard normal number (Box-Muller).
CREATE OR REPLACE FUNCTION bench_gen.z(k bigint, s integer) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT sqrt(-2 * ln(1 - bench_gen.u(k, s))) * cos(2 * pi() * bench_gen.u(k, s + 7919)) $$;
CREATE OR REPLACE FUNCTION bench_gen.metres(lat1 double precision, lng1 double precision,
                                              lat2 double precision, lng2 double precision) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT 2 * 6371008.8 * asin(least(1, sqrt(sin(radians(lat2 - lat1) / 2) ^ 2
               + cos(radians(lat1)) * cos(radians(lat2)) * sin(radians(lng2 - lng1) / 2) ^ 2))) $$;
"""

# A fare as dispatch/fares.py prices it under the seeded tariff (flag fall, distance beyond the included metres,
# waiting, a minimum top-up, the night and Friday/holiday surcharges on that, rounding half up), as the quote and
# fare documents of dispatch/pricing.py without the lines' labels. {tariffs} is filled from tariff_versions.
PRICE = """
CREATE OR REPLACE FUNCTION bench_gen.meter(cls text, distance_m integer, waiting_s integer) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT {flag_fall} + (2 * greatest(0, distance_m - {included})::bigint * {per_km} + 1000) / 2000
                 + (2 * waiting_s::bigint * {per_minute} + 60) / 120 $$;
CREATE OR REPLACE FUNCTION bench_gen.base(cls text, metered bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT greatest(metered, {minimum}) $$;
CREATE OR REPLACE FUNCTION bench_gen.fare(cls text, distance_m integer, duration_s integer, waiting_s integer,
                                            night boolean, holiday boolean, metered bigint, base bigint)
    RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ('{"rule": "' || CASE WHEN metered < base THEN 'minimum' ELSE 'meter' END
        || '", "lines": [{"code": "flag_fall", "amount_rials": ' || ({flag_fall})::text
        || '}, {"code": "distance", "amount_rials": '
        || ((2 * greatest(0, distance_m - {included})::bigint * {per_km} + 1000) / 2000)::text
        || '}, {"code": "waiting", "amount_rials": ' || ((2 * waiting_s::bigint * {per_minute} + 60) / 120)::text || '}'
        || CASE WHEN metered < base THEN ', {"code": "minimum", "amount_rials": ' || (base - metered)::text || '}'
                ELSE '' END
        || CASE WHEN night THEN ', {"code": "night", "amount_rials": ' || ((2 * base * 20 + 100) / 200)::text || '}'
                ELSE '' END
        || CASE WHEN holiday THEN ', {"code": "friday_holiday", "amount_rials": '
                                  || ((2 * base * 10 + 100) / 200)::text || '}' ELSE '' END
        || CASE WHEN bench_gen.total(base, night, holiday) <> bench_gen.subtotal(base, night, holiday)
                THEN ', {"code": "rounding", "amount_rials": '
                     || (bench_gen.total(base, night, holiday) - bench_gen.subtotal(base, night, holiday))::text || '}'
                ELSE '' END
        || '], "tariff_id": "' || {code} || '", "tariff_version": ' || ({version})::text
        || ', "total_rials": ' || bench_gen.total(base, night, holiday)::text
        || ', "distance_m": ' || distance_m::text || ', "duration_s": ' || duration_s::text || '}')::jsonb $$;
"""
# Older rides keep a fare document's summary without its lines (see the module's docstring: disk space).
SUMMARY = """
CREATE OR REPLACE FUNCTION bench_gen.fare_summary(cls text, distance_m integer, duration_s integer, metered bigint,
                                                    base bigint, night boolean, holiday boolean)
    RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object('rule', CASE WHEN metered < base THEN 'minimum' ELSE 'meter' END,
        'tariff_id', {code}, 'tariff_version', {version}, 'total_rials', bench_gen.total(base, night, holiday),
        'distance_m', distance_m, 'duration_s', duration_s) $$;
"""
TOTALS = """
CREATE OR REPLACE FUNCTION bench_gen.subtotal(base bigint, night boolean, holiday boolean) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT base + CASE WHEN night THEN (2 * base * 20 + 100) / 200 ELSE 0 END
                + CASE WHEN holiday THEN (2 * base * 10 + 100) / 200 ELSE 0 END $$;
CREATE OR REPLACE FUNCTION bench_gen.total(base bigint, night boolean, holiday boolean) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (2 * bench_gen.subtotal(base, night, holiday) + {rounding}) / (2 * {rounding}) * {rounding} $$;
"""

WORK_TABLES = """
DROP TABLE IF EXISTS bench_gen.slot, bench_gen.subscriber, bench_gen.driver, bench_gen.op_pool, bench_gen.spot,
    bench_gen.addr_use, bench_gen.first_seen;
CREATE TABLE bench_gen.slot (
    slot int PRIMARY KEY, month int NOT NULL, day date NOT NULL, local_hour int NOT NULL, weekday int NOT NULL,
    is_holiday boolean NOT NULL, starts_at timestamptz NOT NULL, load double precision NOT NULL,
    n_rides int NOT NULL, ride_base bigint NOT NULL, cw_lo double precision NOT NULL, cw_hi double precision NOT NULL,
    p_nd double precision NOT NULL, p_cancel double precision NOT NULL, p_noshow double precision NOT NULL,
    p_fail double precision NOT NULL, wait_med double precision NOT NULL, p_pre_ab double precision NOT NULL,
    p_ab double precision NOT NULL, travel_factor double precision NOT NULL, speed_kmh double precision NOT NULL
);
CREATE INDEX ON bench_gen.slot (month);
CREATE TABLE bench_gen.subscriber (
    id bigint PRIMARY KEY, weight int NOT NULL, join_month int NOT NULL, leave_month int NOT NULL,
    home_id bigint NOT NULL, home_lat double precision, home_lng double precision, home_text text,
    work_id bigint, work_lat double precision, work_lng double precision, work_text text,
    e164 text NOT NULL, raw text NOT NULL
);
CREATE TABLE bench_gen.driver (
    id bigint PRIMARY KEY, class text NOT NULL, activity double precision NOT NULL, badness double precision NOT NULL,
    decline double precision NOT NULL, rating_mean double precision NOT NULL, commission_bp int NOT NULL,
    works_from date NOT NULL, works_until date NOT NULL
);
CREATE TABLE bench_gen.op_pool (
    hour int NOT NULL, idx int NOT NULL, staff_id bigint NOT NULL, extension text NOT NULL,
    speed double precision NOT NULL, PRIMARY KEY (hour, idx)
);
CREATE TABLE bench_gen.spot (
    i int PRIMARY KEY, name text NOT NULL, lat double precision NOT NULL, lng double precision NOT NULL,
    spread double precision NOT NULL, landmark text
);
-- Uses of saved addresses and first appearances of subscribers, month by month (months load in parallel, so
-- these are appended and summed at the end): subscriber_addresses' counters, subscribers' creation times.
CREATE TABLE bench_gen.addr_use (
    address_id bigint NOT NULL, hour int NOT NULL, pickups int NOT NULL, dropoffs int NOT NULL,
    last_used timestamptz NOT NULL
);
CREATE TABLE bench_gen.first_seen (subscriber_id bigint NOT NULL, at timestamptz NOT NULL);
"""



def sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def sql_array(values: Sequence[object], cast: str) -> str:
    """A SQL array literal of numbers or strings."""
    items = ", ".join(sql_text(v) if isinstance(v, str) else repr(v) for v in values)
    return f"ARRAY[{items}]::{cast}[]"


def cumulative(weights: Sequence[float]) -> list[float]:
    """The lower bounds of buckets for width_bucket, from weights."""
    total, bounds, running = sum(weights), [], 0.0
    for w in weights:
        bounds.append(running / total)
        running += w
    return bounds


def fill(sql: str, **values: object) -> str:
    """Put numbers and literals into a statement template."""
    return Template(sql).substitute({k: str(v) for k, v in values.items()})


def statements(sql: str) -> Iterator[str]:
    """Split a script into statements (none of ours has a semicolon inside a literal)."""
    for part in sql.split(";\n"):
        if part.strip():
            yield part



async def price_functions(conn: asyncpg.Connection) -> None:
    """Create the pricing functions from the tariffs in force (as seeded: version 1 of each class)."""
    rows = await conn.fetch("""
        SELECT DISTINCT ON (vehicle_class) vehicle_class, code, version, flag_fall_rials, included_metres,
               per_km_rials, per_minute_waiting_rials, minimum_fare_rials, rounding_unit_rials, schedules
        FROM tariff_versions WHERE withdrawn_at IS NULL ORDER BY vehicle_class, effective_from DESC""")
    by_class = {r["vehicle_class"]: r for r in rows}
    if set(by_class) != {"sedan", "van", "luxury"} or len({r["rounding_unit_rials"] for r in rows}) != 1:
        raise SystemExit("the bench prices rides by the seeded tariffs: one per class, one rounding unit")
    for r in rows:
        names = {s["name"] for s in json.loads(r["schedules"])}
        if names != {"night", "friday_holiday"}:
            raise SystemExit(f"the bench knows the seeded schedules (night, friday_holiday), not {sorted(names)}")

    def per_class(column: str, quote: bool = False) -> str:
        cases = " ".join(f"WHEN '{c}' THEN {sql_text(str(r[column])) if quote else r[column]}"
                         for c, r in by_class.items())
        return f"(CASE cls {cases} END)"

    await conn.execute(TOTALS.format(rounding=rows[0]["rounding_unit_rials"]))
    names = {"flag_fall": per_class("flag_fall_rials"), "included": per_class("included_metres"),
             "per_km": per_class("per_km_rials"), "per_minute": per_class("per_minute_waiting_rials"),
             "minimum": per_class("minimum_fare_rials"), "code": per_class("code", quote=True),
             "version": per_class("version")}
    for template in (PRICE, SUMMARY):
        sql = template
        for name, value in names.items():
            sql = sql.replace("{" + name + "}", value)
        await conn.execute(sql)
