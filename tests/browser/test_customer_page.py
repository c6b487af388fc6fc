"""The customer page (/book) on a phone: book a taxi, then follow the driver, the car and the ride live."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from playwright.async_api import Browser, Page, WebSocketRoute, expect

from dispatch import service as drivers
from dispatch.model import Driver
from subscribers.phones import PhonePlan
from tests.browser.conftest import SCREENSHOTS
from tests.driver_app import AZADI, DriverApp
from tests.support import ServiceProcess

MakeDriver = Callable[..., Awaitable[tuple[Driver, str]]]
PHONE = (390, 844)  # An everyday phone's viewport, in CSS pixels.
LAT, LNG = AZADI
CAR = {"plate": "12 ب 345 ایران 67", "vehicle_make": "Iran Khodro", "vehicle_model": "Samand",
       "vehicle_colour": "White", "phone": "0935 111 2233", "licence_number": "5566778899"}
# Live news must reach the page well before its slowest reload (15 s while the car moves).
LIVE_WITHIN_MS = 5000


async def screenshot(page: Page, name: str) -> None:
    """Save the screen as <TAXICRM_SCREENSHOTS>/<name>.png when that folder is set."""
    if SCREENSHOTS:  # Playwright makes the folder; the whole page, as a phone user scrolls it.
        await page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture
async def phone_page(browser: Browser, service: ServiceProcess) -> Callable[[str], Awaitable[Page]]:
    """Factory: the customer page in a phone-sized browser standing at Azadi Square, in the given language."""

    async def open_(lang: str = "en") -> Page:
        context = await browser.new_context(
            viewport={"width": PHONE[0], "height": PHONE[1]}, is_mobile=True, has_touch=True,
            locale="fa-IR" if lang == "fa" else "en-GB", geolocation={"latitude": LAT, "longitude": LNG},
            permissions=["geolocation"])
        await context.add_init_script(f"localStorage.setItem('taxicrm.lang', '{lang}')")
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.errors = errors  # type: ignore[attr-defined]
        await page.goto(service.url + "/book")
        await page.wait_for_selector(".book-form")
        return page

    return open_


@pytest.fixture
async def driver_app(service: ServiceProcess, db: asyncpg.Pool, make_driver: MakeDriver) -> AsyncIterator[DriverApp]:
    """A driver with a white Samand, connected, available and 400 m north of Azadi Square."""
    driver, token = await make_driver("Hassan Karimi")
    await drivers.change_driver(db, driver.id, drivers.driver_fields(CAR, PhonePlan(), creating=False))
    async with aiohttp.ClientSession() as session:
        app = await DriverApp.connect(session, service.url + "/ws/driver", token)
        await app.wait_for("state")
        await app.go_online(LAT + 400 / 111_000, LNG)
        yield app
        await app.close()


async def fill_in_a_trip(page: Page, *, phone: str, pickup: str = "Azadi Square, north gate",
                         destination: str = "Tajrish Square") -> None:
    """Type both addresses, take the pickup from the phone's location and tap the destination on the map."""
    await page.fill("input[name=pickup]", pickup)
    await page.click(".place-pickup .locate")
    await expect(page.locator(".place-pickup .pin-status.ok")).to_be_visible()
    await page.fill("input[name=destination]", destination)
    await page.click(".place-destination .pick")
    box = await page.locator(".book-map .map-svg").bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + box["width"] / 2 + 20, box["y"] + box["height"] / 2 - 60)
    await expect(page.locator(".place-destination .pin-status.ok")).to_be_visible()
    await page.fill("input[name=phone]", phone)


async def test_a_customer_books_on_a_phone_and_follows_the_ride_live_to_the_end(
        phone_page: Callable[[str], Awaitable[Page]], driver_app: DriverApp, db: asyncpg.Pool) -> None:
    page = await phone_page("en")
    await expect(page.locator("html")).to_have_attribute("dir", "ltr")
    await fill_in_a_trip(page, phone="0912 765 4321")
    await page.fill("input[name=name]", "Sara")
    await expect(page.locator(".quote .quote-total")).to_contain_text("IRR")
    await expect(page.locator(".quote")).to_contain_text("min")
    assert await page.locator(".map-marker.kind-pickup").count() == 1
    assert await page.locator(".map-marker.kind-destination").count() == 1
    # Nothing wider than the phone: no sideways scrolling.
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    await page.evaluate("window.scrollTo(0, 0)")
    await screenshot(page, "customer-book")

    await page.click("button.confirm")
    await expect(page.locator(".headline")).to_have_attribute("data-ride-status", "offering")
    assert "#/ride/r_" in page.url
    ride = await db.fetchrow("SELECT id, pickup_text, destination_text, walk_in_name, walk_in_phone, pickup_lat "
                             "FROM rides")
    assert (ride["pickup_text"], ride["destination_text"], ride["walk_in_name"], ride["walk_in_phone"]) == (
        "Azadi Square, north gate", "Tajrish Square", "Sara", "+989127654321")
    assert ride["pickup_lat"] == pytest.approx(LAT)
    await expect(page.locator(".live-note")).to_have_attribute("data-live", "online")

    offer = await driver_app.wait_for("offer")
    await driver_app.ask("accept", offer_id=offer["offer_id"])
    await expect(page.locator(".headline")).to_have_attribute("data-ride-status", "assigned", timeout=LIVE_WITHIN_MS)
    await expect(page.locator(".headline")).to_have_text("Your driver is on the way")
    await expect(page.locator(".driver-name")).to_have_text("Hassan Karimi")
    await expect(page.locator(".car-model")).to_have_text("Iran Khodro Samand")
    await expect(page.locator(".car-colour")).to_have_text("White")
    await expect(page.locator(".plate")).to_have_text("12 ب 345 - 67")
    # 400 m at 25 km/h by the road factor: about a minute away.
    await expect(page.locator(".eta[data-to=pickup]")).to_contain_text("Arrives in about 1 min")
    await expect(page.locator(".map-marker.kind-car")).to_have_count(1)
    text = await page.locator("body").inner_text()
    assert "0935" not in text and "5566778899" not in text
    await screenshot(page, "customer-follow")

    for step, status, words in (("arrived", "arrived", "Your driver is at the pickup"),
                                ("picked_up", "on_board", "On your way"),
                                ("completed", "completed", "You have arrived. Thank you!")):
        await driver_app.ask(step, ride_id=ride["id"])
        await expect(page.locator(".headline")).to_have_attribute("data-ride-status", status, timeout=LIVE_WITHIN_MS)
        await expect(page.locator(".headline")).to_have_text(words)
    await expect(page.locator(".route")).to_contain_text("Fare")
    await expect(page.locator("button.cancel")).to_have_count(0)
    await page.click("button.again")
    await expect(page.locator(".book-form")).to_be_visible()
    # The number and name are remembered for the next ride.
    await expect(page.locator("input[name=phone]")).to_have_value("0912 765 4321")
    assert page.errors == []  # type: ignore[attr-defined]


async def test_the_persian_page_is_right_to_left_with_numbers_left_to_right(
        phone_page: Callable[[str], Awaitable[Page]], driver_app: DriverApp) -> None:
    page = await phone_page("fa")
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await expect(page.locator("button.confirm")).to_have_text("درخواست تاکسی")
    assert await page.evaluate("getComputedStyle(document.querySelector('.book-form')).direction") == "rtl"
    assert await page.evaluate("getComputedStyle(document.querySelector('input[name=phone]')).direction") == "ltr"
    # The pickup field sits on the right, as Persian reads.
    form = await page.locator(".book-form").bounding_box()
    label = await page.locator(".place-pickup label").bounding_box()
    assert form is not None and label is not None
    assert abs((label["x"] + label["width"]) - (form["x"] + form["width"])) < 20

    # A landline, typed in Persian digits.
    await fill_in_a_trip(page, phone="۰۲۱ ۸۸۰۰ ۱۱۲۲", pickup="میدان آزادی، درِ شمالی", destination="میدان تجریش")
    await expect(page.locator(".quote .quote-total")).to_contain_text("ریال")
    await page.click("button.confirm")
    await expect(page.locator(".book-form .form-error")).to_contain_text("شمارهٔ همراه وارد کنید")
    await page.fill("input[name=phone]", "۰۹۱۲ ۷۶۵ ۴۳۲۱")
    await page.evaluate("window.scrollTo(0, 0)")
    await screenshot(page, "customer-book-fa")
    await page.click("button.confirm")
    await expect(page.locator(".headline")).to_have_text("در جستجوی راننده…")

    offer = await driver_app.wait_for("offer")
    await driver_app.ask("accept", offer_id=offer["offer_id"])
    await expect(page.locator(".headline")).to_have_text("راننده در راه است", timeout=LIVE_WITHIN_MS)
    await expect(page.locator(".eta")).to_contain_text("۱ دقیقه")
    plate = page.locator(".plate")
    await expect(plate).to_have_text("12 ب 345 - 67")
    # Laid out left to right as on the car, not with the digits after the letter run right to left.
    parts = await plate.evaluate("el => [...el.children].map(p => [p.textContent, p.getBoundingClientRect().x])")
    assert [text for text, _ in sorted(parts, key=lambda part: part[1])] == ["12", "ب", "345", "-", "67"]
    assert await page.locator(".ride-no bdi").evaluate("el => el.dir") == "ltr"
    await screenshot(page, "customer-follow-fa")
    assert page.errors == []  # type: ignore[attr-defined]


async def test_the_customer_cancels_from_the_page_and_a_reload_keeps_following(
        phone_page: Callable[[str], Awaitable[Page]], driver_app: DriverApp) -> None:
    page = await phone_page("en")
    await fill_in_a_trip(page, phone="0912 765 4321")
    await page.click("button.confirm")
    offer = await driver_app.wait_for("offer")
    await driver_app.ask("accept", offer_id=offer["offer_id"])
    await expect(page.locator(".headline")).to_have_attribute("data-ride-status", "assigned", timeout=LIVE_WITHIN_MS)

    await page.goto(page.url.split("#")[0])  # The bare page again: it remembers the ride being followed.
    await expect(page.locator(".driver-name")).to_have_text("Hassan Karimi")
    await page.click("button.cancel")
    await page.click(".cancel-dialog button.danger")
    await expect(page.locator(".headline")).to_have_text("The ride was cancelled")
    await expect(page.locator(".ride-state")).to_contain_text("You cancelled it.")
    await expect(page.locator(".driver")).to_be_hidden()
    told = await driver_app.wait_for("ride", event="cancelled")
    assert told["job"]["ride_id"] == offer["ride_id"]


async def test_the_page_polls_when_its_live_connection_is_down(
        phone_page: Callable[[str], Awaitable[Page]], driver_app: DriverApp) -> None:
    page = await phone_page("en")

    async def refuse(ws: WebSocketRoute) -> None:
        await ws.close(code=1011)

    await page.route_web_socket("**/ws/rider**", refuse)
    await fill_in_a_trip(page, phone="0912 765 4321")
    await page.click("button.confirm")
    await expect(page.locator(".live-note")).to_have_text("Updating every few seconds…")
    offer = await driver_app.wait_for("offer")
    await driver_app.ask("accept", offer_id=offer["offer_id"])
    # No live news at all: the next poll (every 4 s) brings the driver.
    await expect(page.locator(".driver-name")).to_have_text("Hassan Karimi", timeout=10_000)
