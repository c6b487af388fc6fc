"""Board latency: from a driver's command changing a ride's state to the operator's board showing the new state.

Starts `taxicrm serve` on a fresh database, signs an operator in to the real console in headless Chromium
(Debian's /usr/bin/chromium through Playwright) and opens the live board, filled with FILLER rides waiting on the
unassigned list (walk-ins without a map position, so no driver is ever offered them). DRIVERS drivers connect
over the real driver websocket, each waiting alone in its own part of Tehran; each books RIDES rides at its own
spot (so the offer comes to it), accepts, arrives, picks up and completes each one: four transitions a ride,
the drivers working at the same time. Each transition is stamped with the wall clock just before its websocket
command is sent; a MutationObserver in the page stamps (performance.timeOrigin + performance.now()) the moment
the ride's card with the new status enters the board, and the next animation frame after it (when the browser
paints it). A staff websocket of the bench's own stamps the same event's arrival (the service's share of the
time), and a listener on the page's own websocket its arrival there (the rest is the console's share). Reports
p50/p95/p99/max of each, and writes bench/results/console_board.json.

    .venv/bin/python bench/console_board.py                 # DRIVERS=4 RIDES=8 FILLER=150

BENCH_POSTGRES_URL names the PostgreSQL server (default postgresql://postgres@127.0.0.1:5432/postgres; the
database `taxicrm_bench_board` is created for the run and dropped after it), BENCH_REDIS_URL the Redis database
(default redis://127.0.0.1:6379/8, flushed at the start). The browser, the drivers, the service and the databases
share the machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import redis.asyncio as aioredis
from playwright.async_api import Page, async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch import service as fleet
from taxicrm.migrations import migrate
from taxicrm.startup import create_user
from tests.driver_app import DriverApp
from tests.support import ServiceProcess, log_in, with_database

SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE_NAME = "taxicrm_bench_board"
DATABASE = with_database(SERVER, DATABASE_NAME)
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
DRIVERS = int(os.environ.get("DRIVERS", "4"))
RIDES = int(os.environ.get("RIDES", "8"))
FILLER = int(os.environ.get("FILLER", "150"))
CHROMIUM = os.environ.get("TAXICRM_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "bench operator pw"
# Where the drivers wait: districts of Tehran several kilometres apart, so each ride's nearest driver is its own.
SPOTS = [(35.6997, 51.3380), (35.7575, 51.4100), (35.6890, 51.4230), (35.8046, 51.4336), (35.7300, 51.3000),
         (35.6500, 51.3900), (35.7700, 51.3300), (35.7150, 51.4700)]
STEPS = (("accept", "assigned"), ("arrived", "arrived"), ("picked_up", "on_board"), ("completed", "completed"))

# Stamps each card entering the board (or changing status in place) with its ride, status and time, and the
# time of the next frame.
OBSERVE = """() => {
  window.__seen = [];
  const stamp = () => performance.timeOrigin + performance.now();
  new MutationObserver((records) => {
    const at = stamp();
    for (const record of records) {
      const nodes = record.type === "childList" ? [...record.addedNodes] : [record.target];
      for (const node of nodes) {
        if (node.nodeType !== 1 || !node.matches(".ride-row")) continue;
        const entry = { ride: Number(node.dataset.rideId), status: node.dataset.status, dom: at, frame: null };
        window.__seen.push(entry);
        requestAnimationFrame(() => { entry.frame = stamp(); });
      }
    }
  }).observe(document.querySelector(".board"), { subtree: true, childList: true, attributes: true,
                                                 attributeFilter: ["data-status"] });
}"""
# Stamps each ride event as the page's websocket receives it, before the console handles it.
ARRIVALS = """(() => {
  window.__arrived = [];
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    socket.addEventListener("message", (message) => {
      const at = performance.timeOrigin + performance.now();
      const ride = JSON.parse(message.data)?.data?.ride;
      if (ride) window.__arrived.push({ ride: ride.id, status: ride.status, at });
    });
    return socket;
  };
  Object.assign(window.WebSocket, Native);
  window.WebSocket.prototype = Native.prototype;
})();"""
SHOWN = """([ride, status]) => window.__seen.some((e) => e.ride === ride && e.status === status && e.frame !== null)"""


async def prepare_database() -> list[str]:
    """Create the bench database, an operator and the drivers; return the drivers' app tokens."""
    admin = await asyncpg.connect(SERVER)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    finally:
        await admin.close()
    await migrate(DATABASE)
    await create_user(DATABASE, "bench-board", "Board Bench", "operator", PASSWORD, "201")
    async with asyncpg.create_pool(DATABASE, min_size=1, max_size=2) as pool:
        tokens = []
        for n in range(DRIVERS):
            driver = await fleet.register_driver(pool, f"Bench Driver {n + 1}")
            tokens.append(await fleet.issue_token(pool, driver.id))
    redis = aioredis.from_url(REDIS)
    await redis.flushdb()
    await redis.aclose()
    return tokens


async def drop_database() -> None:
    admin = await asyncpg.connect(SERVER)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')
    finally:
        await admin.close()


class Operator:
    """The API as another console books through it."""

    def __init__(self, session: aiohttp.ClientSession, url: str, token: str) -> None:
        self.session, self.url, self.headers = session, url, {"Authorization": f"Bearer {token}"}

    async def book(self, n: int, **body: Any) -> dict[str, Any]:
        payload = {"walk_in_name": f"Bench Rider {n}", "walk_in_phone": f"0912{n:07d}", "confirm_duplicate": True,
                   **body}
        async with self.session.post(f"{self.url}/api/rides", json=payload,
                                     headers={**self.headers, "Idempotency-Key": uuid.uuid4().hex}) as response:
            found = await response.json()
            if response.status != 201:
                raise RuntimeError(f"booking failed: {found}")
            ride: dict[str, Any] = found["ride"]
            return ride


async def open_board(page: Page, url: str) -> None:
    """Sign in through the form and open the board, as an operator does."""
    await page.goto(url + "/")
    await page.fill("input[name=username]", "bench-board")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector(".live-status[data-status=online]")
    await page.keyboard.press("F2")
    await page.wait_for_selector("#page-board:not([hidden]) .board")


async def clock_offset(page: Page) -> float:
    """How far the page's clock is from ours (ms, page minus ours), by the midpoint of a round trip."""
    before = time.time() * 1000
    theirs = await page.evaluate("() => performance.timeOrigin + performance.now()")
    after = time.time() * 1000
    return float(theirs - (before + after) / 2)


async def work(index: int, app: DriverApp, operator: Operator, page: Page, sent: list[tuple[int, str, float]]) -> None:
    """One driver taking RIDES rides at its spot through every step, stamping each command as it leaves."""
    lat, lng = SPOTS[index % len(SPOTS)]
    for n in range(RIDES):
        ride = await operator.book(10_000 + index * 100 + n, pickup={"text": f"Spot {index}", "lat": lat, "lng": lng},
                                   destination={"text": "Somewhere", "lat": lat + 0.01, "lng": lng + 0.01})
        offer = await app.wait_for("offer", within=20)
        if offer["ride_id"] != ride["id"]:
            raise RuntimeError(f"driver {index} was offered ride {offer['ride_id']}, not {ride['id']}")
        for command, status in STEPS:
            await asyncio.sleep(random.uniform(0.05, 0.3))  # A person's tap, not a script's burst.
            fields = {"offer_id": offer["offer_id"]} if command == "accept" else {"ride_id": ride["id"]}
            sent.append((ride["id"], status, time.time() * 1000))
            reply = await app.ask(command, **fields)
            if reply["type"] == "error":
                raise RuntimeError(f"{command} refused: {reply}")
            await page.wait_for_function(SHOWN, arg=[ride["id"], status], timeout=20_000)


def percentiles(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2)

    return {"p50": pct(50), "p95": pct(95), "p99": pct(99), "max": round(ordered[-1], 2),
            "mean": round(statistics.fmean(ordered), 2)}


async def listen(ws: aiohttp.ClientWebSocketResponse, heard: dict[tuple[int, str], float]) -> None:
    """Stamp each ride event as it arrives on a staff websocket, to tell the service's part from the page's."""
    async for message in ws:
        at = time.time() * 1000
        data = json.loads(message.data)
        ride = data.get("data", {}).get("ride") if data.get("type") == "event" else None
        if ride:
            heard.setdefault((ride["id"], ride["status"]), at)


async def run(url: str, tokens: list[str]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, async_playwright() as playwright:
        token = await log_in(session, url, "bench-board", PASSWORD)
        operator = Operator(session, url, token)
        session.cookie_jar.clear()
        heard: dict[tuple[int, str], float] = {}
        staff_ws = await session.ws_connect(f"{url}/ws", headers=operator.headers)
        listener = asyncio.create_task(listen(staff_ws, heard))
        for n in range(FILLER):
            await operator.book(n, pickup={"text": f"Filler street {n}"})
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
        await context.add_init_script("localStorage.setItem('taxicrm.lang', 'en')")
        await context.add_init_script(ARRIVALS)
        page = await context.new_page()
        await open_board(page, url)
        await page.wait_for_function(f"document.querySelectorAll('.lane-unassigned .ride-row').length >= {FILLER}")
        await page.evaluate(OBSERVE)
        offsets = [await clock_offset(page) for _ in range(5)]
        apps = []
        for index, token in enumerate(tokens):
            app = await DriverApp.connect(session, f"{url}/ws/driver", token)
            await app.wait_for("state")
            await app.go_online(*SPOTS[index % len(SPOTS)])
            apps.append(app)
        sent: list[tuple[int, str, float]] = []
        began = time.perf_counter()
        await asyncio.gather(*(work(i, app, operator, page, sent) for i, app in enumerate(apps)))
        elapsed = time.perf_counter() - began
        seen = await page.evaluate("() => window.__seen")
        arrived = await page.evaluate("() => window.__arrived")
        rows = await page.evaluate("() => document.querySelectorAll('.ride-row').length")
        for app in apps:
            await app.close()
        await browser.close()
        listener.cancel()
        await staff_ws.close()
    first: dict[tuple[int, str], dict[str, Any]] = {}
    for entry in seen:
        first.setdefault((entry["ride"], entry["status"]), entry)
    came: dict[tuple[int, str], float] = {}
    for entry in arrived:
        came.setdefault((entry["ride"], entry["status"]), entry["at"])
    dom = [first[(ride, status)]["dom"] - at for ride, status, at in sent]
    frame = [first[(ride, status)]["frame"] - at for ride, status, at in sent]
    event = [heard[(ride, status)] - at for ride, status, at in sent]
    in_page = [first[key]["dom"] - came[key] for key in ((ride, status) for ride, status, _ in sent)]
    return {"transitions": len(sent), "seconds": round(elapsed, 1), "board_rows_at_end": rows,
            "card_in_dom_ms": percentiles(dom), "card_painted_ms": percentiles(frame),
            "event_on_staff_websocket_ms": percentiles(event), "page_message_to_card_ms": percentiles(in_page),
            "clock_offset_ms": {"median": round(statistics.median(offsets), 2),
                                "spread": round(max(offsets) - min(offsets), 2)}}


async def main() -> None:
    tokens = await prepare_database()
    env = {"DATABASE_URL": DATABASE, "REDIS_URL": REDIS, "TAXICRM_ACCESS_LOG": "false",
           "TAXICRM_LOG_LEVEL": "warning"}
    try:
        with tempfile.TemporaryDirectory() as logs:
            service = ServiceProcess(env).start(Path(logs))
            try:
                figures = await run(service.url, tokens)
            finally:
                service.stop()
    finally:
        await drop_database()
    result = {
        "benchmark": "console_board", "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "drivers": DRIVERS, "rides_per_driver": RIDES, "filler_rides": FILLER, **figures,
        "note": "from the wall clock just before a driver's websocket command to the page's clock when the ride's "
                "card with the new status entered the board (card_in_dom) and at the next animation frame "
                "(card_painted); event_on_staff_websocket: the same event reaching the bench's own staff "
                "websocket, the service's share; page_message_to_card: from the page's websocket receiving the "
                "event to the card entering the board, the console's share; clock_offset_ms: the page's clock "
                "minus the bench's, by round trip; browser, drivers, service and databases share the machine",
    }
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results" / "console_board.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
