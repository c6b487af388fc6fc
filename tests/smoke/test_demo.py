"""`taxicrm demo` end to end at a tiny size: it seeds once, drivers come online, calls ring, rides are driven."""

import os
import re
import subprocess
import sys

import asyncpg
import redis.asyncio as aioredis

from dispatch.positions import SEEN_KEY
from tests.support import ROOT, free_port

TINY = ["--subscribers", "200", "--drivers", "20", "--operators", "2", "--call-rate", "6000", "--hour", "9",
        "--pace", "200", "--hang-up-share", "0.3", "--seed", "7", "--status-every", "5", "--position-interval", "0.5"]


def run_demo(database_url, redis_url, data_dir, minutes, expect=0):
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "TAXICRM_DATA": str(data_dir),
           "TAXICRM_LOG_LEVEL": "warning"}
    env.pop("TAXICRM_WEBHOOK_SECRET", None)  # The demo makes its own.
    finished = subprocess.run([sys.executable, "-m", "taxicrm", "demo", *TINY, "--minutes", str(minutes),
                               "--port", str(free_port())], env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=180)
    output = finished.stdout + finished.stderr
    assert finished.returncode == expect, output
    return output


async def counts(database_url):
    conn = await asyncpg.connect(database_url)
    try:
        return {
            "subscribers": await conn.fetchval("SELECT count(*) FROM subscribers"),
            "drivers": await conn.fetchval("SELECT count(*) FROM drivers"),
            "zones": await conn.fetchval("SELECT count(*) FROM zones"),
            "tariff_versions": await conn.fetchval("SELECT count(*) FROM tariff_versions WHERE code = 'standard'"),
            "staff": sorted(await conn.fetchval("SELECT array_agg(username) FROM staff_users")),
            "calls": await conn.fetchval("SELECT count(*) FROM calls"),
            "abandoned": await conn.fetchval("SELECT count(*) FROM calls WHERE end_cause = 'abandoned'"),
            "answered": await conn.fetchval("SELECT count(*) FROM calls WHERE answered_extension IN ('201', '202')"),
            "rides": await conn.fetchval("SELECT count(*) FROM rides WHERE call_id IS NOT NULL"),
            "offered": await conn.fetchval("SELECT count(DISTINCT ride_id) FROM ride_offers"),
            "completed": await conn.fetchval("SELECT count(*) FROM rides WHERE status = 'completed'"),
            "drivers_who_drove": await conn.fetchval(
                "SELECT count(DISTINCT driver_id) FROM rides WHERE status IN ('assigned', 'arrived', 'on_board', "
                "'completed')"),
        }
    finally:
        await conn.close()


def drivers_online(output):
    return max((int(n) for n in re.findall(r"drivers online (\d+)", output)), default=0)


async def test_the_demo_seeds_a_city_once_and_brings_it_to_life(database_url, redis_url, tmp_path):
    first = run_demo(database_url, redis_url, tmp_path / "data", minutes=0.5)
    assert "Seeding the demo city: 200 subscribers, 20 drivers, 2 operators" in first, first
    assert "subscribers: 200 imported" in first, first
    for login in ("demo-admin", "demo-supervisor", "operator1", "operator2"):
        assert re.search(rf"^  {login} +\S{{12,}}  \(", first, re.MULTILINE), first
    assert "extension 201" in first and "http://127.0.0.1:" in first, first
    assert drivers_online(first) >= 15, first
    # The service itself heard the apps: every demo driver's position reached the live layer.
    live = aioredis.from_url(redis_url)
    try:
        assert await live.zcard(SEEN_KEY) == 20
    finally:
        await live.aclose()

    seeded = await counts(database_url)
    print(seeded)
    assert seeded["subscribers"] >= 200  # The seeded ones, and new callers whose record an operator made.
    assert seeded["drivers"] == 20 and seeded["zones"] == 11 and seeded["tariff_versions"] == 2, seeded
    assert seeded["staff"] == ["demo-admin", "demo-supervisor", "operator1", "operator2"], seeded
    assert seeded["calls"] >= 10 and seeded["abandoned"] >= 1 and seeded["answered"] >= 5, seeded
    assert seeded["rides"] >= 5 and seeded["offered"] >= 5, seeded
    assert seeded["drivers_who_drove"] >= 3 and seeded["completed"] >= 1, seeded

    second = run_demo(database_url, redis_url, tmp_path / "data", minutes=0.15)
    assert "not seeding again" in second and "Seeding the demo city" not in second, second
    # The same logins are printed again: the passwords were kept in the data folder.
    assert re.search(r"^  demo-admin +(\S+)", first, re.MULTILINE).group(1) == \
        re.search(r"^  demo-admin +(\S+)", second, re.MULTILINE).group(1)
    again = await counts(database_url)
    assert (again["drivers"], again["zones"], again["tariff_versions"], again["staff"]) == (
        20, 11, 2, seeded["staff"]), again
    assert again["calls"] > seeded["calls"], again

    # Without the record of its passwords, a seeded city cannot be run: one line says why.
    (tmp_path / "data" / "demo-city.json").unlink()
    lost = run_demo(database_url, redis_url, tmp_path / "data", minutes=0.1, expect=1)
    assert "taxicrm: this database holds a demo city seeded by another run" in lost and "Traceback" not in lost, lost
