import pytest

from subscribers import service
from subscribers.model import NewAddress, NewPhone
from subscribers.phones import PhonePlan


@pytest.fixture
async def operator(staff_headers):
    return await staff_headers("operator")


@pytest.fixture
async def supervisor(staff_headers):
    return await staff_headers("supervisor")


@pytest.fixture
def make(db):
    """Factory: a subscriber created through the service, returning its id."""

    async def create(name, *numbers, addresses=()):
        record = await service.create_subscriber(db, name, [NewPhone(n) for n in numbers],
                                                 [NewAddress(a) for a in addresses], PhonePlan())
        return record.subscriber.id

    return create


async def found(client, headers, query):
    response = await client.get("/api/subscribers", params={"q": query}, headers=headers)
    assert response.status == 200, await response.text()
    return [s["id"] for s in (await response.json())["subscribers"]]


# Search -------------------------------------------------------------------------------------------

async def test_a_partial_number_in_any_digit_set_finds_its_subscriber_with_phones(client, operator, make):
    ali = await make("Ali Rezaei", "09121234567", "88776655")
    await make("Reza", "09351112233")
    for typed in ("1234567", "۱۲۳۴۵۶۷", "0912 123", "+98 912 123", "٨٨٧٧٦٦", "021 8877"):
        assert await found(client, operator, typed) == [ali], typed
    response = await client.get("/api/subscribers", params={"q": "0912123"}, headers=operator)
    [hit] = (await response.json())["subscribers"]
    assert [p["e164"] for p in hit["phones"]] == ["+989121234567", "+982188776655"]


async def test_names_match_across_arabic_and_persian_keyboards(client, operator, make):
    ali = await make("علی رضایی", "09121234567")
    assert await found(client, operator, "علي") == [ali]
    assert await found(client, operator, "رضايي") == [ali]
    assert await found(client, operator, "علیرضایی") == [ali]  # Spacing does not matter.
    assert await found(client, operator, "ALI") == []


async def test_address_text_finds_subscribers_and_better_matches_come_first(client, operator, make):
    by_address = await make("Maryam", "09121234567", addresses=["خیابان آزادی، کوچه ۵"])
    by_name = await make("آزادی", "09351112233")
    by_prefix = await make("آزادی‌خواه", "09191234567")
    assert await found(client, operator, "آزادي") == [by_name, by_prefix, by_address]
    assert await found(client, operator, "کوچه 5") == [by_address]


async def test_like_wildcards_typed_in_a_search_match_only_themselves(client, operator, make):
    await make("Ali", "09121234567")
    percent = await make("Ali 100%", "09351112233")
    assert await found(client, operator, "%%") == []
    assert await found(client, operator, "__") == []
    assert await found(client, operator, "100%") == [percent]


async def test_searches_return_at_most_a_page(client, operator, db, make):
    for n in range(service.SEARCH_LIMIT + 3):
        await make(f"Karimi {n}", f"0912{n:07d}")
    assert len(await found(client, operator, "karimi")) == service.SEARCH_LIMIT


@pytest.mark.parametrize(("params", "code"), [({}, "query_too_short"), ({"q": " a "}, "query_too_short"),
                                              ({"q": "x" * 101}, "too_long")])
async def test_searches_too_short_or_too_long_are_refused(client, operator, params, code):
    response = await client.get("/api/subscribers", params=params, headers=operator)
    assert response.status == 400 and (await response.json())["error"]["code"] == code


# Duplicates ---------------------------------------------------------------------------------------

async def test_likely_duplicates_are_listed_with_reasons_and_nothing_is_merged(client, operator, supervisor, make,
                                                                               db):
    old = await make("Hassan Karimi", "09121234567", "09351112233")
    old_phone = await db.fetchval("SELECT id FROM subscriber_phones WHERE e164 = '+989121234567'")
    await client.delete(f"/api/subscribers/{old}/phones/{old_phone}", headers=operator)
    new = await make("H. Karimi", "09121234567")                                  # (a) the number moved.
    twin_a = await make("Sara Ahmadi", "09191234567", addresses=["Valiasr St 12"])
    twin_b = await make("سارا احمدی", "09127654321", addresses=["Azadi 3"])
    same_a = await make("Reza Moradi", "09120000001", addresses=["Enghelab 7"])
    same_b = await make("reza  moradi", "09120000002", addresses=["enghelab  7"])  # (b) same name and address.
    close_a = await make("Mohammad Hosseini", "09120000003", addresses=["Azadi Tower"])
    close_b = await make("Mohamad Hoseini", "09120000004", addresses=["azadi tower"])  # (c) similar names.
    await make("Neda Farahani", "09120000005", addresses=["Azadi Tower"])         # A neighbour, not a duplicate.

    response = await client.get("/api/subscribers/duplicates", headers=supervisor)
    assert response.status == 200, await response.text()
    pairs = {(p["first"]["id"], p["second"]["id"]): [(r["kind"], r["detail"]) for r in p["reasons"]]
             for p in (await response.json())["pairs"]}
    assert pairs == {
        (old, new): [("phone_in_history", "+989121234567")],
        (same_a, same_b): [("same_name_same_address", "Enghelab 7")],
        (close_a, close_b): [("similar_name_same_address", "Azadi Tower")],
    }
    assert (twin_a, twin_b) not in pairs  # Same name, different addresses and numbers: not enough.
    assert await db.fetchval("SELECT count(*) FROM subscribers WHERE merged_into IS NOT NULL") == 0


# Merges -------------------------------------------------------------------------------------------

TABLES = ("subscriber_phones", "subscriber_phone_history", "subscriber_addresses", "subscriber_notes")


async def owned(db, subscriber_id):
    return {t: await db.fetchval(f"SELECT count(*) FROM {t} WHERE subscriber_id = $1", subscriber_id)
            for t in TABLES}


async def test_a_merge_moves_every_row_and_flag_and_leaves_a_pointer(client, operator, supervisor, make, db):
    kept = await make("Ali Rezaei", "09121234567", addresses=["Home 1"])
    other = await make("Ali R", "09351112233", "09191234567", addresses=["Office", "Gym"])
    base = "/api/subscribers"
    await client.post(f"{base}/{other}/notes", json={"body": "Needs a big car", "mood": "needs_help"},
                      headers=operator)
    await client.post(f"{base}/{kept}/notes", json={"body": "Calm"}, headers=operator)
    await client.delete(f"{base}/{other}/phones/"
                        f"{await db.fetchval('SELECT id FROM subscriber_phones WHERE subscriber_id = $1', other)}",
                        headers=operator)
    await client.post(f"{base}/{other}/vip", headers=operator)
    await client.put(f"{base}/{other}/loyalty", json={"tier": "silver"}, headers=supervisor)
    await client.post(f"{base}/{other}/block", json={"reason": "no-shows"}, headers=supervisor)
    await client.put(f"{base}/{kept}/loyalty", json={"tier": "bronze"}, headers=supervisor)
    kept_before, other_before = await owned(db, kept), await owned(db, other)
    total_before = {t: await db.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}

    response = await client.post(f"{base}/{kept}/merge", json={"other_id": other}, headers=supervisor)
    assert response.status == 200, await response.text()
    body = await response.json()

    assert await owned(db, kept) == {t: kept_before[t] + other_before[t] for t in TABLES}
    assert await owned(db, other) == dict.fromkeys(TABLES, 0)
    assert {t: await db.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES} == total_before  # Nothing lost.
    card = body["subscriber"]
    assert (card["id"], card["name"], card["is_vip"], card["loyalty_tier"], card["blocked_reason"]) == \
        (kept, "Ali Rezaei", True, "silver", "no-shows")
    assert len(card["phones"]) == 2 and len(card["addresses"]) == 3 and len(card["notes"]) == 2
    moved = body["merge"]["moved"]
    assert sorted(moved["addresses"]) == sorted(
        r["id"] for r in await db.fetch("SELECT id FROM subscriber_addresses WHERE full_text IN ('Office', 'Gym')"))
    assert (len(moved["phones"]), len(moved["phone_history"]), len(moved["notes"])) == (1, 1, 1)
    recorded = await db.fetchrow("SELECT kept_id, merged_id, moved::text, merged_by FROM subscriber_merges")
    assert (recorded["kept_id"], recorded["merged_id"]) == (kept, other) and recorded["merged_by"] is not None

    gone = await client.get(f"{base}/{other}", headers=operator)
    error = (await gone.json())["error"]
    assert gone.status == 404 and error["code"] == "subscriber_merged" and str(kept) in error["message"]
    assert await found(client, operator, "09191234567") == [kept]  # The moved number finds the kept one.
    assert await found(client, operator, "ali") == [kept]
    edit = await client.post(f"{base}/{other}/notes", json={"body": "late"}, headers=operator)
    assert edit.status == 404 and (await edit.json())["error"]["code"] == "subscriber_merged"


async def test_merges_that_make_no_sense_are_refused_and_change_nothing(client, supervisor, make, db):
    first, second, third = (await make("A1", "09120000001"), await make("A2", "09120000002"),
                            await make("A3", "09120000003"))
    url = "/api/subscribers/{}/merge"
    assert (await client.post(url.format(first), json={"other_id": second}, headers=supervisor)).status == 200
    before = await db.fetch("SELECT * FROM subscribers ORDER BY id")
    for kept, body, status, code in [
        (first, {"other_id": first}, 400, "merge_into_itself"),
        (third, {"other_id": second}, 409, "already_merged"),
        (second, {"other_id": third}, 409, "already_merged"),
        (first, {"other_id": 424242}, 404, "subscriber_not_found"),
        (424242, {"other_id": first}, 404, "subscriber_not_found"),
        (first, {"other_id": 2**70}, 404, "subscriber_not_found"),
        (first, {"other_id": "3"}, 400, "wrong_type"),
        (first, {}, 400, "missing_field"),
    ]:
        response = await client.post(url.format(kept), json=body, headers=supervisor)
        assert response.status == status, (kept, body, await response.text())
        assert (await response.json())["error"]["code"] == code
    assert await db.fetch("SELECT * FROM subscribers ORDER BY id") == before
    assert await db.fetchval("SELECT count(*) FROM subscriber_merges") == 1


async def test_merging_a_subscriber_that_absorbed_others_repoints_them(client, supervisor, make, db):
    first, second, third = (await make("A1", "09120000001"), await make("A2", "09120000002"),
                            await make("A3", "09120000003"))
    url = "/api/subscribers/{}/merge"
    await client.post(url.format(second), json={"other_id": third}, headers=supervisor)
    await client.post(url.format(first), json={"other_id": second}, headers=supervisor)
    pointers = await db.fetch("SELECT id, merged_into FROM subscribers ORDER BY id")
    assert [tuple(r) for r in pointers] == [(first, None), (second, first), (third, first)]
    assert await db.fetchval("SELECT count(*) FROM subscriber_phones WHERE subscriber_id = $1", first) == 3
