"""The complaints page in a real browser: the queue of cases with SLA countdowns, filters and live updates, and a
case worked from its dialog by keyboard (assign, resolve, comment) with its evidence drawn from a real trip."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
import pytest
from playwright.async_api import Page, expect

from dispatch import service as drivers
from dispatch.model import Driver
from tests.browser.conftest import Console
from tests.driver_app import AZADI, DriverApp

OpenConsole = Callable[..., Awaitable[Console]]
MakeDriver = Callable[..., Awaitable[tuple[Driver, str]]]
LAT, LNG = AZADI
SHARIF = {"text": "Sharif University", "lat": 35.7036, "lng": 51.3516}
LIVE = 10_000


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def completed_trip(console: Console, http: aiohttp.ClientSession, make_driver: MakeDriver,
                         name: str = "Reza Karimi") -> tuple[dict[str, Any], Driver]:
    """A ride booked on the phone and driven to its end by a real driver's app, with its GPS trace."""
    driver, token = await make_driver(name)
    app = await DriverApp.connect(http, f"{console.url}/ws/driver", token)
    await app.wait_for("state")
    await app.go_online(LAT + 0.002, LNG)
    body = {"walk_in_name": "Hasan Walker", "walk_in_phone": "0912 765 4321", "confirm_duplicate": True,
            "pickup": {"text": "Azadi Square", "lat": LAT, "lng": LNG}, "destination": SHARIF}
    ride = (await console.api("POST", "/api/rides", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}))["ride"]
    offer = await app.wait_for("offer", within=10)
    await app.ask("accept", offer_id=offer["offer_id"])
    await app.ask("arrived", ride_id=ride["id"])
    await app.ask("picked_up", ride_id=ride["id"])
    start = datetime.now(UTC) - timedelta(minutes=6)
    # A detour east before turning north: the kind of trace a "wrong route" complaint is about.
    path = [(LAT, LNG + 0.004 * n) for n in range(5)] + [(LAT + 0.001 * n, LNG + 0.016) for n in range(1, 5)]
    path += [(SHARIF["lat"], SHARIF["lng"])]
    trace = [{"lat": lat, "lng": lng, "at": (start + timedelta(seconds=30 * i)).isoformat(), "accuracy": 8}
             for i, (lat, lng) in enumerate(path)]
    reply = await app.ask("completed", ride_id=ride["id"], trace=trace)
    assert reply["job"]["status"] == "completed", reply
    await app.close()
    return ride, driver


async def open_case(console: Console, **body: Any) -> dict[str, Any]:
    found = await console.api("POST", "/api/complaints", json={"category": "rude_driver",
                                                               "description": "The driver was rude.", **body})
    complaint: dict[str, Any] = found["complaint"]
    return complaint


async def on_cases(console: Console) -> Page:
    await console.press("F5")
    await console.page.wait_for_selector("#page-complaints:not([hidden]) .cases-table")
    return console.page


def case_row(page: Page, case_id: int) -> Any:
    return page.locator(f'.case-row[data-case-id="{case_id}"]')


async def test_a_supervisor_works_a_case_from_the_queue_to_its_resolution(
        open_console: OpenConsole, make_driver: MakeDriver, http: aiohttp.ClientSession, db: asyncpg.Pool) -> None:
    operator = await open_console("operator", lang="en")
    ride, driver = await completed_trip(operator, http, make_driver)
    about_ride = await open_case(operator, category="wrong_route", ride_id=ride["id"], priority="high",
                                 description="He drove east for 2 km before turning north.")
    late = await open_case(operator, priority="urgent", description="Waited 30 minutes for nobody.")
    praise = await open_case(operator, category="courteous_driver", description="Helped with my luggage.")
    # As if 20 minutes had passed since the urgent case came in with nobody answering it.
    await db.execute("UPDATE complaints SET first_response_due = now() - interval '5 minutes' WHERE id = $1",
                     late["id"])

    console = await open_console("supervisor", lang="en")
    page = await on_cases(console)
    rows = page.locator(".case-row")
    await expect(rows).to_have_count(3, timeout=LIVE)
    # The overdue case heads the queue, marked, its clock counting up; the others count down.
    await expect(rows.first).to_have_attribute("data-case-id", str(late["id"]))
    await expect(case_row(page, late["id"])).to_have_attribute("data-overdue", "true")
    await expect(case_row(page, late["id"]).locator(".case-sla")).to_contain_text("First response: overdue by 5:0")
    await expect(case_row(page, about_ride["id"]).locator(".case-sla")).to_contain_text("First response: due in 59:")
    await expect(case_row(page, praise["id"]).locator(".case-sla")).to_have_text("no clock")
    await expect(page.locator(".cases-count")).to_have_text("3 cases · 1 overdue")
    await expect(case_row(page, about_ride["id"])).to_contain_text("Reza Karimi")

    await page.check("input[name=filter-overdue]")
    await expect(rows).to_have_count(1)
    await page.uncheck("input[name=filter-overdue]")
    await page.select_option("select[name=filter-kind]", "praise")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-kind", "praise")
    await page.select_option("select[name=filter-kind]", "")
    await expect(rows).to_have_count(3)
    # Live: a case opened elsewhere joins the queue without a reload.
    fresh = await open_case(operator, category="lost_item", description="Left a black umbrella.")
    await expect(case_row(page, fresh["id"])).to_be_visible(timeout=LIVE)
    await console.screenshot("complaints")

    # By keyboard: to the case, open it, assign it, resolve it, comment.
    await case_row(page, about_ride["id"]).focus()
    await console.press("Enter")
    view = page.locator(f'.case-view[data-case-id="{about_ride["id"]}"]')
    await expect(view.locator(".case-head .case-status")).to_have_text("New", timeout=LIVE)
    evidence = view.locator(".evidence")
    await expect(evidence.locator(".trace-svg polyline")).to_have_count(1, timeout=LIVE)
    points = await evidence.locator(".trace-line").get_attribute("points")
    assert points is not None and len(points.split()) == 10
    await expect(evidence.locator(".ev-history tr[data-step]")).to_have_count(6)
    await expect(evidence.locator(".ev-offers tbody tr")).to_have_count(1)
    await expect(evidence.locator(".ev-fare").first.locator(".fare-line").first).to_be_visible()
    await expect(evidence.locator(".ev-driver-name")).to_have_text("Reza Karimi")
    await expect(evidence.locator(".ev-call")).to_have_count(0)  # booked without a call
    await console.screenshot("case")

    await page.locator(".case-view h4").first.click()  # somewhere that is not a field
    await console.press("KeyA")
    await expect(view.locator('.step-form[data-step="assign"]')).to_be_visible()
    await page.select_option('.step-form select[name=assignee]', str(operator.user.id))
    await console.press("Control+Enter")
    await expect(view.locator(".case-head .case-status")).to_have_text("Assigned", timeout=LIVE)
    await expect(view.locator('.case-events li[data-kind="assigned"]')).to_contain_text(operator.user.display_name)
    await expect(view.locator('.case-clock[data-clock="first_response"]')).to_have_attribute("data-state", "met")

    await page.locator(".case-view h4").first.click()
    await console.press("KeyR")
    # The driver suspension is an admin's outcome: a supervisor is not offered it.
    outcomes = await page.eval_on_selector_all(".step-form select[name=outcome] option", "os => os.map(o => o.value)")
    assert outcomes == ["", "no_action", "warning", "refund"]
    await page.select_option('.step-form select[name=outcome]', "warning")
    await page.fill('.step-form textarea[name=outcome-note]', "Warned in writing.")
    await page.focus('.step-form textarea[name=step-comment]')
    await console.type("Driver admits the detour.")
    await console.press("Control+Enter")
    await expect(view.locator(".case-head .case-status")).to_have_text("Resolved", timeout=LIVE)
    outcome = view.locator('.case-events li[data-kind="outcome_set"]')
    await expect(outcome).to_contain_text("Warning — Warned in writing.")

    await page.locator(".case-view h4").first.click()
    await console.press("KeyC")
    await console.type("Customer told of the outcome.")
    await console.press("Control+Enter")
    comment = view.locator('.case-events li[data-kind="commented"]')
    await expect(comment).to_contain_text("Customer told of the outcome.")
    shown = await console.api("GET", f"/api/complaints/{about_ride['id']}")
    assert (shown["complaint"]["status"], shown["complaint"]["outcome"]) == ("resolved", "warning")
    assert [e["kind"] for e in shown["events"]] == ["opened", "assigned", "status_changed", "outcome_set", "commented"]
    await console.press("Escape")
    # Resolved, the case leaves the queue of open cases.
    await expect(case_row(page, about_ride["id"])).to_have_count(0, timeout=LIVE)
    assert (await drivers.driver_profile(db, driver.id)).status.value == "active"
    assert not console.page_errors  # type: ignore[attr-defined]


async def test_an_admin_suspends_the_driver_from_a_persian_case_and_operators_follow_it_live(
        open_console: OpenConsole, make_driver: MakeDriver, http: aiohttp.ClientSession, db: asyncpg.Pool) -> None:
    operator = await open_console("operator", lang="fa")
    ride, driver = await completed_trip(operator, http, make_driver, name="Ali Rahimi")
    case = await open_case(operator, category="unsafe_driving", ride_id=ride["id"],
                           description="با سرعت ۱۲۰ در اتوبان همت.")
    admin = await open_console("admin", lang="fa")
    operator_page = await on_cases(operator)
    await expect(case_row(operator_page, case["id"])).to_be_visible(timeout=LIVE)

    page = await on_cases(admin)
    assert await page.get_attribute("html", "dir") == "rtl"
    await expect(page.locator("#page-complaints h2")).to_have_text("شکایت‌ها و قدردانی‌ها")
    await page.goto(f"{admin.url}/#/complaints/{case['id']}")
    view = page.locator(f'.case-view[data-case-id="{case["id"]}"]')
    await expect(view.locator(".case-head .case-status")).to_have_text("تازه", timeout=LIVE)
    persian_id = str(case["id"]).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    await expect(view.locator(".case-id").first).to_have_text(f"#{persian_id}")
    await expect(view.locator(".trace-svg")).to_be_visible(timeout=LIVE)
    await view.locator('button[data-action="resolved"]').click()
    await page.select_option('.step-form select[name=outcome]', "driver_suspended")
    await page.fill('.step-form textarea[name=outcome-note]', "رانندگی پرخطر با مسافر.")
    await page.click(".step-form button[type=submit]")
    await expect(view.locator(".case-head .case-status")).to_have_text("رسیدگی‌شده", timeout=LIVE)
    await expect(view.locator(".badge.suspension")).to_contain_text("راننده تعلیق شد")
    await expect(view.locator('.ev-driver[data-driver-status="suspended"]')).to_be_visible(timeout=LIVE)
    profile = await drivers.driver_profile(db, driver.id)
    assert profile.status.value == "suspended" and "رانندگی پرخطر" in (profile.suspended_reason or "")
    # The operator's queue of open cases drops it as it happens.
    await expect(case_row(operator_page, case["id"])).to_have_count(0, timeout=LIVE)
    assert not admin.page_errors and not operator.page_errors  # type: ignore[attr-defined]


async def test_an_operator_works_only_the_cases_assigned_to_them(open_console: OpenConsole) -> None:
    console = await open_console("operator", lang="en")
    supervisor = await open_console("supervisor", lang="en")
    theirs = await open_case(supervisor)
    mine = await open_case(supervisor, category="late_pickup")
    await supervisor.api("POST", f"/api/complaints/{mine['id']}/assign", json={"assignee_id": console.user.id})
    page = await on_cases(console)
    await page.check("input[name=filter-mine]")
    await expect(page.locator(".case-row")).to_have_count(1, timeout=LIVE)
    await expect(page.locator(".case-row").first).to_have_attribute("data-case-id", str(mine["id"]))
    await page.uncheck("input[name=filter-mine]")

    await case_row(page, theirs["id"]).click()
    view = page.locator(f'.case-view[data-case-id="{theirs["id"]}"]')
    await expect(view.locator(".case-head .case-status")).to_have_text("New", timeout=LIVE)
    await expect(view.locator('button[data-action="assign"]')).to_have_count(0)
    await expect(view).to_contain_text("Only a supervisor, an admin or the assignee moves this case along")
    await console.press("Escape")

    await case_row(page, mine["id"]).click()
    view = page.locator(f'.case-view[data-case-id="{mine["id"]}"]')
    await view.locator('button[data-action="pending"]').click()
    await page.fill(".step-form textarea[name=step-comment]", "Waiting for the driver to call back.")
    await page.click(".step-form button[type=submit]")
    await expect(view.locator(".case-head .case-status")).to_have_text("Pending", timeout=LIVE)
    assert not console.page_errors  # type: ignore[attr-defined]


async def test_a_supervisor_re_triages_a_misfiled_case_by_keyboard(open_console: OpenConsole) -> None:
    operator = await open_console("operator", lang="en")
    case = await open_case(operator, description="Waited 25 minutes at the door.")
    console = await open_console("supervisor", lang="en")
    page = await on_cases(console)
    await case_row(page, case["id"]).click()
    view = page.locator(f'.case-view[data-case-id="{case["id"]}"]')
    await expect(view.locator(".case-head .case-priority")).to_have_text("Normal", timeout=LIVE)
    await page.locator(".case-view h4").first.click()
    await console.press("KeyT")
    form = view.locator('.step-form[data-step="triage"]')
    await expect(form).to_be_visible()
    # Only complaint categories are offered for a complaint, the current one chosen.
    await expect(form.locator("select[name=category]")).to_have_value("rude_driver")
    offered = await form.locator("select[name=category] option").evaluate_all("os => os.map(o => o.value)")
    assert "late_pickup" in offered and "courteous_driver" not in offered
    await form.locator("select[name=category]").select_option("late_pickup")
    await form.locator("select[name=priority]").select_option("high")
    await form.locator("textarea[name=triage-comment]").fill("It was about the wait, not the driver.")
    await console.press("Control+Enter")
    await expect(view.locator(".case-head .case-priority")).to_have_text("High", timeout=LIVE)
    entry = view.locator('.case-events li[data-kind="triaged"]')
    await expect(entry).to_contain_text("re-triaged: Late pickup · High")
    await expect(entry).to_contain_text("It was about the wait, not the driver.")
    await expect(view.locator(".case-facts")).to_contain_text("Late pickup")
    await console.press("Escape")
    await expect(case_row(page, case["id"])).to_contain_text("Late pickup")
    shown = await console.api("GET", f"/api/complaints/{case['id']}")
    assert (shown["complaint"]["category"], shown["complaint"]["priority"]) == ("late_pickup", "high")
    assert not console.page_errors  # type: ignore[attr-defined]
