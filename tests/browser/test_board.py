"""The live board in a real browser: a ride followed live to completion, the unassigned list and a manual
assignment, cancelling and re-routing a ride, against the real service and a real driver websocket."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Locator, Page, expect

from dispatch.model import Driver
from tests.browser.conftest import Console
from tests.driver_app import AZADI, DriverApp

OpenConsole = Callable[..., Awaitable[Console]]
MakeDriver = Callable[..., Awaitable[tuple[Driver, str]]]
LAT, LNG = AZADI
SHARIF = {"text": "Sharif University", "lat": 35.7036, "lng": 51.3516}
# Every browser assertion waits for the page this long: a live update takes milliseconds, a test run shares 2 cores.
LIVE = 10_000


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP session for drivers' apps."""
    async with aiohttp.ClientSession() as session:
        yield session


async def book(console: Console, **extra: Any) -> dict[str, Any]:
    """Book a walk-in's ride at Azadi Square through the API, as another operator's console would."""
    body = {"walk_in_name": "Hasan Walker", "walk_in_phone": "0912 765 4321", "confirm_duplicate": True,
            "pickup": {"text": "Azadi Square", "landmark": "By the tower's west gate", "lat": LAT, "lng": LNG},
            "destination": SHARIF, **extra}
    found = await console.api("POST", "/api/rides", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    ride: dict[str, Any] = found["ride"]
    return ride


async def online(http: aiohttp.ClientSession, console: Console, make_driver: MakeDriver, name: str,
                 north_m: float) -> DriverApp:
    """A driver's app connected, available and `north_m` metres north of Azadi Square."""
    _, token = await make_driver(name)
    app = await DriverApp.connect(http, f"{console.url}/ws/driver", token)
    await app.wait_for("state")
    await app.go_online(LAT + north_m / 111_000, LNG)
    return app


async def on_the_map(console: Console, *names: str) -> None:
    """Wait until these drivers are on the live map, as the operator would see them on the drivers page.

    A position lands with the fleet's next batch (every 150 ms, later on a busy machine); only a driver becoming
    available flushes it at once.
    """
    deadline = asyncio.get_running_loop().time() + LIVE / 1000
    while True:
        fleet = (await console.api("GET", "/api/drivers/live"))["drivers"]
        placed = {d["name"] for d in fleet if d["lat"] is not None}
        if placed.issuperset(names):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{sorted(set(names) - placed)} not on the live map: {fleet}")
        await asyncio.sleep(0.05)


def row(page: Page, ride_id: int, lane: str | None = None) -> Locator:
    """The ride's card on the board (in that lane, when given)."""
    scope = f".lane-{lane} " if lane else ""
    return page.locator(f'{scope}.ride-row[data-ride-id="{ride_id}"]')


async def on_board(console: Console) -> Page:
    await console.press("F2")
    await console.page.wait_for_selector("#page-board:not([hidden]) .board")
    return console.page


async def test_the_board_follows_a_ride_live_from_booking_to_completion(
        open_console: OpenConsole, make_driver: MakeDriver, http: aiohttp.ClientSession) -> None:
    console = await open_console("operator", lang="en")
    page = await on_board(console)
    app = await online(http, console, make_driver, "Reza Karimi", north_m=300)

    ride = await book(console)
    offer = await app.wait_for("offer", within=10)
    assert offer["ride_id"] == ride["id"]
    card = row(page, ride["id"], "waiting")
    await expect(card).to_have_attribute("data-status", "offering", timeout=LIVE)
    await expect(card.locator(".ride-pickup")).to_contain_text("Azadi Square · By the tower's west gate")
    await expect(card.locator(".ride-destination")).to_have_text("Sharif University")
    await expect(card.locator(".customer")).to_contain_text("Hasan Walker")
    await expect(card.locator(".ride-stage")).to_contain_text("offered to Reza Karimi")
    await expect(card.locator(".ride-timer")).to_have_text(re.compile(r"^\d+:\d\d$"))

    assert (await app.ask("accept", offer_id=offer["offer_id"]))["type"] == "accepted"
    card = row(page, ride["id"], "on_the_way")
    await expect(card).to_have_attribute("data-status", "assigned", timeout=LIVE)
    await expect(card.locator(".driver")).to_contain_text("Reza Karimi")
    await expect(card).to_have_attribute("data-age", "ok")

    # Meanwhile other rides fill the board: one another driver takes, one without a position nobody can be
    # found for, one pre-booked for later.
    other_app = await online(http, console, make_driver, "Ali Moradi", north_m=900)
    other = await book(console, walk_in_name="Maryam Sadeghi", walk_in_phone="09351112233",
                       pickup={"text": "Enghelab Square", "lat": 35.7009, "lng": 51.3912})
    other_offer = await other_app.wait_for("offer", within=10)
    assert (await other_app.ask("accept", offer_id=other_offer["offer_id"]))["type"] == "accepted"
    lost = await book(console, walk_in_name="Sara Ahmadi", walk_in_phone="09123334455",
                      pickup={"text": "Narmak, Golbarg St 12"}, destination=None)
    later = await book(console, walk_in_name="Kaveh Rahimi", walk_in_phone="09124445566",
                       pickup_at=(datetime.now(UTC) + timedelta(hours=3)).isoformat())
    for ride_id, lane in ((other["id"], "on_the_way"), (lost["id"], "unassigned"), (later["id"], "prebooked")):
        await expect(row(page, ride_id, lane)).to_have_count(1, timeout=LIVE)
    await expect(row(page, other["id"]).locator(".driver")).to_have_text("Ali Moradi", timeout=LIVE)

    for command, status, lane in (("arrived", "arrived", "arrived"), ("picked_up", "on_board", "on_board")):
        assert (await app.ask(command, ride_id=ride["id"]))["job"]["status"] == status
        await expect(row(page, ride["id"], lane)).to_have_attribute("data-status", status, timeout=LIVE)
    await console.screenshot("board")

    done = await app.ask("completed", ride_id=ride["id"])
    assert done["job"]["status"] == "completed"
    card = row(page, ride["id"], "finished")
    await expect(card).to_have_attribute("data-status", "completed", timeout=LIVE)
    await expect(row(page, ride["id"])).to_have_count(1)  # It left the lanes it passed through.
    fare = done["job"]["fare"]["total_rials"]
    await expect(card.locator(".ride-stage")).to_contain_text(f"{fare:,} IRR")

    # The detail shows each step the board followed, and the offer the driver accepted.
    await card.click()
    detail = page.locator(".ride-detail")
    await expect(detail.locator(".history tbody tr")).to_have_count(6, timeout=LIVE)
    actions = await detail.locator(".history tbody tr").evaluate_all("rows => rows.map(r => r.dataset.step)")
    assert actions == ["book", "offer", "accept", "arrive", "pick_up", "complete"]
    await expect(detail.locator('.offers tr[data-offer-status="accepted"]')).to_contain_text("Reza Karimi")
    await expect(detail.locator(".fare")).to_have_count(2)  # The quote and the fare charged.
    await console.screenshot("board-ride")

    # A complaint about the ride opens over its detail; Escape closes only the dialog on top.
    await detail.locator('button[data-action="complaint"]').click()
    await expect(page.locator('.dialog select[name="category"]')).to_be_visible(timeout=LIVE)
    await expect(page.locator(".dialog")).to_have_count(2)
    await page.keyboard.press("Escape")
    await expect(page.locator(".dialog")).to_have_count(1)
    await expect(detail).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(detail).to_have_count(0)
    assert not console.page_errors  # type: ignore[attr-defined]


async def test_a_ride_nobody_took_is_assigned_by_hand_from_the_nearby_drivers(
        open_console: OpenConsole, make_driver: MakeDriver, http: aiohttp.ClientSession) -> None:
    console = await open_console("operator", lang="en")
    page = await on_board(console)
    app = await online(http, console, make_driver, "Reza Karimi", north_m=300)
    _, token = await make_driver("Ali Moradi")
    resting = await DriverApp.connect(http, f"{console.url}/ws/driver", token)
    await resting.wait_for("state")  # As an app does: its state first, then where it is.
    await resting.send("position", lat=LAT + 700 / 111_000, lng=LNG)
    assert (await resting.ask("status", status="on_break"))["type"] == "status"
    await on_the_map(console, "Reza Karimi", "Ali Moradi")
    ride = await book(console)
    offer = await app.wait_for("offer", within=10)
    assert (await app.ask("decline", offer_id=offer["offer_id"], reason="Going home"))["type"] == "declined"

    # Nobody else is near: the ride lands on the unassigned list, which turns loud.
    card = row(page, ride["id"], "unassigned")
    await expect(card).to_have_attribute("data-status", "unassigned", timeout=LIVE)
    await expect(page.locator(".lane-unassigned")).to_have_class(re.compile(r"\bhas-rides\b"))
    await expect(card.locator(".ride-timer")).to_have_attribute("data-age", re.compile("warn|bad"))

    async with page.expect_response(lambda r: "/nearby-drivers" in r.url) as answered:
        await card.locator('button[data-action="assign"]').click()
    # The dialog's rows are the service's answer: if a driver is missing, this says which side left them out.
    nearby = await (await answered.value).json()
    assert [d["name"] for d in nearby["drivers"]] == ["Reza Karimi", "Ali Moradi"], nearby
    dialog = page.locator(".assign-dialog")
    # Nearest first, each with its distance; the one on a break is listed with why matching passed them over.
    await expect(dialog.locator("tr[data-driver-id]")).to_have_count(2, timeout=LIVE)
    names = await dialog.locator("tbody tr").evaluate_all("rows => rows.map(r => r.cells[0].innerText)")
    assert [n.split(" #")[0] for n in names] == ["Reza Karimi", "Ali Moradi"]
    metres = [int(re.sub(r"\D", "", d)) for d in await dialog.locator(".distance").all_inner_texts()]
    assert 250 <= metres[0] <= 350 and 650 <= metres[1] <= 750, metres
    await expect(dialog.locator("tbody tr").nth(1)).to_contain_text("on a break")
    choice = dialog.locator("tbody tr").nth(0)
    await expect(choice).to_contain_text("available")
    await console.screenshot("board-unassigned")
    await choice.locator("button.assign-driver").click()
    await expect(dialog).to_have_count(0, timeout=LIVE)

    job = await app.wait_for("ride", within=10, event="assigned")
    assert job["job"]["ride_id"] == ride["id"]
    await expect(row(page, ride["id"], "on_the_way")).to_have_attribute("data-status", "assigned", timeout=LIVE)
    await expect(row(page, ride["id"])).to_have_count(1)
    await expect(page.locator(".lane-unassigned")).not_to_have_class(re.compile(r"\bhas-rides\b"))
    history = (await console.api("GET", f"/api/rides/{ride['id']}"))["events"]
    assert history[-1]["action"] == "assign" and history[-1]["actor"] == {"kind": "operator", "id": console.user.id}
    assert not console.page_errors  # type: ignore[attr-defined]


async def test_a_ride_is_rerouted_and_cancelled_with_a_reason_from_the_board_in_persian(
        open_console: OpenConsole) -> None:
    console = await open_console("operator", lang="fa")
    page = await on_board(console)
    assert await page.get_attribute("html", "dir") == "rtl"
    ride = await book(console)  # No driver is online: straight to the unassigned list.
    card = row(page, ride["id"], "unassigned")
    await expect(card).to_have_attribute("data-status", "unassigned", timeout=LIVE)
    await expect(card.locator(".ride-timer")).to_have_text(re.compile(r"^[۰-۹]+:[۰-۹]{2}$"))

    # Change the destination from the ride's detail.
    await card.click()
    detail = page.locator(".ride-detail")
    await detail.locator('button[data-action="route"]').click()
    route = page.locator(".route-dialog")
    await route.locator('input[name="destination.text"]').fill("Tajrish Square")
    await route.locator('input[name="destination.lat"]').fill("۳۵٫۸۰۴۶")  # Persian digits and decimal point.
    await route.locator('input[name="destination.lng"]').fill("51.4336")
    await route.locator("button[type=submit]").click()
    await expect(route).to_have_count(0, timeout=LIVE)
    await expect(card.locator(".ride-destination")).to_have_text("Tajrish Square", timeout=LIVE)
    await expect(detail.locator('.history tr[data-step="change_route"]')).to_contain_text(
        "Sharif University → Tajrish Square", timeout=LIVE)
    changed = (await console.api("GET", f"/api/rides/{ride['id']}"))["ride"]
    assert changed["destination"]["text"] == "Tajrish Square"
    assert (changed["destination"]["lat"], changed["destination"]["lng"]) == (35.8046, 51.4336)
    await page.keyboard.press("Escape")
    await expect(detail).to_have_count(0)

    # Cancel by keyboard: the reason is required.
    await card.focus()
    await page.keyboard.press("c")
    cancel = page.locator(".cancel-dialog")
    await cancel.locator("button[type=submit]").click()
    await expect(cancel.locator(".form-error")).not_to_be_empty()
    assert (await console.api("GET", f"/api/rides/{ride['id']}"))["ride"]["status"] == "unassigned"
    await cancel.locator("textarea").fill("Customer called back: found a car")
    await cancel.locator("button[type=submit]").click()
    await expect(cancel).to_have_count(0, timeout=LIVE)
    card = row(page, ride["id"], "finished")
    await expect(card).to_have_attribute("data-status", "cancelled", timeout=LIVE)
    await expect(card.locator(".ride-stage")).to_contain_text("Customer called back: found a car")
    cancelled = (await console.api("GET", f"/api/rides/{ride['id']}"))["ride"]
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "Customer called back: found a car")
    assert not console.page_errors  # type: ignore[attr-defined]


async def test_the_board_filters_its_rides_and_keeps_pre_bookings_apart(
        open_console: OpenConsole) -> None:
    console = await open_console("operator", lang="en")
    first = await book(console)
    page = await on_board(console)
    await expect(row(page, first["id"])).to_have_count(1, timeout=LIVE)
    second = await book(console, walk_in_name="Maryam Sadeghi", walk_in_phone="09351112233",
                        pickup={"text": "Vanak Square", "lat": 35.7575, "lng": 51.4100})
    await expect(row(page, second["id"])).to_have_count(1, timeout=LIVE)

    await page.keyboard.press("/")
    await page.keyboard.type("vanak")
    await expect(row(page, first["id"])).to_be_hidden()
    await expect(row(page, second["id"])).to_be_visible()
    await page.fill(".board-filter", "0935")  # Part of the walk-in's phone.
    await expect(row(page, second["id"])).to_be_visible()
    await expect(row(page, first["id"])).to_be_hidden()
    await page.fill(".board-filter", "")
    await expect(row(page, first["id"])).to_be_visible()

    # A pre-booking waits in its own lane, counting down to when it goes to dispatch.
    later = await book(console, pickup_at=(datetime.now(UTC) + timedelta(hours=2)).isoformat())
    assert later["status"] == "scheduled"
    card = row(page, later["id"], "prebooked")
    await expect(card.locator(".ride-timer")).to_have_text(re.compile(r"^1:[45]\d:\d\d$"), timeout=LIVE)
    await expect(card.locator(".ride-stage")).to_have_text(re.compile(r"^pickup \d\d:\d\d · to dispatch at \d\d:\d\d$"))
    assert not console.page_errors  # type: ignore[attr-defined]
