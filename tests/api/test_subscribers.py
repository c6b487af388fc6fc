from datetime import UTC, datetime

import pytest

from subscribers import service

TABLES = ("subscribers", "subscriber_phones", "subscriber_phone_history", "subscriber_addresses",
          "subscriber_notes", "subscriber_merges")


@pytest.fixture
async def operator(staff_headers):
    return await staff_headers("operator")


@pytest.fixture
async def supervisor(staff_headers):
    return await staff_headers("supervisor")


@pytest.fixture
def create(client, operator):
    """Factory: create a subscriber through the API and return its JSON."""

    async def make(name="Ali Rezaei", *numbers, addresses=(), headers=None):
        body = {"name": name, "phones": [{"number": n} for n in numbers or ("09121234567",)],
                "addresses": list(addresses)}
        response = await client.post("/api/subscribers", json=body, headers=headers or operator)
        assert response.status == 201, await response.text()
        return (await response.json())["subscriber"]

    return make


async def counts(db):
    return {table: await db.fetchval(f"SELECT count(*) FROM {table}") for table in TABLES}


async def error_of(response, status):
    assert response.status == status, await response.text()
    return (await response.json())["error"]["code"]


# Records ------------------------------------------------------------------------------------------

async def test_an_operator_creates_a_subscriber_and_reads_the_whole_card(client, operator):
    body = {"name": "  علي   رضايي ", "phones": [{"number": "۰۹۱۲ ۱۲۳ ۴۵۶۷", "label": "mobile"},
                                                 {"number": "88776655"}],
            "addresses": [{"text": "خیابان ولیعصر، پلاک ۱۲", "label": "home", "landmark": "near the bakery",
                           "lat": 35.7, "lng": 51.4}]}
    created = await client.post("/api/subscribers", json=body, headers=operator)
    assert created.status == 201, await created.text()
    subscriber = (await created.json())["subscriber"]
    assert subscriber["name"] == "علی رضایی"  # Persian letters and single spaces, as stored.
    assert [p["e164"] for p in subscriber["phones"]] == ["+989121234567", "+982188776655"]
    assert [p["kind"] for p in subscriber["phones"]] == ["mobile", "landline"]
    [address] = subscriber["addresses"]
    assert (address["full_text"], address["lat"], address["lng"], address["uses"]) == \
        ("خیابان ولیعصر، پلاک 12", 35.7, 51.4, 0)
    assert subscriber["notes"] == []
    assert (subscriber["is_vip"], subscriber["is_blocked"], subscriber["loyalty_tier"]) == (False, False, "none")
    fetched = await client.get(f"/api/subscribers/{subscriber['id']}", headers=operator)
    assert (await fetched.json())["subscriber"] == subscriber


async def test_renaming_changes_the_name_and_its_search_key(client, operator, create, db):
    subscriber = await create("Ali")
    response = await client.patch(f"/api/subscribers/{subscriber['id']}", json={"name": "Ali Rezaei"},
                                  headers=operator)
    assert (await response.json())["subscriber"]["name"] == "Ali Rezaei"
    assert await db.fetchval("SELECT name_key FROM subscribers WHERE id = $1", subscriber["id"]) == "alirezaei"


# Phones -------------------------------------------------------------------------------------------

async def test_a_number_another_subscriber_has_is_refused_and_nothing_is_created(client, operator, create, db):
    owner = await create("Ali", "09121234567")
    before = await counts(db)
    response = await client.post("/api/subscribers", json={"name": "Reza", "phones": [{"number": "+989121234567"}]},
                                 headers=operator)
    assert await error_of(response, 409) == "phone_taken"
    message = (await response.json())["error"]["message"]
    assert "+989121234567" in message and "another subscriber" in message and str(owner["id"]) in message
    assert await counts(db) == before

    other = await create("Reza", "09351112233")
    added = await client.post(f"/api/subscribers/{other['id']}/phones", json={"number": "0912-123-4567"},
                              headers=operator)
    assert await error_of(added, 409) == "phone_taken"
    again = await client.post(f"/api/subscribers/{owner['id']}/phones", json={"number": "09121234567"},
                              headers=operator)
    assert await error_of(again, 409) == "phone_already_listed"
    assert await counts(db) == {**before, "subscribers": before["subscribers"] + 1,
                                "subscriber_phones": before["subscriber_phones"] + 1}


async def test_removing_a_phone_keeps_it_in_history_but_the_last_one_stays(client, operator, create, db):
    subscriber = await create("Ali", "09121234567")
    added = await client.post(f"/api/subscribers/{subscriber['id']}/phones",
                              json={"number": "09351112233", "label": "work"}, headers=operator)
    assert added.status == 201 and (await added.json())["phone"]["label"] == "work"
    first_id = subscriber["phones"][0]["id"]
    removed = await client.delete(f"/api/subscribers/{subscriber['id']}/phones/{first_id}", headers=operator)
    assert (await removed.json())["removed"]["e164"] == "+989121234567"
    history = await db.fetch("SELECT subscriber_id, e164 FROM subscriber_phone_history")
    assert [tuple(r) for r in history] == [(subscriber["id"], "+989121234567")]

    last_id = (await added.json())["phone"]["id"]
    last = await client.delete(f"/api/subscribers/{subscriber['id']}/phones/{last_id}", headers=operator)
    assert await error_of(last, 409) == "last_phone"
    assert await db.fetchval("SELECT count(*) FROM subscriber_phones WHERE id = $1", last_id) == 1
    assert await db.fetchval("SELECT count(*) FROM subscriber_phone_history") == 1


async def test_a_phone_of_another_subscriber_cannot_be_removed_through_this_one(client, operator, create):
    first, second = await create("Ali", "09121234567"), await create("Reza", "09351112233")
    response = await client.delete(f"/api/subscribers/{first['id']}/phones/{second['phones'][0]['id']}",
                                   headers=operator)
    assert await error_of(response, 404) == "phone_not_found"


# Addresses ----------------------------------------------------------------------------------------

async def test_addresses_are_added_edited_deleted_and_ranked_by_use(client, operator, create, db):
    subscriber = await create("Ali", addresses=[{"text": "Home street 1"}, {"text": "Office tower"}])
    base = f"/api/subscribers/{subscriber['id']}/addresses"
    gym = (await (await client.post(base, json={"text": "Gym", "label": "gym"}, headers=operator)).json())["address"]
    home, office = subscriber["addresses"]
    at = datetime(2024, 5, 1, 7, 30, tzinfo=UTC)
    async with db.acquire() as conn:
        for _ in range(2):
            await service.record_address_use(conn, gym["id"], as_pickup=True, local_hour=11, at=at)
        await service.record_address_use(conn, office["id"], as_pickup=False, local_hour=9, at=at)
        await service.record_address_use(conn, home["id"], as_pickup=True, local_hour=8, at=at.replace(hour=6))
    card = (await (await client.get(f"/api/subscribers/{subscriber['id']}", headers=operator)).json())["subscriber"]
    # Gym used twice; office and home once each, the office more recently.
    assert [a["id"] for a in card["addresses"]] == [gym["id"], office["id"], home["id"]]
    assert card["addresses"][0]["pickups_by_hour"][11] == 2 and card["addresses"][0]["pickup_count"] == 2
    assert card["addresses"][1]["dropoff_count"] == 1 and sum(card["addresses"][1]["pickups_by_hour"]) == 0

    edited = await client.patch(f"{base}/{home['id']}", json={"label": "home", "text": "Home street 2",
                                                                 "landmark": "blue door", "lat": 35.7, "lng": 51.4},
                                headers=operator)
    assert edited.status == 200, await edited.text()
    assert {k: (await edited.json())["address"][k] for k in ("label", "full_text", "landmark", "lat", "lng")} == \
        {"label": "home", "full_text": "Home street 2", "landmark": "blue door", "lat": 35.7, "lng": 51.4}
    cleared = await client.patch(f"{base}/{home['id']}", json={"lat": None, "lng": None, "landmark": ""},
                                 headers=operator)
    shaped = (await cleared.json())["address"]
    assert (shaped["lat"], shaped["landmark"], shaped["label"], shaped["pickup_count"]) == (None, None, "home", 1)
    assert await db.fetchval("SELECT text_key FROM subscriber_addresses WHERE id = $1", home["id"]) == "homestreet2"

    deleted = await client.delete(f"{base}/{office['id']}", headers=operator)
    assert (await deleted.json())["deleted"] == office["id"]
    again = await client.delete(f"{base}/{office['id']}", headers=operator)
    assert await error_of(again, 404) == "address_not_found"


async def test_bad_address_edits_are_refused(client, operator, create):
    subscriber = await create("Ali", addresses=[{"text": "Home"}])
    url = f"/api/subscribers/{subscriber['id']}/addresses/{subscriber['addresses'][0]['id']}"
    for body, code in [({}, "no_changes"), ({"lat": 35.7}, "invalid_position"),
                       ({"lat": 95, "lng": 51}, "invalid_position"), ({"lat": "35", "lng": 51}, "wrong_type"),
                       ({"text": "  "}, "invalid_address"), ({"label": "x" * 51}, "too_long")]:
        assert await error_of(await client.patch(url, json=body, headers=operator), 400) == code, body
    other = await create("Reza", "09351112233", addresses=[{"text": "Elsewhere"}])
    foreign = f"/api/subscribers/{subscriber['id']}/addresses/{other['addresses'][0]['id']}"
    assert await error_of(await client.patch(foreign, json={"label": "x"}, headers=operator), 404) == \
        "address_not_found"


async def test_recording_a_use_of_an_unknown_address_or_hour_fails(db):
    async with db.acquire() as conn:
        with pytest.raises(ValueError):
            await service.record_address_use(conn, 1, as_pickup=True, local_hour=24, at=datetime.now(UTC))
        with pytest.raises(service.AddressNotFound):
            await service.record_address_use(conn, 424242, as_pickup=True, local_hour=3, at=datetime.now(UTC))


# Notes --------------------------------------------------------------------------------------------

async def test_notes_are_signed_pinned_first_then_newest_first(client, operator, create):
    me = await (await client.get("/api/auth/me", headers=operator)).json()
    subscriber = await create("Ali")
    url = f"/api/subscribers/{subscriber['id']}/notes"
    first = (await (await client.post(url, json={"body": "Elderly, help with bags", "mood": "elderly"},
                                      headers=operator)).json())["note"]
    second = (await (await client.post(url, json={"body": "Was angry about a late car", "mood": "angry"},
                                       headers=operator)).json())["note"]
    third = (await (await client.post(url, json={"body": "Prefers the back seat"}, headers=operator)).json())["note"]
    assert (first["author_name"], first["author_id"], first["mood"], third["mood"]) == \
        (me["name"], me["id"], "elderly", None)
    pinned = await client.post(f"{url}/{first['id']}/pin", headers=operator)
    assert (await pinned.json())["note"]["is_pinned"] is True
    card = (await (await client.get(f"/api/subscribers/{subscriber['id']}", headers=operator)).json())["subscriber"]
    assert [n["id"] for n in card["notes"]] == [first["id"], third["id"], second["id"]]
    await client.delete(f"{url}/{first['id']}/pin", headers=operator)
    card = (await (await client.get(f"/api/subscribers/{subscriber['id']}", headers=operator)).json())["subscriber"]
    assert [n["id"] for n in card["notes"]] == [third["id"], second["id"], first["id"]]


async def test_bad_notes_are_refused(client, operator, create):
    subscriber = await create("Ali")
    url = f"/api/subscribers/{subscriber['id']}/notes"
    for body, code in [({"body": "ok", "mood": "grumpy"}, "invalid_choice"), ({"mood": "calm"}, "missing_field"),
                       ({"body": "x" * 2001}, "too_long"), ({"body": "   "}, "invalid_note"),
                       ({"body": 5}, "wrong_type")]:
        assert await error_of(await client.post(url, json=body, headers=operator), 400) == code, body
    assert await error_of(await client.post(f"{url}/424242/pin", headers=operator), 404) == "note_not_found"


# Flags --------------------------------------------------------------------------------------------

async def test_operators_set_vip_and_supervisors_block_with_a_reason(client, operator, supervisor, create):
    subscriber = await create("Ali")
    base = f"/api/subscribers/{subscriber['id']}"
    assert (await (await client.post(f"{base}/vip", headers=operator)).json())["subscriber"]["is_vip"] is True
    assert (await (await client.delete(f"{base}/vip", headers=operator)).json())["subscriber"]["is_vip"] is False

    refused = await client.post(f"{base}/block", json={"reason": "abusive"}, headers=operator)
    assert await error_of(refused, 403) == "forbidden"
    me = await (await client.get("/api/auth/me", headers=supervisor)).json()
    blocked = (await (await client.post(f"{base}/block", json={"reason": " abusive to drivers "},
                                        headers=supervisor)).json())["subscriber"]
    assert (blocked["is_blocked"], blocked["blocked_reason"], blocked["blocked_by"], blocked["blocked_by_name"]) == \
        (True, "abusive to drivers", me["id"], me["name"])
    assert datetime.fromisoformat(blocked["blocked_at"]) <= datetime.now(UTC)
    again = await client.post(f"{base}/block", json={"reason": "again"}, headers=supervisor)
    assert await error_of(again, 409) == "already_blocked"
    assert await error_of(await client.post(f"{base}/block", json={}, headers=supervisor), 400) == "missing_field"

    unblocked = (await (await client.delete(f"{base}/block", headers=supervisor)).json())["subscriber"]
    assert (unblocked["is_blocked"], unblocked["blocked_reason"], unblocked["blocked_by"]) == (False, None, None)
    assert await error_of(await client.delete(f"{base}/block", headers=supervisor), 409) == "not_blocked"


async def test_loyalty_tiers_are_set_by_supervisors(client, operator, supervisor, create):
    subscriber = await create("Ali")
    url = f"/api/subscribers/{subscriber['id']}/loyalty"
    assert await error_of(await client.put(url, json={"tier": "gold"}, headers=operator), 403) == "forbidden"
    set_ = await client.put(url, json={"tier": "gold"}, headers=supervisor)
    assert (await set_.json())["subscriber"]["loyalty_tier"] == "gold"
    assert await error_of(await client.put(url, json={"tier": "platinum"}, headers=supervisor), 400) == \
        "invalid_choice"


# Bad input ----------------------------------------------------------------------------------------

BAD_CREATES = [
    ({"name": "Ali", "phones": [{"number": "12ab"}]}, 400, "invalid_phone"),
    ({"name": "Ali", "phones": [{"number": "0912123"}]}, 400, "invalid_phone"),
    ({"name": "Ali", "phones": [{"number": "09121234567"}, {"number": "+989121234567"}]}, 400,
     "phone_listed_twice"),
    ({"name": "Ali", "phones": []}, 400, "invalid_phones"),
    ({"name": "Ali"}, 400, "missing_field"),
    ({"phones": [{"number": "09121234567"}]}, 400, "missing_field"),
    ({"name": "  ", "phones": [{"number": "09121234567"}]}, 400, "invalid_name"),
    ({"name": "x" * 201, "phones": [{"number": "09121234567"}]}, 400, "too_long"),
    ({"name": 42, "phones": [{"number": "09121234567"}]}, 400, "wrong_type"),
    ({"name": "Ali", "phones": "09121234567"}, 400, "wrong_type"),
    ({"name": "Ali", "phones": ["09121234567"]}, 400, "wrong_type"),
    ({"name": "Ali", "phones": [{"number": "0" * 41}]}, 400, "too_long"),
    ({"name": "Ali", "phones": [{"number": "09121234567"}] * 11}, 400, "too_long"),
    ({"name": "Ali", "phones": [{"number": "09121234567"}], "addresses": [{"label": "home"}]}, 400,
     "missing_field"),
    ({"name": "Ali", "phones": [{"number": "09121234567"}], "addresses": [{"text": "x" * 501}]}, 400,
     "too_long"),
    ({"name": "Ali", "phones": [{"number": "09121234567"}], "addresses": [{"text": "x", "lat": True, "lng": 1}]},
     400, "wrong_type"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_CREATES)
async def test_bad_new_subscribers_are_refused_and_change_nothing(client, operator, db, body, status, code):
    before = await counts(db)
    response = await client.post("/api/subscribers", json=body, headers=operator)
    assert await error_of(response, status) == code
    assert await counts(db) == before


async def test_bodies_that_are_not_json_objects_are_refused(client, operator, create):
    subscriber = await create("Ali")
    url = f"/api/subscribers/{subscriber['id']}/phones"
    assert await error_of(await client.post(url, data="{", headers={**operator, "Content-Type": "application/json"}),
                          400) == "malformed_json"
    assert await error_of(await client.post(url, json=["09121234567"], headers=operator), 400) == "malformed_json"
    assert await error_of(await client.post(url, data="x", headers=operator), 415) == "unsupported_media_type"
    assert await error_of(await client.post(url, json={"number": "hello"}, headers=operator), 400) == \
        "invalid_phone"


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/subscribers/424242", None),
    ("PATCH", "/api/subscribers/424242", {"name": "Ali"}),
    ("POST", "/api/subscribers/424242/phones", {"number": "09121234567"}),
    ("DELETE", "/api/subscribers/424242/phones/1", None),
    ("POST", "/api/subscribers/424242/addresses", {"text": "Home"}),
    ("PATCH", "/api/subscribers/424242/addresses/1", {"label": "x"}),
    ("DELETE", "/api/subscribers/424242/addresses/1", None),
    ("POST", "/api/subscribers/424242/notes", {"body": "hi"}),
    ("POST", "/api/subscribers/424242/notes/1/pin", None),
    ("POST", "/api/subscribers/424242/vip", None),
])
async def test_unknown_subscribers_are_404_with_a_stable_code(client, operator, db, method, path, body):
    before = await counts(db)
    response = await client.request(method, path, json=body, headers=operator)
    assert await error_of(response, 404) == "subscriber_not_found"
    assert await counts(db) == before


@pytest.mark.parametrize("path", ["/api/subscribers/abc", "/api/subscribers/99999999999999999999",
                                  "/api/subscribers/1/phones/x"])
async def test_ids_that_are_not_numbers_are_404(client, operator, path):
    assert (await client.get(path, headers=operator)).status in (404, 405)
    assert await error_of(await client.delete(path, headers=operator), 404) == "not_found"


# Who may do what ----------------------------------------------------------------------------------

# (method, path suffix after /api/subscribers, body, roles allowed). {id} is a live subscriber.
ROUTES = [
    ("GET", "?q=ali", None, {"operator", "supervisor", "admin"}),
    ("POST", "", {"name": "Sara", "phones": [{"number": "09191234567"}]}, {"operator", "supervisor", "admin"}),
    ("GET", "/{id}", None, {"operator", "supervisor", "admin"}),
    ("PATCH", "/{id}", {"name": "Ali R"}, {"operator", "supervisor", "admin"}),
    ("POST", "/{id}/phones", {"number": "09127654321"}, {"operator", "supervisor", "admin"}),
    ("POST", "/{id}/addresses", {"text": "Home"}, {"operator", "supervisor", "admin"}),
    ("POST", "/{id}/notes", {"body": "hi"}, {"operator", "supervisor", "admin"}),
    ("POST", "/{id}/vip", None, {"operator", "supervisor", "admin"}),
    ("DELETE", "/{id}/vip", None, {"operator", "supervisor", "admin"}),
    ("PUT", "/{id}/loyalty", {"tier": "silver"}, {"supervisor", "admin"}),
    ("POST", "/{id}/block", {"reason": "no-shows"}, {"supervisor", "admin"}),
    ("GET", "/duplicates", None, {"supervisor", "admin"}),
    ("POST", "/{id}/merge", {"other_id": "{other}"}, {"supervisor", "admin"}),
]


@pytest.mark.parametrize("role", ["operator", "supervisor", "admin"])
@pytest.mark.parametrize(("method", "suffix", "body", "allowed"), ROUTES)
async def test_each_role_is_refused_where_it_does_not_belong(client, staff_headers, create, role, method, suffix,
                                                             body, allowed):
    subscriber, other = await create("Ali"), await create("Ali", "09351112233")
    if body is not None and body.get("other_id") == "{other}":
        body = {"other_id": other["id"]}
    response = await client.request(method, "/api/subscribers" + suffix.replace("{id}", str(subscriber["id"])),
                                    json=body, headers=await staff_headers(role))
    if role in allowed:
        assert response.status in (200, 201), await response.text()
    else:
        assert await error_of(response, 403) == "forbidden"


@pytest.mark.parametrize(("method", "suffix", "body", "allowed"), ROUTES)
async def test_anonymous_callers_and_drivers_are_refused(client, make_driver, method, suffix, body, allowed):
    path = "/api/subscribers" + suffix.replace("{id}", "1")
    assert await error_of(await client.request(method, path, json=body), 401) == "not_authenticated"
    _, token = await make_driver()
    driver = {"Authorization": f"Bearer {token}"}
    assert await error_of(await client.request(method, path, json=body, headers=driver), 403) == "forbidden"

