"""The subscriber page: search as you type, one subscriber's record edited in place, duplicates and their merge."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from tests.browser.conftest import Console

OpenConsole = Callable[..., Awaitable[Console]]


async def _subscriber(console: Console, name: str, number: str, *addresses: dict[str, str]) -> dict[str, Any]:
    body = {"name": name, "phones": [{"number": number}], "addresses": list(addresses)}
    subscriber: dict[str, Any] = (await console.api("POST", "/api/subscribers", body, status=201))["subscriber"]
    return subscriber


async def _record(console: Console, subscriber_id: int) -> dict[str, Any]:
    record: dict[str, Any] = (await console.api("GET", f"/api/subscribers/{subscriber_id}"))["subscriber"]
    return record


async def test_an_operator_finds_a_subscriber_by_persian_digits_and_edits_the_record(open_console: OpenConsole
                                                                                     ) -> None:
    console = await open_console("operator", lang="fa")
    page = console.page
    maryam = await _subscriber(console, "مریم رضایی", "0912 123 4567",
                               {"text": "خیابان ولیعصر، پلاک ۱۲", "label": "خانه"},
                               {"text": "میدان آزادی، برج اداری", "label": "کار"})
    await _subscriber(console, "حسن کریمی", "0935 999 8877")  # Must not match the search below.
    home, work = (next(a for a in maryam["addresses"] if a["label"] == label) for label in ("خانه", "کار"))
    booking = {"subscriber_id": maryam["id"], "pickup": {"address_id": home["id"]}}
    ride = (await console.api("POST", "/api/rides", booking, status=201,
                              headers={"Idempotency-Key": uuid.uuid4().hex}))["ride"]

    # Search by a fragment of the number typed in Persian digits; arrows and Enter open the match.
    await console.press("F4")
    await page.wait_for_selector("#page-subscribers:not([hidden]) .subs-search:focus")
    await console.type("۲۳۴۵۶")
    hits = page.locator(".subs-results [role=option]")
    await hits.first.wait_for()
    assert await hits.count() == 1
    assert await hits.first.get_attribute("data-subscriber-id") == str(maryam["id"])
    await console.press("ArrowDown", "Enter")
    record = page.locator(f".subs-record[data-state=ready][data-subscriber-id='{maryam['id']}']")
    await record.wait_for()
    assert page.url.endswith(f"#/subscribers/{maryam['id']}")
    assert await record.locator(".subs-name").inner_text() == "مریم رضایی"
    assert await record.locator(".subs-phone").first.get_attribute("dir") == "ltr"
    # Operators may not set the loyalty tier, nor see the duplicates.
    assert await record.locator("select[data-field=loyalty]").is_disabled()
    assert await page.locator("[data-action=duplicates]").count() == 0

    # The name is edited in place.
    await record.locator("[data-action=rename]").click()
    await record.locator(".subs-rename input[name=name]").fill("مریم رضایی‌نژاد")
    await console.press("Enter")
    await record.locator(".subs-name", has_text="مریم رضایی‌نژاد").wait_for()

    # A note with a mood, then pinned.
    await page.fill(".subs-add-note textarea[name=body]", "صندلی عقب را ترجیح می‌دهد")
    await page.select_option(".subs-add-note select[name=mood]", "elderly")
    await page.focus(".subs-add-note textarea[name=body]")
    await console.press("Control+Enter")
    note = record.locator(".subs-note-list li[data-note-id]")
    await note.first.wait_for()
    assert "صندلی عقب" in await note.first.inner_text()
    await note.first.locator("[data-action=pin]").click()
    await record.locator(".subs-note-list li[data-pinned=true]").wait_for()
    [saved_note] = (await _record(console, maryam["id"]))["notes"]
    assert saved_note["is_pinned"] and saved_note["mood"] == "elderly"
    assert saved_note["author_name"] == console.user.display_name

    # Relabel one address, delete the other (after a confirmation).
    work_item = record.locator(f"li[data-address-id='{work['id']}']")
    await work_item.locator("[data-action=relabel]").click()
    await work_item.locator("input[name=label]").fill("دفتر")
    await console.press("Enter")
    await work_item.locator(".subs-label", has_text="دفتر").wait_for()
    home_item = record.locator(f"li[data-address-id='{home['id']}']")
    assert "۱ سفر" in await home_item.inner_text()  # The booked ride counts as a use.
    await home_item.locator("[data-action=delete-address]").click()
    await page.click(".dialog [data-action=confirm]")
    await home_item.wait_for(state="detached")
    addresses = (await _record(console, maryam["id"]))["addresses"]
    assert [(a["id"], a["label"]) for a in addresses] == [(work["id"], "دفتر")]

    # A second phone typed in Persian digits is stored as E.164; then VIP.
    await page.fill(".subs-add-phone input[name=number]", "۰۹۳۵ ۱۱۱ ۲۲۳۳")
    await page.focus(".subs-add-phone input[name=number]")
    await console.press("Enter")
    await record.locator("li[data-phone='+989351112233']").wait_for()
    await record.locator("[data-action=vip]").click()
    await record.locator(".subs-head [data-flag=vip]").wait_for()
    saved = await _record(console, maryam["id"])
    assert saved["is_vip"] and saved["name"] == "مریم رضایی‌نژاد"
    assert {p["e164"] for p in saved["phones"]} == {"+989121234567", "+989351112233"}

    # The ride booked over the API is in the history, dated in the Jalali calendar with Persian digits.
    row = record.locator(f".subs-rides tr[data-ride-id='{ride['id']}']")
    await row.wait_for()
    when = await row.locator(".subs-when").inner_text()
    assert "۱۴۰" in when and not any(c.isascii() and c.isdigit() for c in when), when

    # A complaint opened from the ride's row is linked to the ride and the subscriber, and listed at once.
    [category, *_] = (await console.api("GET", "/api/complaint-categories"))["categories"]
    await row.locator("[data-action=ride-complaint]").click()
    dialog = page.locator(".dialog")
    await dialog.locator("select[name=category]").select_option(category["code"])
    await dialog.locator("textarea[name=description]").fill("راننده دیر رسید")
    await console.press("Control+Enter")
    await dialog.wait_for(state="detached")
    complaint_row = record.locator(".subs-complaints tr[data-complaint-id]")
    await complaint_row.wait_for()
    assert category["names"]["fa"] in await complaint_row.inner_text()
    [complaint] = (await console.api("GET", f"/api/complaints?subscriber_id={maryam['id']}"))["complaints"]
    assert complaint["ride_id"] == ride["id"] and complaint["description"] == "راننده دیر رسید"

    await console.screenshot("subscriber")
    assert not console.page_errors  # type: ignore[attr-defined]


async def test_a_supervisor_merges_a_likely_duplicate_and_the_survivor_has_everything(open_console: OpenConsole
                                                                                    ) -> None:
    console = await open_console("supervisor", lang="en")
    page = console.page
    first = await _subscriber(console, "Ali Karimi", "0912 111 0000", {"text": "12 Valiasr Street", "label": "home"})
    await console.api("POST", f"/api/subscribers/{first['id']}/notes", {"body": "Likes quiet rides"}, status=201)

    # The second record, created through the new-subscriber form with the same address and a misspelt name.
    await page.goto(console.url + "/#/subscribers")
    await page.click("[data-action=new]")
    form = page.locator(".subs-create")
    await form.locator("input[name=name]").fill("Ali Karimy")
    await form.locator("input[name=phone]").fill("0912 222 0000")
    await form.locator("input[name=address]").fill("12 Valiasr Street")
    await form.locator("input[name=label]").fill("work")
    await form.locator("button[type=submit]").click()
    record = page.locator(".subs-record[data-state=ready]")
    await record.wait_for()
    second_id = int(await record.get_attribute("data-subscriber-id") or 0)
    second = await _record(console, second_id)
    assert second["name"] == "Ali Karimy" and second["phones"][0]["e164"] == "+989122220000"
    await console.api("POST", f"/api/subscribers/{second_id}/notes", {"body": "Call before arriving"}, status=201)

    # Another likely pair: a number one subscriber gave up now belongs to another.
    old_owner = await _subscriber(console, "Sara Ahmadi", "0912 333 0000")
    await console.api("POST", f"/api/subscribers/{old_owner['id']}/phones", {"number": "0912 333 1111"}, status=201)
    await console.api("DELETE", f"/api/subscribers/{old_owner['id']}/phones/{old_owner['phones'][0]['id']}")
    new_owner = await _subscriber(console, "Sara Ahmadi-Nejad", "0912 333 0000")
    other_pair = page.locator(f".subs-dups-table tr[data-pair='{old_owner['id']}-{new_owner['id']}']")

    # The duplicates list shows both pairs and why.
    await page.click("[data-action=duplicates]")
    pair = page.locator(f".subs-dups-table tr[data-pair='{first['id']}-{second_id}']")
    await pair.wait_for()
    assert "Similar name, same address" in await pair.inner_text()
    assert "+989123330000" in await other_pair.locator("[data-reason=phone_in_history]").inner_text()

    # The confirmation shows both records; the first is kept.
    await pair.locator("[data-action=merge]").click()
    dialog = page.locator(".dialog")
    for subscriber in (first, second):
        side = dialog.locator(f".subs-merge-side[data-subscriber='{subscriber['id']}']")
        assert subscriber["name"] in await side.inner_text()
        assert subscriber["phones"][0]["e164"] in await side.inner_text()
    assert await dialog.locator(f"input[name=subs-keep][value='{first['id']}']").is_checked()
    await console.screenshot("duplicates")
    await dialog.locator("[data-action=merge]").click()
    await dialog.wait_for(state="detached")
    await pair.wait_for(state="detached")
    await other_pair.wait_for()

    survivor = await _record(console, first["id"])
    assert {p["e164"] for p in survivor["phones"]} == {"+989121110000", "+989122220000"}
    assert {a["label"] for a in survivor["addresses"]} == {"home", "work"}
    assert {n["body"] for n in survivor["notes"]} == {"Likes quiet rides", "Call before arriving"}
    gone = await console.api("GET", f"/api/subscribers/{second_id}", status=404)
    assert gone["error"]["code"] == "subscriber_merged"

    # The survivor, found by name, gets a loyalty tier and a block with its reason.
    await page.focus(".subs-search")
    await console.type("Karimi")
    await page.locator(f".subs-results [data-subscriber-id='{first['id']}']").wait_for()
    await console.press("Enter")
    record = page.locator(f".subs-record[data-state=ready][data-subscriber-id='{first['id']}']")
    await record.wait_for()
    await record.locator("select[data-field=loyalty]").select_option("gold")
    await record.locator(".subs-head [data-flag=tier]").wait_for()
    await record.locator("[data-action=block]").click()
    await page.fill(".dialog textarea[name=reason]", "Three no-shows this month")
    await page.click(".dialog button[type=submit]")
    assert "Three no-shows this month" in await record.locator(".subs-blocked-detail").inner_text()
    flags = await _record(console, first["id"])
    assert flags["loyalty_tier"] == "gold" and flags["is_blocked"]
    assert flags["blocked_reason"] == "Three no-shows this month"
    assert not console.page_errors  # type: ignore[attr-defined]
