"""The drivers page: counts by status, the fleet list, and the map of drivers and waiting pickups, live."""

from __future__ import annotations

import asyncio
import math
import re
import struct
import uuid
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
from aiohttp import web
from playwright.async_api import Locator, Page, Request, expect

from dispatch import service as drivers
from dispatch.model import Driver
from subscribers.phones import PhonePlan
from tests.browser.conftest import SERVICE_ENV, Console
from tests.driver_app import AZADI, DriverApp
from tests.support import ServiceProcess

OpenConsole = Callable[..., Awaitable[Console]]
MakeDriver = Callable[..., Awaitable[tuple[Driver, str]]]
VANAK = (35.7575, 51.4100)
NORTH_1KM = 1000 / 111_000
WAIT_MS = 10_000
RECENTLY = re.compile(r"^(just now|\d+ s ago)$")
SCALE_EN = re.compile(r"^\d+(\.\d)? (m|km)$")
SCALE_FA = re.compile(r"^[۰-۹٫.]+ (متر|کیلومتر)$")


@dataclass
class Fleet:
    """Three drivers (one available, one on a break, one never connected) and a van ride none of them can take."""

    ali: Driver
    sara: Driver
    mina: Driver
    apps: dict[str, DriverApp]
    ride: dict[str, Any]

    async def close(self) -> None:
        for app in self.apps.values():
            await app.close()


async def on_the_road(console: Console, make_driver: MakeDriver, db: asyncpg.Pool) -> Fleet:
    ali, ali_token = await make_driver("Ali Karimi")
    await drivers.change_driver(db, ali.id, drivers.driver_fields({"plate": "12ب34567"}, PhonePlan(), creating=False))
    sara, sara_token = await make_driver("Sara Ahmadi")
    mina, _ = await make_driver("Mina Rostami")
    apps = {}
    for name, token, north in (("ali", ali_token, 0.0), ("sara", sara_token, NORTH_1KM)):
        app = await DriverApp.connect(console.http, console.url.replace("http", "ws") + "/ws/driver", token)
        await app.wait_for("state")
        await app.go_online(AZADI[0] + north, AZADI[1])
        apps[name] = app
    assert (await apps["sara"].ask("status", status="on_break"))["type"] == "status"
    # Every driver drives a sedan: nobody can be offered a van, so the ride waits for a driver.
    return Fleet(ali, sara, mina, apps, await book(console, "van", VANAK))


async def book(console: Console, vehicle_class: str, where: tuple[float, float]) -> dict[str, Any]:
    booked = await console.api("POST", "/api/rides", {
        "walk_in_name": "Hasan Walker", "walk_in_phone": "0912 765 4321", "vehicle_class": vehicle_class,
        "pickup": {"text": "Pickup", "lat": where[0], "lng": where[1]}}, headers={"Idempotency-Key": uuid.uuid4().hex})
    ride: dict[str, Any] = booked["ride"]
    return ride


@pytest.fixture
async def fleet_factory() -> AsyncIterator[Callable[..., Awaitable[Fleet]]]:
    made: list[Fleet] = []

    async def make(console: Console, make_driver: MakeDriver, db: asyncpg.Pool) -> Fleet:
        made.append(await on_the_road(console, make_driver, db))
        return made[-1]

    yield make
    for fleet in made:
        await fleet.close()


def row(page: Page, driver: Driver) -> Any:
    return page.locator(f"#page-drivers tr[data-driver-id='{driver.id}']")


def marker(page: Page, layer: str, marker_id: int) -> Any:
    return page.locator(f"#page-drivers .map-marker[data-layer='{layer}'][data-id='{marker_id}']")


def names(page: Page) -> Any:
    return page.locator("#page-drivers tbody td[data-col=name]")


def count(page: Page, key: str) -> Any:
    return page.locator(f"#page-drivers [data-count='{key}'] .n")


async def open_drivers_page(console: Console, requests: list[Request] | None = None) -> Page:
    """Load the console afresh on the drivers page (seeing every request it makes when asked to)."""
    page = console.page
    if requests is not None:
        page.on("request", lambda request: requests.append(request))
    await page.goto(console.url + "/#/drivers")
    await page.wait_for_selector("#page-drivers:not([hidden]) .map")
    await page.wait_for_selector(".live-status[data-status=online]")
    return page


async def test_the_page_counts_lists_and_maps_the_fleet_without_leaving_the_service(
        open_console: OpenConsole, make_driver: MakeDriver, db: asyncpg.Pool,
        fleet_factory: Callable[..., Awaitable[Fleet]]) -> None:
    console = await open_console("operator", lang="en")
    fleet = await fleet_factory(console, make_driver, db)
    requests: list[Request] = []
    page = await open_drivers_page(console, requests)

    for key, expected in {"total": "3", "available": "1", "busy": "0", "on_break": "1", "offline": "1",
                          "unreachable": "0", "pending": "1"}.items():
        await expect(count(page, key)).to_have_text(expected, timeout=WAIT_MS)
    await expect(row(page, fleet.ali).locator("[data-col=plate]")).to_have_text("12 ب 345 - 67")
    await expect(row(page, fleet.ali).locator("[data-col=vehicle_class]")).to_have_text("Sedan")
    await expect(row(page, fleet.ali).locator("[data-col=status]")).to_have_text("Available")
    await expect(row(page, fleet.ali).locator("[data-col=last_seen] .ago")).to_have_text(RECENTLY)
    await expect(row(page, fleet.sara).locator("[data-col=status]")).to_have_text("On a break")
    await expect(row(page, fleet.mina).locator("[data-col=last_seen]")).to_have_text("never")
    # The default order puts the available first and the offline last.
    assert await page.locator("#page-drivers tbody tr").evaluate_all("rows => rows.map(r => r.dataset.status)") == [
        "available", "on_break", "offline"]

    await expect(marker(page, "drivers", fleet.ali.id)).to_have_attribute("data-kind", "available", timeout=WAIT_MS)
    await expect(marker(page, "drivers", fleet.sara.id)).to_have_attribute("data-kind", "on_break", timeout=WAIT_MS)
    await expect(marker(page, "drivers", fleet.mina.id)).to_have_count(0)  # never sent a position
    await expect(marker(page, "pickups", fleet.ride["id"])).to_have_attribute("data-kind", "pickup")
    await expect(page.locator("#page-drivers .map-tile")).to_have_count(0)
    assert await page.locator("#page-drivers .map-grid line").count() > 0
    await expect(page.locator("#page-drivers .map-scale-text")).to_have_text(SCALE_EN)
    await console.screenshot("drivers")

    # Sorting by a column, then filtering to one status from its count.
    await page.click("#page-drivers th button[data-sort=name]")
    await expect(names(page)).to_have_text(["Ali Karimi", "Mina Rostami", "Sara Ahmadi"])
    await page.click("#page-drivers th button[data-sort=name]")
    await expect(names(page)).to_have_text(["Sara Ahmadi", "Mina Rostami", "Ali Karimi"])
    await page.click("#page-drivers [data-count=on_break]")
    await expect(names(page)).to_have_text(["Sara Ahmadi"])
    await expect(marker(page, "drivers", fleet.ali.id)).to_have_count(0)
    await page.click("#page-drivers [data-count=on_break]")
    await page.fill("#page-drivers .drivers-search", "۱۲ب ۳۴")
    await expect(names(page)).to_have_text(["Ali Karimi"])

    service = urlsplit(console.url).netloc
    elsewhere = [r.url for r in requests if urlsplit(r.url).scheme in ("http", "https", "ws", "wss")
                 and urlsplit(r.url).netloc != service]
    assert requests and not elsewhere
    assert not console.page_errors  # type: ignore[attr-defined]


async def test_breaks_going_offline_and_rides_show_live_and_positions_follow_the_poll(
        open_console: OpenConsole, make_driver: MakeDriver, db: asyncpg.Pool,
        fleet_factory: Callable[..., Awaitable[Fleet]]) -> None:
    console = await open_console("operator", lang="en")
    fleet = await fleet_factory(console, make_driver, db)
    page = await open_drivers_page(console)
    await expect(marker(page, "drivers", fleet.ali.id)).to_have_count(1, timeout=WAIT_MS)

    # With the poll cut off, only the websocket can bring the news.
    async def refuse(route: Any) -> None:
        await route.abort()

    await page.route("**/api/drivers/live", refuse)
    await fleet.apps["ali"].ask("status", status="on_break")
    await fleet.apps["sara"].ask("status", status="offline")
    await expect(row(page, fleet.ali)).to_have_attribute("data-status", "on_break", timeout=WAIT_MS)
    await expect(row(page, fleet.sara)).to_have_attribute("data-status", "offline", timeout=WAIT_MS)
    await expect(count(page, "available")).to_have_text("0")
    await expect(count(page, "on_break")).to_have_text("1")
    await expect(count(page, "offline")).to_have_text("2")
    await expect(marker(page, "drivers", fleet.sara.id)).to_have_attribute("data-kind", "offline")
    await console.api("POST", f"/api/rides/{fleet.ride['id']}/cancel", {"reason": "Changed plans"})
    await expect(marker(page, "pickups", fleet.ride["id"])).to_have_count(0, timeout=WAIT_MS)
    await expect(count(page, "pending")).to_have_text("0")
    await page.unroute("**/api/drivers/live", refuse)

    # Positions come by polling: Ali's marker moves once his app reports he has driven north.
    ali = marker(page, "drivers", fleet.ali.id)
    before = await ali.get_attribute("transform")
    await fleet.apps["ali"].send("position", lat=AZADI[0] + 3 * NORTH_1KM, lng=AZADI[1])
    await expect(ali).not_to_have_attribute("transform", before or "", timeout=WAIT_MS)
    assert _translate(await ali.get_attribute("transform"))[1] < _translate(before)[1]  # north is up

    # Ride events show who holds an offer, then who drives the ride; the pickup stops waiting once it is taken.
    app = fleet.apps["ali"]
    await app.ask("status", status="available")
    ride = await book(console, "sedan", (AZADI[0] + 3 * NORTH_1KM, AZADI[1]))
    offer = await app.wait_for("offer", within=10, ride_id=ride["id"])
    await expect(row(page, fleet.ali).locator("[data-col=ride]")).to_have_text(f"offered #{ride['id']}")
    await expect(marker(page, "pickups", ride["id"])).to_have_count(1)
    assert (await app.ask("accept", offer_id=offer["offer_id"]))["type"] == "accepted"
    await expect(row(page, fleet.ali).locator("[data-col=ride]")).to_have_text(f"#{ride['id']} Driver on the way")
    await expect(row(page, fleet.ali)).to_have_attribute("data-status", "busy", timeout=WAIT_MS)
    await expect(count(page, "busy")).to_have_text("1")
    await expect(marker(page, "pickups", ride["id"])).to_have_count(0)
    assert not console.page_errors  # type: ignore[attr-defined]


async def test_the_map_pans_zooms_and_selects_drivers_by_mouse_and_keyboard(
        open_console: OpenConsole, make_driver: MakeDriver, db: asyncpg.Pool,
        fleet_factory: Callable[..., Awaitable[Fleet]]) -> None:
    console = await open_console("operator", lang="en")
    fleet = await fleet_factory(console, make_driver, db)
    page = await open_drivers_page(console)
    ali = marker(page, "drivers", fleet.ali.id)
    await expect(ali).to_have_count(1, timeout=WAIT_MS)
    the_map = page.locator("#page-drivers .map")

    zoom = float(await the_map.get_attribute("data-zoom") or "nan")
    await page.click("#page-drivers .map-controls button[aria-label='Zoom in']")
    await expect(the_map).to_have_attribute("data-zoom", f"{zoom + 1:.2f}")
    box = await the_map.bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.mouse.wheel(0, 250)
    await expect(the_map).to_have_attribute("data-zoom", f"{zoom:.2f}")

    before = _translate(await ali.get_attribute("transform"))
    await page.mouse.move(box["x"] + 100, box["y"] + 100)
    await page.mouse.down()
    await page.mouse.move(box["x"] + 160, box["y"] + 140, steps=6)
    await page.mouse.up()
    after = await _drawn_after(ali, before)
    assert after[0] - before[0] == pytest.approx(60, abs=1) and after[1] - before[1] == pytest.approx(40, abs=1)
    await the_map.focus()
    await page.keyboard.press("ArrowRight")
    moved = await _drawn_after(ali, after)
    assert moved[0] == pytest.approx(after[0] - 80, abs=1)

    # A marker selects its driver's row; a row, reached by keyboard, selects its marker.
    await ali.click()
    await expect(row(page, fleet.ali)).to_have_class("selected")
    await expect(ali).to_have_class("map-marker kind-available selected")
    await row(page, fleet.sara).focus()
    await page.keyboard.press("Enter")
    await expect(marker(page, "drivers", fleet.sara.id)).to_have_class("map-marker kind-on_break selected")
    await expect(row(page, fleet.ali)).not_to_have_class("selected")
    assert not console.page_errors  # type: ignore[attr-defined]


@dataclass
class TileServer:
    """A tile server on localhost: answers every tile with a plain green PNG and notes which were asked for."""

    url: str = ""
    asked: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def template(self) -> str:
        return self.url + "/tiles/{z}/{x}/{y}.png"


class TestWithATileServer:
    @pytest.fixture
    async def tiles(self) -> AsyncIterator[TileServer]:
        server = TileServer()
        tile = _png(256, 256, (206, 232, 206))

        async def serve(request: web.Request) -> web.Response:
            z, x, y = (int(request.match_info[k]) for k in ("z", "x", "y"))
            server.asked.append((z, x, y))
            return web.Response(body=tile, content_type="image/png")

        app = web.Application()
        app.router.add_get("/tiles/{z}/{x}/{y}.png", serve)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        server.url = f"http://127.0.0.1:{port}"
        yield server
        await runner.cleanup()

    @pytest.fixture
    def service(self, start_service: Callable[..., ServiceProcess], tiles: TileServer) -> ServiceProcess:
        return start_service(**SERVICE_ENV, TAXICRM_MAP_TILES_URL=tiles.template)

    async def test_the_map_draws_the_configured_tiles_under_the_markers(
            self, open_console: OpenConsole, tiles: TileServer, make_driver: MakeDriver, db: asyncpg.Pool,
            fleet_factory: Callable[..., Awaitable[Fleet]]) -> None:
        console = await open_console("operator", lang="fa")
        fleet = await fleet_factory(console, make_driver, db)
        page = await open_drivers_page(console)
        await expect(marker(page, "drivers", fleet.ali.id)).to_have_count(1, timeout=WAIT_MS)
        await expect(page.locator("#page-drivers .map-tile").first).to_be_attached(timeout=WAIT_MS)
        await expect(count(page, "total")).to_have_text("۳")
        await expect(page.locator("#page-drivers .map-scale-text")).to_have_text(SCALE_FA)
        # The tile under the centre of Tehran's service area, at the zoom the map settled on, was fetched.
        zoom = max(z for z, _, _ in tiles.asked)
        assert _tile_of(35.70, 51.375, zoom) in {(x, y) for z, x, y in tiles.asked if z == zoom}
        assert 9 <= zoom <= 13
        await expect(page.locator("#page-drivers .map-tile.failed")).to_have_count(0)
        assert not console.page_errors  # type: ignore[attr-defined]


async def _drawn_after(marker: Locator, old: tuple[float, float]) -> tuple[float, float]:
    """The marker's position once the map has moved it from `old`: the map draws on the next animation frame."""
    for _ in range(50):
        now = _translate(await marker.get_attribute("transform"))
        if now != old:
            break
        await asyncio.sleep(0.02)
    return now


def _translate(transform: str | None) -> tuple[float, float]:
    assert transform and transform.startswith("translate(")
    x, y = transform.removeprefix("translate(").removesuffix(")").split()
    return float(x), float(y)


def _tile_of(lat: float, lng: float, zoom: int) -> tuple[int, int]:
    n = 2 ** zoom
    sin = math.sin(math.radians(lat))
    return int((lng + 180) / 360 * n), int((0.5 - math.log((1 + sin) / (1 - sin)) / (4 * math.pi)) * n)


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = zlib.compress((b"\x00" + bytes(rgb) * width) * height)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
