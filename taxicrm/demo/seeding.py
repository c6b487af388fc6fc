"""Seed the demo city once, through each domain's own use cases: staff, subscribers, zones, tariff, drivers."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

import aiohttp
import asyncpg

from callcenter import service as staff
from subscribers import transfer
from subscribers.importer import COLUMNS, format_row
from subscribers.phones import PhonePlan
from taxicrm.demo import accounts as demo_accounts
from taxicrm.demo.accounts import Account
from taxicrm.demo.api import Api, ApiError, log_in
from taxicrm.demo.cityplan import driver_body, tariff_document, zone_bodies
from taxicrm.demo.options import CitySize
from taxicrm.demo.population import csv_row, fleet, residents
from taxicrm.demo.progress import Progress


@dataclass
class SeedReport:
    """What seeding made, and how long each step took."""

    seconds: dict[str, float] = field(default_factory=dict)
    subscribers: int = 0
    drivers: int = 0
    zones: int = 0


async def is_seeded(pool: asyncpg.Pool) -> bool:
    """Whether an earlier run seeded the whole city (its last step creates the demo supervisor)."""
    return any(user.username == demo_accounts.SUPERVISOR for user in await staff.list_users(pool))


def subscriber_csv(seed: int, count: int) -> Iterator[bytes]:
    """Return the city's subscribers as the lines of an import file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    rows = (format_row(*csv_row(person)) for person in residents(seed, count))
    for row in itertools.chain([list(COLUMNS)], rows):
        writer.writerow(row)  # One line each: the import reads the file line by line.
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()


async def seed_city(pool: asyncpg.Pool, session: aiohttp.ClientSession, base_url: str, plan: PhonePlan,
                    size: CitySize, seed: int, accounts: list[Account], progress: Progress) -> SeedReport:
    """Seed everything; each step skips what an interrupted earlier run already made."""
    report = SeedReport()
    progress.start("staff accounts")
    existing = {user.username for user in await staff.list_users(pool)}
    made = 0
    for account in accounts:
        if account.username not in existing and account.username != demo_accounts.SUPERVISOR:
            await staff.create_user(pool, account.username, account.display_name, account.role, account.password,
                                    account.extension)
            made += 1
    report.seconds["staff"] = progress.finish(f"{made} created")

    progress.start("subscribers")
    summary = await transfer.import_subscribers(
        pool, subscriber_csv(seed, size.subscribers), plan,
        on_progress=lambda p: progress.advance(p.rows, size.subscribers))
    report.subscribers = summary.imported
    report.seconds["subscribers"] = progress.finish(
        f"{summary.imported:,} imported" + (f", {summary.already_imported:,} already there"
                                            if summary.already_imported else ""))

    admin = demo_accounts.by_name(accounts, demo_accounts.ADMIN)
    api = await log_in(session, base_url, admin.username, admin.password)
    progress.start("zones and tariff")
    report.zones = await _seed_zones(api)
    await api.post("/api/tariffs", tariff_document())
    report.seconds["zones and tariff"] = progress.finish(f"{report.zones} zones, the standard tariff published")

    progress.start("drivers")
    report.drivers = await _seed_drivers(api, size.drivers, seed, progress)
    report.seconds["drivers"] = progress.finish(f"{report.drivers} registered")

    supervisor = demo_accounts.by_name(accounts, demo_accounts.SUPERVISOR)
    await staff.create_user(pool, supervisor.username, supervisor.display_name, supervisor.role, supervisor.password)
    return report


async def _seed_zones(api: Api) -> int:
    have = {zone["code"] for zone in (await api.get("/api/zones", include_inactive="true"))["zones"]}
    made = 0
    for body in zone_bodies():
        if body["code"] not in have:
            await api.post("/api/zones", body)
            made += 1
    return made


async def _seed_drivers(api: Api, count: int, seed: int, progress: Progress) -> int:
    have = {driver.get("phone") for driver in (await api.get("/api/drivers"))["drivers"]}
    made = 0
    for n, driver in enumerate(fleet(seed, count)):
        if driver.phone not in have:
            try:
                await api.post("/api/drivers", driver_body(driver))
            except ApiError as err:
                raise ApiError(err.status, err.code, f"driver {driver.name} ({driver.phone}): {err.message}") from err
            made += 1
        progress.advance(n + 1, count)
    return made
