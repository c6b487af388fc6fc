"""The supervisor's report pages in a real browser, over rides, calls and a complaint made through the real API and
folded into the rollups by the real service: the heatmap, the tables, the CSV, Persian right to left with Jalali
dates and Saturday first, and no Reports tab for an operator."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from playwright.async_api import Locator, Page, expect

from dispatch.model import Driver
from reports.calendar import Calendar, month_label, month_start
from tests.browser.conftest import Console
from tests.driver_app import AZADI, DriverApp

OpenConsole = Callable[..., Awaitable[Console]]
MakeDriver = Callable[..., Awaitable[tuple[Driver, str]]]
CENTER = ZoneInfo("Asia/Tehran")  # the service's default TAXICRM_TIMEZONE
WAIT_MS = 10_000
FOLD_WITHIN_S = 90  # how long the rollups may take to fold new facts in on two busy cores
SHARIF = {"text": "Sharif University", "lat": 35.7036, "lng": 51.3516}
RANKED = 10  # completed rides a driver needs in the period to be ranked (reports/rankings.py MIN_COMPLETED)
JALALI_DAY = re.compile(r"^[۰-۹]{1,2} (فروردین|اردیبهشت|خرداد|تیر|مرداد|شهریور|مهر|آبان|آذر|دی|بهمن|اسفند) ۱۴[۰-۹]{2}$")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP session for the driver's app and the CSV."""
    async with aiohttp.ClientSession() as session:
        yield session


def slot(at: datetime) -> tuple[int, int]:
    """The report's weekday (0 = Saturday) and hour of an instant, on the center's clock."""
    local = at.astimezone(CENTER)
    return (local.weekday() + 2) % 7, local.hour


def cell_of(report: dict[str, Any], weekday: int, hour: int) -> dict[str, Any]:
    """The peak-hours report's cell for a weekday and hour, zeros when the report has none."""
    found = [c for c in report["cells"] if c["weekday"] == weekday and c["hour"] == hour]
    return found[0] if found else {"calls_offered": 0, "rides_booked": 0, "rides_completed": 0}


async def folded(console: Console, path: str, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Ask a report until the rollups show what `ready` looks for; return that answer."""
    deadline = asyncio.get_running_loop().time() + FOLD_WITHIN_S
    while True:
        answer: dict[str, Any] = await console.api("GET", path)
        if ready(answer):
            return answer
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{path} never showed the new facts; last answer: {answer}")
        await asyncio.sleep(0.5)


def row_of(rows: list[dict[str, Any]], key: str, value: Any) -> dict[str, Any] | None:
    return next((r for r in rows if r.get(key) == value), None)


async def drive_rides(operator: Console, http: aiohttp.ClientSession, make_driver: MakeDriver
                      ) -> tuple[Driver, dict[str, Any]]:
    """A subscriber calls, the operator answers and books; a driver takes the ride and completes it, and RANKED
    rides in all (enough for the driver to be ranked among the best); another call is abandoned. Returns the
    driver and the first ride as booked."""
    driver, token = await make_driver("Reza Karimi")
    app = await DriverApp.connect(http, f"{operator.url}/ws/driver", token)
    try:
        await app.wait_for("state")
        await app.go_online(AZADI[0] + 300 / 111_000, AZADI[1])
        subscriber = (await operator.api("POST", "/api/subscribers", {"name": "Maryam Ahmadi",
                                                                      "phones": [{"number": "0912 123 4567"}]},
                                         status=201))["subscriber"]
        pbx_call = await operator.ring("0912 123 4567")
        answered = await operator.pbx(event="answered", call_id=pbx_call, extension=operator.user.extension)
        rides = []
        for n in range(RANKED):
            booked = await operator.api("POST", "/api/rides", {
                "subscriber_id": subscriber["id"], "call_id": answered["call_id"] if n == 0 else None,
                "pickup": {"text": "Azadi Square", "lat": AZADI[0], "lng": AZADI[1]}, "destination": SHARIF},
                headers={"Idempotency-Key": uuid.uuid4().hex})
            if n == 0:
                await operator.pbx(event="ended", call_id=pbx_call, cause="normal")
            ride = booked["ride"]
            rides.append(ride)
            offer = await app.wait_for("offer", within=10, ride_id=ride["id"])
            assert (await app.ask("accept", offer_id=offer["offer_id"]))["type"] == "accepted"
            for step, status in (("arrived", "arrived"), ("picked_up", "on_board"), ("completed", "completed")):
                assert (await app.ask(step, ride_id=ride["id"]))["job"]["status"] == status
        missed = await operator.ring("0935 111 2233")
        await operator.pbx(event="ended", call_id=missed, cause="abandoned")
        return driver, rides[0]
    finally:
        await app.close()


def view(page: Page, name: str) -> Locator:
    return page.locator(f'#page-reports .report-view[data-view="{name}"]')


async def open_view(page: Page, name: str) -> Locator:
    await page.click(f'#page-reports .report-tabs a[data-view="{name}"]')
    shown = view(page, name)
    await expect(shown).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator("#page-reports .report-body.loading")).to_have_count(0, timeout=WAIT_MS)
    return shown


async def test_the_reports_show_the_rides_calls_and_complaints_made_through_the_api(
        open_console: OpenConsole, make_driver: MakeDriver, http: aiohttp.ClientSession) -> None:
    operator = await open_console("operator", lang="en")
    supervisor = await open_console("supervisor", lang="en")
    driver, ride = await drive_rides(operator, http, make_driver)
    await operator.api("POST", "/api/complaints", {"category": "rude_driver", "ride_id": ride["id"],
                                                   "description": "Shouted at the passenger"}, status=201)
    weekday, hour = slot(datetime.fromisoformat(ride["due_at"]))  # the hour the ride was wanted

    drivers = await folded(supervisor, "/api/reports/drivers",
                           lambda r: (row_of(r["rows"], "driver_id", driver.id) or {}).get("completed") == RANKED)
    peak = await folded(supervisor, "/api/reports/peak-hours",
                        lambda r: sum(c["rides_completed"] for c in r["cells"]) == RANKED
                        and sum(c["calls_offered"] for c in r["cells"]) == 2)
    assert cell_of(peak, weekday, hour)["rides_booked"] >= 1
    me = operator.user.id
    operators = await folded(supervisor, "/api/reports/operators",
                             lambda r: (row_of(r["rows"], "operator_id", me) or {}).get("calls_handled") == 1)
    complaints = await folded(supervisor, "/api/reports/complaints?by=category",
                              lambda r: (row_of(r["rows"], "key", "rude_driver") or {}).get("complaints") == 1)

    # Peak hours, reached by its key: the ride's weekday and hour in the heatmap, calls first, then rides.
    page = supervisor.page
    await supervisor.press("F6")
    await expect(view(page, "peak-hours")).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator("#page-reports .report-body.loading")).to_have_count(0, timeout=WAIT_MS)
    cell = page.locator(f'[data-chart="peak-hours"] .cell[data-weekday="{weekday}"][data-hour="{hour}"]')
    offered = cell_of(peak, weekday, hour)["calls_offered"]
    await expect(cell).to_have_attribute("data-value", str(offered), timeout=WAIT_MS)
    await expect(cell.locator("title")).to_contain_text(f"{offered}")
    await page.click('[data-toggle] button[data-value="rides_completed"]')
    completed = str(cell_of(peak, weekday, hour)["rides_completed"])
    await expect(cell).to_have_attribute("data-value", completed)
    await expect(cell.locator("text")).to_have_text(completed)
    first = peak["busiest"][0]
    busiest = page.locator('[data-table="busiest"] tbody tr').first
    await expect(busiest).to_have_attribute("data-weekday", str(first["weekday"]))
    await expect(busiest.locator('[data-col="calls_offered"]')).to_have_text(str(first["calls_offered"]))
    staffed = row_of([s for s in peak["staffing"] if s["weekday"] == weekday], "hour", hour) or {}
    await expect(page.locator(f'[data-table="staffing"] tr[data-weekday="{weekday}"] td[data-hour="{hour}"]')
                 ).to_have_text(str(staffed.get("operators_needed", 0)))
    await console_screenshot(supervisor, "reports-peak-hours")

    # The CSV is the same report: a download with Excel's byte-order mark, a line per weekday and hour.
    csv_link = page.locator("#page-reports [data-action=csv]")
    assert "format=csv" in (await csv_link.get_attribute("href") or "")
    header, lines = await download(page, csv_link)
    assert "calls_offered" in header and len(lines) == len(peak["cells"])

    # Drivers: the driver's row, marked as the API ranks them; operators: calls handled and the booking.
    shown = await open_view(page, "drivers")
    row = shown.locator(f'[data-table="drivers"] tr[data-driver-id="{driver.id}"]')
    await expect(row.locator('[data-col="name"]')).to_contain_text("Reza Karimi")
    await expect(row.locator('[data-col="completed"]')).to_have_text(str(RANKED))
    # The only driver ranked is the best there is: marked in the table, the list and the chart, in words too.
    assert drivers["best"] == [driver.id], drivers
    await expect(row).to_have_attribute("class", "best")
    await expect(row.locator('[data-mark="best"]')).to_have_text("★ Best")
    await expect(shown.locator(f'.report-list.best li[data-driver-id="{driver.id}"]')).to_contain_text("Reza Karimi")
    await expect(shown.locator(f'[data-chart="drivers"] .bar.best[data-key="{driver.id}"]')).to_have_count(1)
    shown = await open_view(page, "operators")
    row = shown.locator(f'tr[data-operator-id="{operator.user.id}"]')
    mine = row_of(operators["rows"], "operator_id", operator.user.id)
    assert mine is not None
    await expect(row.locator('[data-col="calls_handled"]')).to_have_text("1")
    await expect(row.locator('[data-col="bookings"]')).to_have_text(str(mine["bookings"]))

    # Complaints: the category's row in the console's words, and the open cases.
    shown = await open_view(page, "complaints")
    row = shown.locator('[data-table="complaints"] tr[data-key="rude_driver"]')
    await expect(row.locator('[data-col="label"]')).to_have_text("Rude driver")
    await expect(row.locator('[data-col="complaints"]')).to_have_text("1")
    await expect(shown.locator('[data-figure="open"] .n')).to_have_text(str(complaints["open"]))
    await expect(shown.locator('[data-chart="complaints"] .bar[data-key="rude_driver"]')).to_have_count(1)

    # Areas: one marker and one row per area the API names, by zone and by hexagon.
    for grid in ("zones", "hex"):
        areas = await supervisor.api("GET", f"/api/reports/areas?grid={grid}")
        if grid == "hex":  # the pickup had coordinates, so it lies in a cell
            assert sum(a["rides"] for a in areas["rows"]) >= 1, areas
        shown = await open_view(page, "areas")
        await page.click(f'[data-toggle] button[data-value="{grid}"]')
        await expect(shown.locator('[data-table="areas"] tbody tr[data-area]')).to_have_count(len(areas["rows"]),
                                                                                           timeout=WAIT_MS)
        placed = [a for a in areas["rows"] if a["lat"] is not None]
        await expect(shown.locator('.map-marker[data-layer="areas"]')).to_have_count(len(placed))
        # Each zone or cell with a border is drawn as its outline, filled with its shade.
        outlined = [a for a in areas["rows"] if a["polygon"]]
        assert grid == "zones" or outlined, areas  # every located cell has its corners
        shapes = shown.locator('polygon.map-shape[data-layer="areas"]')
        await expect(shapes).to_have_count(len(outlined))
        for a in outlined:
            corners = await shown.locator(f'polygon.map-shape[data-id="{a["area"]}"]').get_attribute("points")
            assert corners is not None and len(corners.split()) == len(a["polygon"])
    await console_screenshot(supervisor, "reports-areas")

    # Customers: this month's cohort (a Jalali month: the center's calendar) holds the new subscriber.
    customers = await folded(supervisor, "/api/reports/customers", lambda r: len(r["cohorts"]) >= 1)
    shown = await open_view(page, "customers")
    assert customers["calendar"] == "jalali"
    first_day = month_start(datetime.now(CENTER).date(), Calendar.JALALI)
    month = month_label(first_day, Calendar.JALALI)
    cohort = row_of(customers["cohorts"], "cohort", month)
    assert cohort is not None and cohort["size"] >= 1 and cohort["first_day"] == first_day.isoformat(), customers
    label = shown.locator(f'[data-chart="cohorts"] .cohort[data-cohort="{month}"] .row-label')
    # Named in the center's calendar in English too ("Azar 1405 AP").
    await expect(label).to_have_text(re.compile(rf"^\w+ {month[:4]} AP$"))
    for link in await shown.locator('[data-table="at-risk"] a[data-subscriber-id]').all():
        assert (await link.get_attribute("href") or "").startswith("#/subscribers/")
    header, lines = await download(page, shown.locator('[data-csv-table="rfm"]'))
    assert "segment" in header and len(lines) == len(customers["rfm"])
    await console_screenshot(supervisor, "reports-customers")

    # The forecast: an hour per row for the coming week.
    forecast = await supervisor.api("GET", "/api/reports/forecast?weeks=8")
    shown = await open_view(page, "forecast")
    await expect(shown.locator('[data-table="forecast"] tbody tr[data-at]')).to_have_count(len(forecast["hours"]))

    # A quick range changes the period every view asks for.
    await open_view(page, "drivers")
    await page.click('#page-reports button[data-range="7d"]')
    week_ago = (datetime.now(CENTER) - timedelta(days=6)).date().isoformat()
    await expect(page.locator("#page-reports [data-action=csv]")).to_have_attribute(
        "href", re.compile(f"from={week_ago}&to="), timeout=WAIT_MS)
    assert not supervisor.page_errors  # type: ignore[attr-defined]

    # An operator has no Reports tab, and the API refuses them.
    await expect(operator.page.locator(".tabs a")).not_to_have_count(0)
    await expect(operator.page.locator('.tabs a[data-page="reports"]')).to_have_count(0)
    await expect(operator.page.locator("#page-reports")).to_have_count(0)
    await operator.api("GET", "/api/reports/peak-hours", status=403)


async def download(page: Page, link: Locator) -> tuple[str, list[str]]:
    """Click a CSV link; return the file's header line and its other lines, after checking Excel's BOM."""
    async with page.expect_download() as info:
        await link.click()
    got = await info.value
    assert got.suggested_filename.endswith(".csv")
    content = await asyncio.to_thread(Path(await got.path()).read_bytes)
    assert content.startswith(b"\xef\xbb\xbf")
    header, *lines = content.decode("utf-8-sig").strip().splitlines()
    return header, lines


async def console_screenshot(console: Console, name: str) -> None:
    """Let the charts settle (the map fits its markers on its first frame), then save the screen."""
    await console.page.wait_for_timeout(300)
    await console.screenshot(name)


async def test_the_reports_read_right_to_left_in_persian_with_jalali_days_and_saturday_first(
        open_console: OpenConsole) -> None:
    supervisor = await open_console("supervisor", lang="fa")
    page = supervisor.page
    missed = await supervisor.ring("0912 765 4321")
    await supervisor.pbx(event="ended", call_id=missed, cause="abandoned")
    weekday, hour = slot(datetime.now(CENTER))
    peak = await folded(supervisor, "/api/reports/peak-hours",
                        lambda r: sum(c["calls_offered"] for c in r["cells"]) >= 1)
    if cell_of(peak, weekday, hour)["calls_offered"] == 0:  # the hour turned between the call and now
        weekday, hour = next((c["weekday"], c["hour"]) for c in peak["cells"] if c["calls_offered"])

    await page.goto(supervisor.url + "/#/reports/peak-hours")
    await expect(view(page, "peak-hours")).to_be_visible(timeout=WAIT_MS)
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    await expect(page.locator('.tabs a[data-page="reports"]')).to_contain_text("گزارش‌ها")

    # Saturday is the first row, Friday the last; hour 0 stands on the right, as a Persian table reads.
    labels = page.locator('[data-chart="peak-hours"] .row-label')
    await expect(labels).to_have_count(7, timeout=WAIT_MS)
    await expect(labels.first).to_have_text("شنبه")
    await expect(labels.last).to_have_text("جمعه")
    in_row = f'[data-chart="peak-hours"] .cell[data-weekday="{weekday}"]'
    first_box = await page.locator(f'{in_row}[data-hour="0"] rect').bounding_box()
    last_box = await page.locator(f'{in_row}[data-hour="23"] rect').bounding_box()
    assert first_box and last_box and first_box["x"] > last_box["x"]
    # The call's cell, in Persian digits.
    cell = page.locator(f'[data-chart="peak-hours"] .cell[data-weekday="{weekday}"][data-hour="{hour}"]')
    offered = cell_of(peak, weekday, hour)["calls_offered"]
    await expect(cell.locator("text")).to_have_text(str(offered).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")))

    # The period in Jalali days; "this month" starts on the first of the Jalali month.
    from_day = page.locator('#page-reports button[name="period-from"]')
    await expect(from_day).to_have_text(JALALI_DAY)
    await expect(page.locator('#page-reports button[name="period-to"]')).to_have_text(JALALI_DAY)
    await page.click('#page-reports button[data-range="month"]')
    await expect(from_day).to_have_text(re.compile(r"^۱ "))
    # Its month grid: a Jalali month, the week from Saturday, keys moving a day leftwards.
    await from_day.click()
    grid = page.locator('#page-reports [data-field="from"] .calendar-pop')
    await expect(grid.locator("thead th").first).to_have_text("ش")
    await expect(grid.locator(".calendar-head strong")).to_have_text(re.compile(r"(فروردین|اردیبهشت|خرداد|تیر|مرداد"
                                                                               r"|شهریور|مهر|آبان|آذر|دی|بهمن|اسفند)"))
    chosen = await page.evaluate("document.activeElement.dataset.date")
    await page.keyboard.press("ArrowRight")
    before = await page.evaluate("document.activeElement.dataset.date")
    assert before < chosen
    await page.keyboard.press("Enter")
    await expect(grid).to_be_hidden()
    await expect(page.locator("#page-reports [data-action=csv]")).to_have_attribute(
        "href", re.compile(f"from={before}&"), timeout=WAIT_MS)
    assert not supervisor.page_errors  # type: ignore[attr-defined]
