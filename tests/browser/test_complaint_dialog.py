"""The complaint dialog: opened from anywhere in the console, it files a complaint the API then shows."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from callcenter.model import StaffUser
from tests.browser.conftest import Console
from tests.conftest import PASSWORD
from tests.support import log_in

OPEN = "id => import('/console/js/complaint.js').then(m => m.openComplaint({subscriberId: id}))"


async def make_subscriber(console: Console, phone: str = "09121234567") -> dict[str, Any]:
    body = {"name": "Maryam Rezaei", "phones": [{"number": phone}], "addresses": []}
    subscriber: dict[str, Any] = (await console.api("POST", "/api/subscribers", body, status=201))["subscriber"]
    return subscriber


async def test_an_operator_opens_a_complaint_about_a_subscriber_by_keyboard(
        open_console: Callable[..., Awaitable[Console]]) -> None:
    console = await open_console("operator", lang="en")
    page = console.page
    subscriber = await make_subscriber(console)
    dialog = asyncio.create_task(page.evaluate(OPEN, subscriber["id"]))
    await page.wait_for_selector(".dialog .complaint-form")
    assert "subscriber #" in await page.inner_text(".complaint-about")
    # The category list comes from the service, in the console's language; the channel starts at phone.
    options = await page.eval_on_selector_all("select[name=category] option", "os => os.map(o => o.textContent)")
    assert options[1:4] == ["Late pickup", "Driver no-show", "Rude driver"]
    assert await page.input_value("select[name=channel]") == "phone"
    # The category select has the focus: nothing chosen yet, so the dialog says what is missing.
    await console.press("Control+Enter")
    assert await page.inner_text(".complaint-form .form-error") == "Choose the complaint's category."
    await page.select_option("select[name=category]", "driver_no_show")
    assert await page.input_value("select[name=priority]") == "high"  # the category's default
    await console.press("Control+Enter")
    assert await page.inner_text(".complaint-form .form-error") == "Describe what happened."
    await page.focus("textarea[name=description]")
    await console.type("Booked for 8:00, nobody came.")
    await console.press("Control+Enter")

    opened = await asyncio.wait_for(dialog, 10)
    await page.wait_for_selector(".dialog", state="detached")
    toast = await page.wait_for_selector(".toast-ok")
    assert await toast.inner_text() == f"Complaint opened: #{opened['id']}"
    listed = (await console.api("GET", f"/api/complaints?subscriber_id={subscriber['id']}"))["complaints"]
    assert [c["id"] for c in listed] == [opened["id"]]
    assert (listed[0]["category"], listed[0]["priority"], listed[0]["channel"]) == ("driver_no_show", "high", "phone")
    assert listed[0]["description"] == "Booked for 8:00, nobody came." and listed[0]["opened_by"] == console.user.id
    assert not console.page_errors  # type: ignore[attr-defined]


async def test_the_service_s_refusal_is_shown_in_the_dialog_which_stays_open(
        open_console: Callable[..., Awaitable[Console]], make_staff: Callable[..., Awaitable[StaffUser]]) -> None:
    console = await open_console("operator", lang="fa")
    page = console.page
    subscriber = await make_subscriber(console)
    dialog = asyncio.create_task(page.evaluate(OPEN, subscriber["id"]))
    await page.wait_for_selector(".dialog .complaint-form")
    # Persian: the categories' Persian names, right to left.
    assert await page.get_attribute("html", "dir") == "rtl"
    await page.select_option("select[name=category]", "lost_item")
    assert await page.inner_text("select[name=category] option:checked") == "جاماندن وسیله"
    await page.select_option("select[name=priority]", "urgent")
    await page.fill("textarea[name=description]", "کیف مشکی روی صندلی عقب جا مانده است.")
    await console.screenshot("complaint")
    # The subscriber is merged away while the dialog is open: the service refuses, the operator reads why.
    other = await make_subscriber(console, phone="09351112233")
    supervisor = await make_staff("supervisor")
    token = await log_in(console.http, console.url, supervisor.username, PASSWORD)
    console.http.cookie_jar.clear()
    await console.api("POST", f"/api/subscribers/{other['id']}/merge", {"other_id": subscriber["id"]},
                      headers={"Authorization": f"Bearer {token}"})
    await page.click(".complaint-form button[type=submit]")
    error = await page.wait_for_selector(".complaint-form .form-error:not(:empty)")
    assert str(other["id"]) in await error.inner_text()
    assert await page.is_enabled(".complaint-form button[type=submit]")
    await console.press("Escape")
    assert await asyncio.wait_for(dialog, 10) is None
    assert (await console.api("GET", "/api/complaints"))["complaints"] == []
