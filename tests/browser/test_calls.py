"""The calls page: the card appears while the phone rings, and a repeat caller's ride is booked by keyboard alone."""

import re
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tests.browser.conftest import Console

HOME = {"text": "Azadi St, No. 12", "label": "home", "landmark": "opposite the bakery", "lat": 35.6997, "lng": 51.338}
WORK = {"text": "Vanak Sq, Negar Tower", "label": "work", "lat": 35.7575, "lng": 51.4098}
PHONE = "09121234567"
E164 = "+989121234567"


async def subscriber(console: Console, name: str = "Maryam Ahmadi", phone: str = PHONE) -> Any:
    created = await console.api("POST", "/api/subscribers", {"name": name, "phones": [{"number": phone}],
                                                           "addresses": [HOME, WORK]}, status=201)
    return created["subscriber"]


async def test_the_card_appears_while_the_phone_rings_and_follows_the_call(
        open_console: Callable[..., Awaitable[Console]]) -> None:
    console = await open_console("operator", lang="en")
    page = console.page
    record = await subscriber(console)
    await console.api("POST", f"/api/subscribers/{record['id']}/notes", {"body": "Needs help with the door",
                                                                        "mood": "elderly"}, status=201)
    await console.api("POST", f"/api/subscribers/{record['id']}/vip", status=200)
    await console.api("POST", "/api/complaints", {"category": "late_pickup", "subscriber_id": record["id"],
                                                  "description": "Waited 25 minutes last Friday"}, status=201)
    call_id = await console.ring("0912 123 4567")
    card = page.locator(".caller-card")
    await card.wait_for()
    assert await card.locator(".subscriber-name").inner_text() == "Maryam Ahmadi"
    assert await card.locator(".caller-number").inner_text() == E164
    assert await card.locator(".badge.vip").is_visible()
    addresses = card.locator(".address")
    assert await addresses.count() == 2
    assert "Azadi St, No. 12" in await addresses.nth(0).inner_text()
    assert "Needs help with the door" in await card.locator(".notes").inner_text()
    complaints = await card.locator(".complaints").inner_text()
    assert "Late pickup" in complaints and "Waited 25 minutes last Friday" in complaints
    assert await card.locator(".call-state").inner_text() == "Ringing"
    await console.screenshot("call-card")
    await console.pbx(event="answered", call_id=call_id, extension=console.user.extension)
    await page.wait_for_function("document.querySelector('.call-state')?.textContent === 'Answered'")
    await console.pbx(event="ended", call_id=call_id, cause="normal")
    await page.wait_for_function("document.querySelector('.call-state')?.textContent === 'Call ended'")


async def test_an_unknown_caller_gets_a_new_subscriber_form_and_a_missed_call_a_call_back(
        open_console: Callable[..., Awaitable[Console]]) -> None:
    console = await open_console("operator", lang="en")
    page = console.page
    call_id = await console.ring("02188776655")
    await page.wait_for_selector("form.new-subscriber")
    assert await page.input_value("input[name=new-phone]") == "+982188776655"
    await page.fill("input[name=new-name]", "Reza Karimi")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("form.booking-form")
    found = await console.api("GET", "/api/subscribers?q=Reza Karimi")
    assert [s["name"] for s in found["subscribers"]] == ["Reza Karimi"]
    await console.pbx(event="ended", call_id=call_id, cause="abandoned")
    callback = page.locator(".callback")
    await callback.wait_for()
    assert "+982188776655" in await callback.inner_text()
    await callback.locator("button").click()
    await page.wait_for_selector(".callbacks .muted")
    assert (await console.api("GET", "/api/calls/callbacks"))["calls"] == []


async def test_a_repeat_callers_usual_ride_is_booked_by_keyboard_alone(
        open_console: Callable[..., Awaitable[Console]]) -> None:
    console = await open_console("operator", lang="en")
    page = console.page
    record = await subscriber(console)
    started = time.monotonic()
    await console.ring(PHONE)
    await page.wait_for_selector(".caller-card")
    await console.press("1")  # pickup: the first saved address
    await page.wait_for_selector("form.booking-form")
    await console.press("2")  # destination: the second saved address
    await page.wait_for_selector(".fare-lines .total-amount")
    await console.screenshot("booking-form")
    await console.press("Enter")
    booked = page.locator(".booked-here")
    await booked.wait_for()
    elapsed = time.monotonic() - started
    assert console.pressed == ["1", "2", "Enter"]
    assert elapsed < 10, elapsed
    rides = (await console.api("GET", f"/api/rides?subscriber_id={record['id']}"))["rides"]
    assert len(rides) == 1
    ride = rides[0]
    assert ride["pickup"]["text"] == HOME["text"] and ride["destination"]["text"] == WORK["text"]
    assert ride["call_id"] is not None and ride["quote"]["total_rials"] > 0

    # The same caller again: the card warns of the ride under way, and booking another needs a confirmation.
    await page.keyboard.press("Escape")
    await console.ring(PHONE)
    warning = page.locator(".caller-card .active-ride")
    await warning.wait_for()
    assert f"#{ride['id']}" in await warning.inner_text()
    await page.keyboard.press("1")
    await page.keyboard.press("Enter")
    error = page.locator(".booking-form .form-error")
    await page.wait_for_function("document.querySelector('.booking-form .form-error')?.textContent.length > 0")
    assert "Press Enter again" in await error.inner_text()
    assert len((await console.api("GET", f"/api/rides?subscriber_id={record['id']}"))["rides"]) == 1
    await page.keyboard.press("Enter")
    await page.locator(".booked-here").wait_for()
    assert len((await console.api("GET", f"/api/rides?subscriber_id={record['id']}"))["rides"]) == 2


async def test_the_persian_console_is_right_to_left_with_jalali_dates_and_ltr_numbers(
        open_console: Callable[..., Awaitable[Console]]) -> None:
    console = await open_console("operator", lang="fa")
    page = console.page
    record = await subscriber(console, name="مریم احمدی")
    await console.api("POST", f"/api/subscribers/{record['id']}/notes", {"body": "زنگ طبقه دوم"}, status=201)
    await console.ring(PHONE)
    card = page.locator(".caller-card")
    await card.wait_for()
    assert await page.get_attribute("html", "dir") == "rtl"
    assert await page.evaluate("getComputedStyle(document.querySelector('.caller-card')).direction") == "rtl"
    # The number stays left to right inside the Persian card.
    assert await card.locator(".caller-number bdi").get_attribute("dir") == "ltr"
    # Dates are Solar Hijri, with Persian digits and month names, in Tehran's time.
    note = await card.locator(".notes").inner_text()
    assert re.search(r"[۰-۹]{4}", note), note
    assert re.search("فروردین|اردیبهشت|خرداد|تیر|مرداد|شهریور|مهر|آبان|آذر|دی|بهمن|اسفند", note), note
    assert await page.locator("nav.tabs a.active").inner_text() == "تماس‌هاF۱"
    await console.screenshot("call-card-fa")


async def test_the_console_recovers_after_the_service_restarts_without_a_page_reload(
        open_console: Callable[..., Awaitable[Console]]) -> None:
    console = await open_console("operator", lang="en")
    page = console.page
    await subscriber(console)
    await page.evaluate("window.__sameDocument = true")
    service = console.service
    assert service.log_path is not None
    service.stop(signal.SIGTERM)
    await page.wait_for_selector(".offline-banner:not([hidden])")
    await page.wait_for_selector(".live-status[data-status=offline]")
    service.start(service.log_path.parent)
    await page.wait_for_selector(".live-status[data-status=online]", timeout=30_000)
    assert await page.is_hidden(".offline-banner")
    assert await page.evaluate("window.__sameDocument") is True
    # Live events flow again: a call rings on the same page.
    await console.ring(PHONE)
    await page.locator(".caller-card .subscriber-name").wait_for()


async def test_a_ride_for_later_is_booked_on_the_persian_calendar_in_tehrans_time(
        open_console: Callable[..., Awaitable[Console]]) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    tehran = ZoneInfo("Asia/Tehran")
    console = await open_console("operator", lang="fa")
    page = console.page
    record = await subscriber(console, name="مریم احمدی")
    await console.ring(PHONE)
    await page.wait_for_selector(".caller-card")
    await page.keyboard.press("1")
    await page.select_option("select[name=when]", "later")
    grid = page.locator(".month-grids")
    await grid.wait_for()
    # Solar Hijri months, weeks from Saturday (شنبه), Persian digits.
    assert await grid.locator(".month thead th").first.inner_text() == "ش"
    captions = await grid.locator("caption").all_inner_texts()
    assert all(re.search("فروردین|اردیبهشت|خرداد|تیر|مرداد|شهریور|مهر|آبان|آذر|دی|بهمن|اسفند", c) for c in captions)
    tomorrow = (datetime.now(tehran) + timedelta(days=1)).date()
    await grid.locator(f"button[data-date='{tomorrow.isoformat()}']").click()
    await page.fill("input[name=pickup_at_time]", "14:30")
    await page.locator("input[name=pickup_at_time]").dispatch_event("change")
    await console.screenshot("booking-later-fa")
    await page.locator("form.booking-form button[type=submit]").click()
    await page.wait_for_function("document.querySelector('.booked-here') || "
                                 "document.querySelector('.booking-form .form-error')?.textContent")
    assert await page.locator(".booked-here").count() == 1, await page.locator(".form-error").inner_text()
    ride = (await console.api("GET", f"/api/rides?subscriber_id={record['id']}"))["rides"][0]
    assert ride["status"] == "scheduled"
    booked_for = datetime.fromisoformat(ride["pickup_at"]).astimezone(tehran)
    assert (booked_for.date(), booked_for.hour, booked_for.minute) == (tomorrow, 14, 30)
