"""Rating a ride in a real browser: on the customer page once the trip is over, on the page a rating link opens
(Persian, on a phone, by keyboard), and by an operator from the board's ride detail, who also issues the link."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from playwright.async_api import Browser, Page, expect

from dispatch.model import Driver
from tests.browser.conftest import SCREENSHOTS, Console
from tests.driver_app import AZADI, DriverApp
from tests.support import ServiceProcess

OpenConsole = Callable[..., Awaitable[Console]]
MakeDriver = Callable[..., Awaitable[tuple[Driver, str]]]
LAT, LNG = AZADI
SHARIF = {"text": "Sharif University", "lat": 35.7036, "lng": 51.3516}
PHONE = (390, 844)
LIVE = 10_000


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def driver_app(service: ServiceProcess, make_driver: MakeDriver, http: aiohttp.ClientSession
                     ) -> AsyncIterator[DriverApp]:
    """A driver's app, connected and available 200 m north of Azadi Square."""
    _, token = await make_driver("Hassan Karimi")
    app = await DriverApp.connect(http, service.url + "/ws/driver", token)
    await app.wait_for("state")
    await app.go_online(LAT + 0.002, LNG)
    yield app
    await app.close()


@pytest.fixture
def phone_page(browser: Browser, service: ServiceProcess) -> Callable[..., Awaitable[Page]]:
    """Factory: a phone-sized page at `path` of the service, in the given language."""

    async def open_(path: str, lang: str = "en") -> Page:
        context = await browser.new_context(viewport={"width": PHONE[0], "height": PHONE[1]}, is_mobile=True,
                                            has_touch=True, locale="fa-IR" if lang == "fa" else "en-GB")
        await context.add_init_script(f"localStorage.setItem('taxicrm.lang', '{lang}')")
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.errors = errors  # type: ignore[attr-defined]
        await page.goto(service.url + path)
        return page

    return open_


async def screenshot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        await page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


async def drive(app: DriverApp, ride_id: int) -> None:
    """The driver takes the offered ride to its end."""
    offer = await app.wait_for("offer", within=10, ride_id=ride_id)
    await app.ask("accept", offer_id=offer["offer_id"])
    for step in ("arrived", "picked_up", "completed"):
        reply = await app.ask(step, ride_id=ride_id)
        assert reply["type"] == "ride", reply


async def book_online(service: ServiceProcess, http: aiohttp.ClientSession) -> tuple[int, str]:
    """Book on the customer page's API, as the page does; returns the ride id and its tracking token."""
    async with http.post(service.url + "/api/public/rides", headers={"Idempotency-Key": str(uuid.uuid4())},
                         json={"phone": "0912 765 4321", "pickup": {"text": "Azadi Square", "lat": LAT, "lng": LNG},
                               "destination": SHARIF}) as response:
        booked: dict[str, Any] = await response.json()
        assert response.status == 201, booked
    return booked["ride"]["id"], booked["token"]


async def ratings(db: asyncpg.Pool, ride_id: int) -> list[tuple[int, str | None, str, bool]]:
    rows = await db.fetch("SELECT value, comment, channel, is_current FROM ride_ratings WHERE ride_id = $1 "
                          "ORDER BY id", ride_id)
    return [(r["value"], r["comment"], r["channel"], r["is_current"]) for r in rows]


async def test_the_customer_rates_the_ride_on_the_page_they_followed_it_on(
        phone_page: Callable[..., Awaitable[Page]], service: ServiceProcess, driver_app: DriverApp,
        http: aiohttp.ClientSession, db: asyncpg.Pool) -> None:
    ride_id, token = await book_online(service, http)
    page = await phone_page(f"/book#/ride/{token}")
    await expect(page.locator(".headline")).to_have_attribute("data-ride-status", "offering", timeout=LIVE)
    await expect(page.locator(".rating")).to_be_hidden()  # nothing to rate before the trip is over
    await drive(driver_app, ride_id)
    await expect(page.locator(".headline")).to_have_text("You have arrived. Thank you!", timeout=LIVE)

    box = page.locator(".rating")
    await expect(box.locator("h2")).to_have_text("How was your trip?")
    await box.locator('.star[data-value="4"]').click()
    await expect(box.locator(".star.on")).to_have_count(4)
    await expect(box.locator(".star-word")).to_have_text("Good")
    await box.locator("textarea[name=comment]").fill("Friendly driver, a little late.")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    await box.locator("button.send-rating").click()
    await expect(box.locator(".thanks")).to_be_visible()
    await expect(box.locator(".rated")).to_have_attribute("data-value", "4")
    assert await ratings(db, ride_id) == [(4, "Friendly driver, a little late.", "customer_page", True)]

    # Changed on second thoughts: the later rating counts, the earlier is kept.
    await box.locator("button.change-rating").click()
    await box.locator('.star[data-value="5"]').click()
    await box.locator("textarea[name=comment]").fill("")
    await box.locator("button.send-rating").click()
    await expect(box.locator(".rated")).to_have_attribute("data-value", "5")
    assert await ratings(db, ride_id) == [(4, "Friendly driver, a little late.", "customer_page", False),
                                          (5, None, "customer_page", True)]
    # A reload shows the rating given.
    await page.reload()
    await expect(page.locator(".rating .rated")).to_have_attribute("data-value", "5", timeout=LIVE)
    assert page.errors == []  # type: ignore[attr-defined]


async def test_a_rating_link_opens_a_persian_page_rated_by_keyboard(
        phone_page: Callable[..., Awaitable[Page]], open_console: OpenConsole, driver_app: DriverApp,
        db: asyncpg.Pool) -> None:
    console = await open_console("operator", lang="en")
    body = {"walk_in_name": "Hasan Walker", "walk_in_phone": "0912 765 4321", "confirm_duplicate": True,
            "pickup": {"text": "میدان آزادی", "lat": LAT, "lng": LNG}, "destination": SHARIF}
    ride = (await console.api("POST", "/api/rides", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}))["ride"]
    await drive(driver_app, ride["id"])
    link = await console.api("POST", f"/api/ratings/{ride['id']}/link", status=201)

    page = await phone_page(link["path"], lang="fa")
    await expect(page.locator(".rating-card h2")).to_have_text("سفرتان چطور بود؟", timeout=LIVE)
    assert await page.get_attribute("html", "dir") == "rtl"
    await expect(page.locator(".trip .trip-driver")).to_have_text("Hassan Karimi")
    await expect(page.locator(".trip .from")).to_have_text("میدان آزادی")
    persian_id = str(ride["id"]).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    await expect(page.locator(".trip .ride-no bdi")).to_have_text(f"#{persian_id}")
    # Sending with no stars says what is missing.
    await page.click("button.send-rating")
    await expect(page.locator(".rating-form .form-error")).to_have_text("از ۱ تا ۵ ستاره انتخاب کنید.")
    # By keyboard: the stars take a digit and the arrows.
    await page.locator(".star").first.focus()
    await page.keyboard.press("Digit2")
    await expect(page.locator(".star.on")).to_have_count(2)
    await page.keyboard.press("ArrowLeft")  # right to left: the next star is to the left
    await expect(page.locator(".star.on")).to_have_count(3)
    await expect(page.locator(".star-word")).to_have_text("متوسط")
    await page.keyboard.press("Tab")
    await page.keyboard.type("ماشین تمیز بود")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page.locator(".thanks")).to_contain_text("سپاسگزاریم")
    await screenshot(page, "rate-fa")
    assert await ratings(db, ride["id"]) == [(3, "ماشین تمیز بود", "link", True)]

    await page.click(".lang-switch")
    await expect(page.locator(".rating-card h2")).to_have_text("You rated this trip")
    bad = await phone_page("/rate/f_" + "A" * 38)
    await expect(bad.locator(".form-error")).to_have_text("This link is not valid. The center can send you a new one.",
                                                          timeout=LIVE)
    assert page.errors == [] and bad.errors == []  # type: ignore[attr-defined]


async def test_an_operator_rates_a_ride_from_the_board_on_a_follow_up_call_and_issues_a_link(
        open_console: OpenConsole, driver_app: DriverApp, db: asyncpg.Pool) -> None:
    console = await open_console("operator", lang="en")
    page = console.page
    body = {"walk_in_name": "Hasan Walker", "walk_in_phone": "0912 765 4321", "confirm_duplicate": True,
            "pickup": {"text": "Azadi Square", "lat": LAT, "lng": LNG}, "destination": SHARIF}
    ride = (await console.api("POST", "/api/rides", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}))["ride"]
    await drive(driver_app, ride["id"])
    await console.press("F2")
    card = page.locator(f'.lane-finished .ride-row[data-ride-id="{ride["id"]}"]')
    await expect(card).to_be_visible(timeout=LIVE)
    await card.focus()
    await console.press("Enter")
    rate = page.locator('.ride-detail button[data-action="rate"]')
    await expect(rate).to_be_visible(timeout=LIVE)
    await rate.click()

    dialog = page.locator(".ride-rating")
    await expect(dialog.locator(".rating-current")).to_contain_text("Not rated yet.")
    await console.press("2")  # the stars have the focus
    await expect(dialog.locator(".star.on")).to_have_count(2)
    await dialog.locator("textarea[name=comment]").fill("Says the car smelled of smoke.")
    await console.press("Control+Enter")
    await expect(page.locator(".toast-ok")).to_contain_text("Rating saved.")
    assert await ratings(db, ride["id"]) == [(2, "Says the car smelled of smoke.", "operator", True)]

    await rate.click()
    dialog = page.locator(".ride-rating")
    await expect(dialog.locator(".rating-current .rated")).to_have_attribute("data-value", "2")
    await expect(dialog.locator(".rating-current")).to_contain_text(f"on the phone, to {console.user.display_name}")
    await dialog.locator("button.make-link").click()
    sms = dialog.locator("textarea.sms-text")
    await expect(sms).to_contain_text("/rate/f_")
    text = await sms.input_value()
    assert text.startswith("Thank you for riding with us.") and console.url in text
    assert not console.page_errors  # type: ignore[attr-defined]


async def test_the_customer_reports_a_problem_from_the_page_and_the_rating_link(
        phone_page: Callable[..., Awaitable[Page]], service: ServiceProcess, driver_app: DriverApp,
        open_console: OpenConsole, http: aiohttp.ClientSession, db: asyncpg.Pool) -> None:
    ride_id, token = await book_online(service, http)
    page = await phone_page(f"/book#/ride/{token}")
    await expect(page.locator(".headline")).to_have_attribute("data-ride-status", "offering", timeout=LIVE)
    await expect(page.locator(".report")).to_be_hidden()  # nothing to report before the trip is over
    await drive(driver_app, ride_id)
    box = page.locator(".report")
    await expect(box.locator("h2")).to_have_text("Something went wrong?", timeout=LIVE)
    await box.locator("button.open-report").click()
    # Sending with nothing chosen or written says what is missing.
    await box.locator("button.send-report").click()
    await expect(box.locator(".form-error")).to_have_text("Choose what happened.")
    await box.locator("select[name=report-category]").select_option("fare_dispute")
    await box.locator("button.send-report").click()
    await expect(box.locator(".form-error")).to_have_text("Tell us what happened.")
    await box.locator("textarea[name=report-description]").fill("The fare was twice the estimate.")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    await box.locator("button.send-report").click()
    await expect(box.locator(".thanks")).to_contain_text("We recorded your report as number")
    await expect(box.locator(".report-state")).to_have_text("received")
    row = await db.fetchrow("SELECT id, category, channel, description, opened_by FROM complaints WHERE ride_id = $1",
                            ride_id)
    assert (row["category"], row["channel"], row["description"], row["opened_by"]) == (
        "fare_dispute", "customer_page", "The fare was twice the estimate.", None)
    await expect(box.locator(f'.report[data-report-id="{row["id"]}"]')).to_be_visible()

    # The center takes the case up; the rating link's page (in Persian) shows where it stands.
    console = await open_console("supervisor", lang="en")
    await console.api("POST", f"/api/complaints/{row['id']}/assign", json={"assignee_id": console.user.id})
    link = await console.api("POST", f"/api/ratings/{ride_id}/link", status=201)
    rate = await phone_page(link["path"], lang="fa")
    await expect(rate.locator(".report-card .report-state")).to_have_text("در دست پیگیری", timeout=LIVE)
    await expect(rate.locator(".report-card button.open-report")).to_have_text("گزارش مشکل")
    await screenshot(rate, "report-fa")
    assert page.errors == [] and rate.errors == []  # type: ignore[attr-defined]
