"""A repeat caller's ride in the real console: keystrokes and seconds from the phone ringing to a confirmed booking.

Starts `taxicrm serve` on a fresh bench database (and an emptied Redis database, 7 by default), creates an
operator at extension 201 and SUBSCRIBERS repeat callers with two saved addresses each (home and work), signs the
operator in to the console in Debian's headless Chromium, then CYCLES times: the PBX webhook rings the operator for
a random caller; the scripted operator waits for the card, presses 1 (pickup: home), 2 (destination: work) and
Enter, each KEY_GAP_MS after the last (a quick but human typist; 0 measures the console alone), and waits until
the card says the ride is booked. The ride is then cancelled over the API so the caller's next call starts clean.

Reports, per cycle: ring -> card on screen, card -> booking confirmed on screen, ring -> confirmed (p50/p95/max),
and the keystrokes. Writes bench/results/console_booking.json.

    .venv/bin/python bench/console_booking.py          # CYCLES=40 KEY_GAP_MS=150
    BENCH_POSTGRES_URL=... BENCH_REDIS_URL=... .venv/bin/python bench/console_booking.py
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
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import asyncpg
import redis.asyncio as aioredis
from playwright.async_api import async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from taxicrm.migrations import migrate
from taxicrm.startup import create_user
from tests.support import ServiceProcess, log_in, with_database

SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NAME = "taxicrm_bench_console"
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
CYCLES = int(os.environ.get("CYCLES", "40"))
SUBSCRIBERS = int(os.environ.get("SUBSCRIBERS", "20"))
KEY_GAP_MS = int(os.environ.get("KEY_GAP_MS", "150"))
CHROMIUM = os.environ.get("TAXICRM_CHROMIUM", "/usr/bin/chromium")
SECRET = "bench-console-secret"
PASSWORD = "bench console password"
KEYS = ("1", "2", "Enter")


async def prepare_database() -> str:
    conn = await asyncpg.connect(SERVER)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{NAME}"')
    finally:
        await conn.close()
    url = with_database(SERVER, NAME)
    await migrate(url)
    client = aioredis.from_url(REDIS)
    await client.flushdb()
    await client.aclose()
    await create_user(url, "bench-operator", "Bench Operator", "operator", PASSWORD, "201")
    return url


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered), 1),
            "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
            "max": round(ordered[-1], 1), "mean": round(statistics.fmean(ordered), 1)}


async def make_callers(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> list[str]:
    phones = []
    for i in range(SUBSCRIBERS):
        phone = f"0912{3000000 + i:07d}"
        body = {"name": f"Caller {i}", "phones": [{"number": phone}], "addresses": [
            {"text": f"Home street {i}", "label": "home", "lat": 35.70 + i * 0.001, "lng": 51.34},
            {"text": f"Work tower {i}", "label": "work", "lat": 35.757, "lng": 51.41 - i * 0.001}]}
        async with http.post(f"{url}/api/subscribers", json=body, headers=headers) as response:
            assert response.status == 201, await response.text()
        phones.append(phone)
    return phones


async def run(url: str) -> dict[str, object]:
    async with aiohttp.ClientSession() as http, async_playwright() as playwright:
        token = await log_in(http, url, "bench-operator", PASSWORD)
        http.cookie_jar.clear()
        headers = {"Authorization": f"Bearer {token}"}
        phones = await make_callers(http, url, headers)
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = await browser.new_context(viewport={"width": 1440, "height": 900})
        await context.add_init_script("localStorage.setItem('taxicrm.lang', 'en')")
        page = await context.new_page()
        await page.goto(url + "/")
        await page.fill("input[name=username]", "bench-operator")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_selector(".live-status[data-status=online]")
        ring_to_card, card_to_booked, ring_to_booked = [], [], []
        for _ in range(CYCLES):
            phone = random.choice(phones)
            started = time.perf_counter()
            async with http.post(f"{url}/api/pbx/call-events", headers={"X-Taxicrm-Secret": SECRET}, json={
                    "event": "ringing", "call_id": uuid.uuid4().hex, "caller": phone, "extensions": ["201"]}) as r:
                assert r.status < 300, await r.text()
            await page.wait_for_selector(".caller-card .address")
            shown = time.perf_counter()
            for key in KEYS:
                await page.keyboard.press(key)
                if key == "1":
                    await page.wait_for_selector("form.booking-form")
                await page.wait_for_timeout(KEY_GAP_MS)
            booked = page.locator(".booked-here")
            await booked.wait_for()
            done = time.perf_counter()
            ring_to_card.append((shown - started) * 1000)
            card_to_booked.append((done - shown) * 1000)
            ring_to_booked.append((done - started) * 1000)
            ride_id = await booked.get_attribute("data-ride-id")
            async with http.post(f"{url}/api/rides/{ride_id}/cancel", json={"reason": "bench"},
                                 headers=headers) as r:
                assert r.status == 200, await r.text()
            await page.keyboard.press("Escape")
            await page.wait_for_selector(".caller-card", state="detached")
        await browser.close()
    return {"keystrokes_per_booking": len(KEYS), "keys": list(KEYS), "key_gap_ms": KEY_GAP_MS,
            "ring_to_card_ms": summary(ring_to_card), "card_to_confirmed_ms": summary(card_to_booked),
            "ring_to_confirmed_ms": summary(ring_to_booked)}


async def main() -> None:
    database = await prepare_database()
    env = {"DATABASE_URL": database, "REDIS_URL": REDIS, "TAXICRM_WEBHOOK_SECRET": SECRET,
           "TAXICRM_ACCESS_LOG": "false", "TAXICRM_LOG_LEVEL": "warning"}
    with tempfile.TemporaryDirectory() as logs:
        service = ServiceProcess(env).start(Path(logs))
        try:
            figures = await run(service.url)
        finally:
            service.stop()
    result = {
        "benchmark": "console_booking", "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "cycles": CYCLES, **figures,
        "note": "scripted operator in headless Chromium: from posting the ringing event to the card on screen, then "
                f"three keys {KEY_GAP_MS} ms apart, to the card saying the ride is booked; browser, service and "
                "databases share the machine",
    }
    print(json.dumps(result, indent=2))
    (Path(__file__).parent / "results" / "console_booking.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
