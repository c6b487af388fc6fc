"""The demo's run: seed the city once, say how to sign in, then let drivers, callers and operators live in it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from typing import Any, TextIO

import aiohttp
import asyncpg

from callcenter.service import list_users
from subscribers.phones import PhonePlan
from taxicrm.demo import accounts as demo_accounts
from taxicrm.demo.accounts import Account, DemoRecord
from taxicrm.demo.api import Api, log_in
from taxicrm.demo.driving import SimDriver
from taxicrm.demo.options import DemoOptions
from taxicrm.demo.population import fleet
from taxicrm.demo.progress import Progress
from taxicrm.demo.seeding import is_seeded, seed_city
from taxicrm.demo.switchboard import Desk, Switchboard
from taxicrm.demo.tally import Tally, status_line
from taxicrm.settings import Settings

STOP_GRACE_S = 10.0
log = logging.getLogger("taxicrm.demo")


class DemoError(Exception):
    """The demo cannot go on; the message says why and what to do."""


@dataclass
class DemoRun:
    """What a run did: whether it seeded, how long that took, and the tally of the simulation."""

    seeded_now: bool
    seed_seconds: float
    tally: Tally


async def run_demo(settings: Settings, options: DemoOptions, base_url: str, stop: asyncio.Event,
                   out: TextIO | None = None) -> DemoRun:
    """Seed if needed, print the console's address and the logins, and simulate until `stop` (or run_for_s)."""
    out = out or sys.stdout
    path = demo_accounts.record_path(settings.data_dir)
    # Every driver app holds a connection of its own: no limit on the session's pool (aiohttp's default is 100).
    async with asyncpg.create_pool(settings.database_url, min_size=1, max_size=2) as pool, \
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        record = demo_accounts.load_record(path)
        seeded = await is_seeded(pool)
        if seeded and record is None:
            raise DemoError(f"this database holds a demo city seeded by another run, but {path} with its "
                            "accounts is gone; start on an empty database (or data folder) to seed a new city")
        if record is None:
            await _refuse_a_real_center(pool)
            record = DemoRecord(options.seed, options.size.subscribers, options.size.drivers,
                                demo_accounts.plan_accounts(options.size.operators))
            demo_accounts.save_record(path, record)  # Before any account exists: an interrupted seed resumes.
        options = _as_recorded(options, record, out)
        seed_seconds = 0.0
        if not seeded:
            print(f"Seeding the demo city: {record.subscribers:,} subscribers, {record.drivers:,} drivers, "
                  f"{len(demo_accounts.operators(record.accounts))} operators (seed {record.seed})", file=out)
            started = time.monotonic()
            plan = PhonePlan(settings.phone_region, settings.area_code)
            seeding = seed_city(pool, session, base_url, plan, options.size, options.seed, record.accounts,
                                Progress(out))
            if not await _unless_stopped(seeding, stop):
                print("\nStopped before the city was seeded whole; the next start carries on.", file=out)
                return DemoRun(seeded_now=False, seed_seconds=time.monotonic() - started, tally=Tally())
            seed_seconds = time.monotonic() - started
            print(f"Seeded in {seed_seconds:.1f}s.", file=out)
        else:
            print("The demo city was seeded by an earlier run on this database; not seeding again.", file=out)
        print(_welcome(base_url, record.accounts, options), file=out, flush=True)
        tally = await simulate(session, base_url, settings, options, record.accounts, stop, out)
    return DemoRun(seeded_now=not seeded, seed_seconds=seed_seconds, tally=tally)


async def _refuse_a_real_center(pool: asyncpg.Pool) -> None:
    """Seed only an empty database: the demo's made-up people must never land in a center's real records."""
    users = await list_users(pool)
    if users:
        raise DemoError(f"this database already has staff accounts ({', '.join(u.username for u in users[:3])}); "
                        "the demo seeds only an empty one: set DATABASE_URL to a new database, or unset it and "
                        "use another TAXICRM_DATA")


async def _unless_stopped(work: Coroutine[Any, Any, object], stop: asyncio.Event) -> bool:
    """Run `work` to its end unless `stop` is set first (Ctrl-C), then cancel it; return whether it ended."""
    task = asyncio.create_task(work)
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return False
    task.result()  # Its failure is the demo's.
    return True


def _as_recorded(options: DemoOptions, record: DemoRecord, out: TextIO) -> DemoOptions:
    """Simulate the city that was seeded, whatever size this run asked for."""
    if (record.seed, record.subscribers, record.drivers) != (options.seed, options.size.subscribers,
                                                             options.size.drivers):
        print(f"Note: this data folder already has a demo city ({record.subscribers:,} subscribers, "
              f"{record.drivers:,} drivers, seed {record.seed}); running that one. Use another TAXICRM_DATA "
              "(or database) for a different city.", file=out)
    size = replace(options.size, subscribers=record.subscribers, drivers=record.drivers,
                   operators=len(demo_accounts.operators(record.accounts)))
    return replace(options, seed=record.seed, size=size)


def _welcome(base_url: str, accounts: list[Account], options: DemoOptions) -> str:
    width = max(len(a.username) for a in accounts)
    lines = ["", f"The demo city is live. Open the console: {base_url}/", "Sign in as:"]
    for account in accounts:
        extension = f"  extension {account.extension}" if account.extension else ""
        lines.append(f"  {account.username:<{width}}  {account.password}  ({account.role}){extension}")
    lines += [f"Calls ring the operators' extensions (about {options.size.peak_calls_per_hour:g} an hour at the "
              "busiest hour, fewer at night); sign in as an operator to see them ring and book.",
              "Ctrl-C stops the demo and the service.", ""]
    return "\n".join(lines)


async def simulate(session: aiohttp.ClientSession, base_url: str, settings: Settings, options: DemoOptions,
                   accounts: list[Account], stop: asyncio.Event, out: TextIO) -> Tally:
    """Run the drivers' apps, the callers and the operators until `stop` is set (or run_for_s has passed)."""
    tally = Tally()
    rng = random.Random()  # Each run lives differently; the city itself stays the seeded one.
    admin = demo_accounts.by_name(accounts, demo_accounts.ADMIN)
    admin_api = await log_in(session, base_url, admin.username, admin.password)
    drivers = await _driver_apps(session, admin_api, base_url, options, tally, rng)
    desks = [Desk(account, await log_in(session, base_url, account.username, account.password))
             for account in demo_accounts.operators(accounts)]
    pbx = Api(session, base_url, pbx_secret=settings.webhook_secret)
    switchboard = Switchboard(pbx, desks, options, settings.timezone, tally, rng)
    inner = asyncio.Event()
    warm_up = min(20.0, 0.05 * len(drivers)) / max(1.0, options.pace / 5)
    tasks = [asyncio.create_task(d.run(inner, warm_up)) for d in drivers]
    tasks.append(asyncio.create_task(switchboard.run(inner)))
    tasks.append(asyncio.create_task(_report(tally, options, inner, out)))
    for task in tasks:
        task.add_done_callback(_say_if_failed)
    try:
        await asyncio.wait_for(stop.wait(), timeout=options.run_for_s)
    except TimeoutError:
        pass
    finally:
        inner.set()
        _, late = await asyncio.wait(tasks, timeout=STOP_GRACE_S)
        for task in late:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                raise DemoError(f"the simulation failed: {result!r}") from result
    return tally


def _say_if_failed(task: asyncio.Task[None]) -> None:
    """Log a simulated app's failure when it happens, not only when the demo stops."""
    if not task.cancelled() and task.exception() is not None:
        log.error("a simulated app stopped", exc_info=task.exception())


async def _driver_apps(session: aiohttp.ClientSession, admin: Api, base_url: str, options: DemoOptions,
                       tally: Tally, rng: random.Random) -> list[SimDriver]:
    """Give each demo driver's app a fresh token (issuing one revokes the last run's)."""
    ids = {d.get("phone"): int(d["id"]) for d in (await admin.get("/api/drivers"))["drivers"]}
    ws_url = base_url.replace("http", "ws", 1) + "/ws/driver"
    apps = []
    for cabbie in fleet(options.seed, options.size.drivers):
        driver_id = ids.get(cabbie.phone)
        if driver_id is None:
            continue  # Deleted or changed by an admin since the seeding.
        token = str((await admin.post(f"/api/drivers/{driver_id}/token"))["token"])
        apps.append(SimDriver(session, ws_url, token, cabbie, options, tally, random.Random(rng.random())))
    return apps


async def _report(tally: Tally, options: DemoOptions, stop: asyncio.Event, out: TextIO) -> None:
    """Print a status line every so often."""
    before, since = tally.snapshot(), time.monotonic()
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=options.status_every_s)
        now = time.monotonic()
        print(f"[{time.strftime('%H:%M:%S')}] {status_line(tally, before, (now - since) / 60)}", file=out, flush=True)
        before, since = tally.snapshot(), now
