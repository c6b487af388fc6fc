import dataclasses
import json
from datetime import UTC, datetime

import pytest
from aiohttp import WSMsgType

from taxicrm.app import create_app
from tests.conftest import PASSWORD

SECRET = "pbx-shared-secret-1"
PBX = {"X-Taxicrm-Secret": SECRET}


@pytest.fixture
async def pbx_client(aiohttp_client, settings):
    return await aiohttp_client(create_app(dataclasses.replace(settings, webhook_secret=SECRET)))


@pytest.fixture
def make_subscriber(db, make_staff, settings):
    """Factory: a subscriber created through the subscribers service, with addresses used at given hours."""

    async def make(name="مریم رضایی", phones=("+989121234567",), addresses=(), notes=()):
        from subscribers import service
        from subscribers.model import NewAddress, NewPhone
        from subscribers.phones import PhonePlan
        from subscribers.text import clean_text

        record = await service.create_subscriber(db, name, [NewPhone(p) for p in phones],
                                                 [NewAddress(text, label) for label, text, _, _ in addresses],
                                                 PhonePlan())
        now = datetime.now(UTC)
        quiet_hour = (now.astimezone(settings.timezone).hour + 12) % 24  # Never the hour the test rings at.
        saved = {a.full_text: a.id for a in record.addresses}
        async with db.acquire() as conn:
            for _, text, hours, uses in addresses:
                # `uses` pickups at the quiet hour, then one at each of `hours`.
                for hour in [quiet_hour] * uses + list(hours):
                    await service.record_address_use(conn, saved[clean_text(text)], as_pickup=True,
                                                     local_hour=hour, at=now)
        author = await make_staff("operator") if notes else None
        for body, pinned in notes:
            note = await service.add_note(db, record.subscriber.id, body, None, author.id, now)
            if pinned:
                await service.pin_note(db, record.subscriber.id, note.id, True)
        return record.subscriber.id

    return make


@pytest.fixture
async def operator(pbx_client, make_staff):
    """An operator seated at extension 201, logged in, with the console's websocket open."""
    user = await make_staff("operator", extension="201")
    response = await pbx_client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {(await response.json())['token']}"}
    pbx_client.session.cookie_jar.clear()
    ws = await pbx_client.ws_connect("/ws", headers=headers)
    assert json.loads((await ws.receive(timeout=5)).data)["type"] == "hello"
    yield user, headers, ws
    await ws.close()


async def next_event(ws, topic):
    while True:
        message = await ws.receive(timeout=5)
        assert message.type is WSMsgType.TEXT, message
        data = json.loads(message.data)
        if data.get("topic") == topic:
            return data["data"]


def ring(call_id, caller, extensions="201", **extra):
    return {"event": "ringing", "call_id": call_id, "caller": caller, "extensions": extensions, **extra}


async def test_the_webhook_refuses_callers_without_the_secret(pbx_client, client):
    assert (await pbx_client.post("/api/pbx/call-events", json=ring("c1", "0912"))).status == 401
    wrong = await pbx_client.post("/api/pbx/call-events", json=ring("c1", "0912"), headers={"X-Taxicrm-Secret": "x"})
    assert wrong.status == 401
    # With no secret configured the webhook is closed, not open.
    assert (await client.post("/api/pbx/call-events", json=ring("c1", "0912"), headers=PBX)).status == 401


async def test_a_form_the_webhook_cannot_read_is_refused_and_changes_nothing(pbx_client, db):
    # Found by fuzzing: multipart/form-data without its boundary was a 500.
    response = await pbx_client.post("/api/pbx/call-events", data=b'{"event": "ringing"}',
                                     headers={**PBX, "Content-Type": "multipart/form-data"})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "malformed_form"
    assert await db.fetchval("SELECT count(*) FROM calls") == 0


async def test_a_known_caller_pops_up_with_the_card_before_answer(pbx_client, operator, make_subscriber, db,
                                                                   settings):
    user, _, ws = operator
    local_hour = datetime.now(UTC).astimezone(settings.timezone).hour
    subscriber_id = await make_subscriber(
        phones=("+989121234567",),
        addresses=[("work", "خیابان ولیعصر، پلاک ۱۲", [], 40), ("home", "تهرانپارس، خیابان ۱۹۶", [local_hour] * 3, 5)],
        notes=[("old note", False), ("prefers a quiet driver", True)],
    )
    response = await pbx_client.post("/api/pbx/call-events", headers=PBX,
                                     json=ring("1700000000.1", "۰۹۱۲ ۱۲۳ ۴۵۶۷", dialled="1833", caller_name="Maryam"))
    assert response.status == 202
    assert (await response.json())["notified_operators"] == [user.id]
    card = await next_event(ws, "call.ringing")
    assert card["caller"]["e164"] == "+989121234567" and card["caller"]["kind"] == "mobile"
    assert card["subscriber"]["id"] == subscriber_id and card["new_subscriber"] is False
    # The address used at this hour of day comes first, ahead of the one used more often overall.
    assert [a["label"] for a in card["subscriber"]["addresses"]] == ["home", "work"]
    assert card["subscriber"]["notes"][0]["body"] == "prefers a quiet driver"
    assert card["call"]["dialled"] == "1833"
    logged = await db.fetchrow("SELECT subscriber_id, caller_e164, caller_raw FROM calls")
    assert dict(logged) == {"subscriber_id": subscriber_id, "caller_e164": "+989121234567",
                            "caller_raw": "۰۹۱۲ ۱۲۳ ۴۵۶۷"}


async def test_an_unknown_number_gets_a_new_subscriber_prompt_and_past_owners(pbx_client, operator, make_subscriber,
                                                                               db):
    _, _, ws = operator
    old_owner = await make_subscriber(name="Hassan", phones=("+989351112233",))
    await db.execute("DELETE FROM subscriber_phones WHERE subscriber_id = $1", old_owner)
    await db.execute("INSERT INTO subscriber_phone_history (subscriber_id, e164) VALUES ($1, '+982188776655')",
                     old_owner)
    await pbx_client.post("/api/pbx/call-events", headers=PBX, json=ring("c-2", "88776655"))
    card = await next_event(ws, "call.ringing")
    assert card["subscriber"] is None and card["new_subscriber"] is True
    assert card["caller"] == {"status": "number", "raw": "88776655", "e164": "+982188776655", "kind": "landline",
                              "area": "Tehran province", "problem": None}
    assert [m["id"] for m in card["possible_matches"]] == [old_owner]


@pytest.mark.parametrize(("caller", "status"), [("anonymous", "withheld"), ("", "withheld"), ("12ab", "invalid")])
async def test_withheld_or_garbled_caller_ids_are_not_turned_into_numbers(pbx_client, operator, db, caller, status):
    _, _, ws = operator
    await pbx_client.post("/api/pbx/call-events", headers=PBX, json=ring("c-3", caller))
    card = await next_event(ws, "call.ringing")
    assert card["caller"]["status"] == status and card["caller"]["e164"] is None
    assert card["new_subscriber"] is False
    assert await db.fetchval("SELECT caller_status FROM calls") == status


async def test_a_call_rings_answers_and_ends_with_every_step_logged(pbx_client, operator, make_staff, db):
    _, _, ws = operator
    colleague = await make_staff("operator", extension="202")
    await pbx_client.post("/api/pbx/call-events", headers=PBX, json=ring("c-4", "09121234567", "201 202"))
    await next_event(ws, "call.ringing")
    # A retried webhook must not log the call twice.
    await pbx_client.post("/api/pbx/call-events", headers=PBX, json=ring("c-4", "09121234567", "201 202"))
    answered = await pbx_client.post("/api/pbx/call-events", headers=PBX,
                                     json={"event": "answered", "call_id": "c-4", "extension": "202"})
    assert answered.status == 202
    assert (await next_event(ws, "call.answered"))["operator_id"] == colleague.id
    ended = await pbx_client.post("/api/pbx/call-events", headers=PBX,
                                  json={"event": "ended", "call_id": "c-4", "cause": "normal"})
    assert (await next_event(ws, "call.ended"))["cause"] == "normal"
    assert ended.status == 202
    row = await db.fetchrow("SELECT * FROM calls")
    assert await db.fetchval("SELECT count(*) FROM calls") == 1
    assert row["operator_id"] == colleague.id and row["answered_extension"] == "202"
    assert row["ringing_extensions"] == ["201", "202"] and row["end_cause"] == "normal"
    assert row["ringing_at"] <= row["answered_at"] <= row["ended_at"]
    late = await pbx_client.post("/api/pbx/call-events", headers=PBX, json={"event": "ended", "call_id": "c-4"})
    assert late.status == 200 and (await late.json())["ignored"]


async def test_a_missed_call_goes_on_the_call_back_list_until_handled(pbx_client, operator):
    _, headers, ws = operator
    form = {"event": "ringing", "call_id": "c-5", "caller": "09121234567", "extensions": "201"}
    assert (await pbx_client.post("/api/pbx/call-events", headers=PBX, data=form)).status == 202
    await pbx_client.post("/api/pbx/call-events", headers=PBX, data={"event": "ended", "call_id": "c-5"})
    added = await next_event(ws, "callback.added")
    assert added["cause"] == "abandoned"
    callbacks = await (await pbx_client.get("/api/calls/callbacks", headers=headers)).json()
    assert [c["id"] for c in callbacks["calls"]] == [added["call_id"]]
    done = await pbx_client.post(f"/api/calls/{added['call_id']}/callback-handled", headers=headers)
    assert done.status == 200
    assert (await (await pbx_client.get("/api/calls/callbacks", headers=headers)).json())["calls"] == []
    again = await pbx_client.post(f"/api/calls/{added['call_id']}/callback-handled", headers=headers)
    assert again.status == 409 and (await again.json())["error"]["code"] == "not_a_callback"
    missing = await pbx_client.post("/api/calls/999999/callback-handled", headers=headers)
    assert missing.status == 404


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"event": "ringing", "caller": "0912", "extensions": "201"}, "missing_field"),
        ({"event": "exploded", "call_id": "x"}, "invalid_choice"),
        ({"event": "ringing", "call_id": "x", "extensions": "20a"}, "invalid_extension"),
        ({"event": "ringing", "call_id": "x"}, "missing_field"),
        ({"event": "ringing", "call_id": "x", "extensions": "201", "colour": "red"}, "unknown_field"),
        ({"event": "ringing", "call_id": "x" * 300, "extensions": "201"}, "too_long"),
        ({"event": "ringing", "call_id": "x", "extensions": "201", "at": "yesterday"}, "invalid_time"),
        ({"event": "answered", "call_id": "x"}, "missing_field"),
        ({"event": "ended", "call_id": "x", "cause": "meteor"}, "invalid_choice"),
    ],
)
async def test_bad_webhook_calls_get_a_clear_error_and_log_nothing(pbx_client, db, payload, code):
    response = await pbx_client.post("/api/pbx/call-events", headers=PBX, json=payload)
    assert response.status == 400
    assert (await response.json())["error"]["code"] == code
    assert await db.fetchval("SELECT count(*) FROM calls") == 0


async def test_a_call_to_an_extension_where_nobody_sits_is_still_logged(pbx_client, db):
    response = await pbx_client.post("/api/pbx/call-events", headers=PBX, json=ring("c-6", "09121234567", "299"))
    assert response.status == 202
    assert (await response.json())["unknown_extensions"] == ["299"]
    assert await db.fetchval("SELECT ringing_extensions FROM calls") == ["299"]


async def test_the_pbx_can_look_up_a_callers_name(pbx_client, make_subscriber):
    await make_subscriber(name="مریم رضایی", phones=("+989121234567",))
    text = await pbx_client.get("/api/pbx/caller-name", params={"number": "09121234567"}, headers=PBX)
    assert text.status == 200 and await text.text() == "مریم رضایی"
    assert text.content_type == "text/plain"
    as_json = await pbx_client.get("/api/pbx/caller-name", params={"number": "+98 912 123 4567", "format": "json"},
                                   headers=PBX)
    assert await as_json.json() == {"number": "+989121234567", "name": "مریم رضایی", "known": True}
    unknown = await pbx_client.get("/api/pbx/caller-name", params={"number": "09350000000"}, headers=PBX)
    assert unknown.status == 200 and await unknown.text() == ""
    bad = await pbx_client.get("/api/pbx/caller-name", params={"number": "hello"}, headers=PBX)
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "invalid_phone"


async def test_the_pbx_secret_opens_nothing_but_the_pbx_routes(pbx_client):
    for path in ("/api/calls", "/api/calls/callbacks", "/api/users", "/api/auth/me"):
        assert (await pbx_client.get(path, headers=PBX)).status == 403


async def test_an_operator_takes_over_an_extension_from_whoever_sat_there(pbx_client, operator, make_staff, db):
    first, _, _ = operator
    second = await make_staff("operator")
    response = await pbx_client.post("/api/auth/login", json={"username": second.username, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {(await response.json())['token']}"}
    seated = await pbx_client.put("/api/auth/me/extension", json={"extension": "201"}, headers=headers)
    assert seated.status == 200 and (await seated.json())["user"]["extension"] == "201"
    assert await db.fetchval("SELECT extension FROM staff_users WHERE id = $1", first.id) is None
    bad = await pbx_client.put("/api/auth/me/extension", json={"extension": "desk 4"}, headers=headers)
    assert bad.status == 400
    left = await pbx_client.put("/api/auth/me/extension", json={"extension": None}, headers=headers)
    assert (await left.json())["user"]["extension"] is None


async def test_a_call_followed_on_the_pbx_manager_interface_pops_up_and_is_logged(aiohttp_client, settings,
                                                                                   make_staff, db):
    from urllib.parse import quote

    from tests.ami_peer import SECRET as AMI_SECRET
    from tests.ami_peer import FakeAsterisk, direct_call

    pbx = FakeAsterisk(direct_call("1700000111.5", "09121234567", "مریم", "204"))
    port = await pbx.start()
    try:
        user = await make_staff("operator", extension="204")
        login_app = await aiohttp_client(create_app(settings))
        token = (await (await login_app.post("/api/auth/login", json={"username": user.username,
                                                                     "password": PASSWORD})).json())["token"]
        # The console is connected before the instance that follows the PBX starts, so it sees the call ring.
        ws = await login_app.ws_connect("/ws", headers={"Authorization": f"Bearer {token}"})
        await ws.receive(timeout=5)
        ami_url = f"ami://crm:{quote(AMI_SECRET)}@127.0.0.1:{port}"
        await aiohttp_client(create_app(dataclasses.replace(settings, ami_url=ami_url)))
        card = await next_event(ws, "call.ringing")
        assert card["caller"]["e164"] == "+989121234567" and card["call"]["caller_name"] == "مریم"
        assert (await next_event(ws, "call.answered"))["operator_id"] == user.id
        assert (await next_event(ws, "call.ended"))["cause"] == "normal"
        await ws.close()
        row = await db.fetchrow("SELECT source, pbx_call_id, operator_id, end_cause FROM calls")
        assert dict(row) == {"source": "ami", "pbx_call_id": "1700000111.5", "operator_id": user.id,
                             "end_cause": "normal"}
    finally:
        await pbx.stop()


async def test_the_card_lists_the_callers_earlier_calls(pbx_client, operator, make_subscriber):
    _, _, ws = operator
    await make_subscriber(phones=("+989121234567",))
    for call_id in ("first", "second"):
        await pbx_client.post("/api/pbx/call-events", headers=PBX, json=ring(call_id, "09121234567"))
    await next_event(ws, "call.ringing")
    second = await next_event(ws, "call.ringing")
    assert [c["id"] for c in second["subscriber"]["recent_calls"]] == [second["call"]["id"] - 1]


async def test_merging_subscribers_moves_their_calls_too(pbx_client, make_subscriber, make_staff, db):
    kept = await make_subscriber(name="Maryam", phones=("+989121234567",))
    other = await make_subscriber(name="Maryam R", phones=("+989351234567",))
    for call_id, caller in (("k1", "09121234567"), ("o1", "09351234567"), ("o2", "09351234567")):
        await pbx_client.post("/api/pbx/call-events", headers=PBX, json=ring(call_id, caller))
    supervisor = await make_staff("supervisor")
    login = await pbx_client.post("/api/auth/login", json={"username": supervisor.username, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {(await login.json())['token']}"}
    merged = await pbx_client.post(f"/api/subscribers/{kept}/merge", json={"other_id": other}, headers=headers)
    assert merged.status == 200, await merged.text()
    assert await db.fetchval("SELECT count(*) FROM calls WHERE subscriber_id = $1", kept) == 3
    moved = json.loads(await db.fetchval("SELECT moved FROM subscriber_merges"))
    assert moved["calls"] == 2


async def test_the_card_shows_the_callers_last_rides_and_warns_of_one_still_under_way(pbx_client, operator,
                                                                                        make_subscriber):
    _, headers, ws = operator
    subscriber_id = await make_subscriber(addresses=(("home", "12 Valiasr Street", (), 0),))

    async def book(key, **body):
        response = await pbx_client.post("/api/rides", headers={**headers, "Idempotency-Key": key},
                                         json={"pickup": {"text": "12 Valiasr Street"}, **body})
        assert response.status == 201, await response.text()
        return (await response.json())["ride"]

    earlier = await book("k1", subscriber_id=subscriber_id)
    cancelled = await pbx_client.post(f"/api/rides/{earlier['id']}/cancel", json={"reason": "Took the metro"},
                                      headers=headers)
    assert cancelled.status == 200
    current = await book("k2", subscriber_id=subscriber_id)
    # A walk-in ride booked under the same number before it was on the card counts too.
    walk_in = await book("k3", walk_in_name="Maryam", walk_in_phone="09121234567", confirm_duplicate=True)
    await pbx_client.post("/api/pbx/call-events", headers=PBX, json=ring("c-rides", "09121234567"))
    card = await next_event(ws, "call.ringing")
    assert {r["id"] for r in card["active_rides"]} == {current["id"], walk_in["id"]}
    assert [r["id"] for r in card["last_rides"]] == [walk_in["id"], current["id"], earlier["id"]]
    assert card["last_rides"][2]["status"] == "cancelled"
    assert card["last_rides"][0]["pickup"] == "12 Valiasr Street"


async def test_an_unknown_number_with_a_walk_in_ride_under_way_is_warned_about_it(pbx_client, operator):
    _, headers, ws = operator
    response = await pbx_client.post("/api/rides", headers={**headers, "Idempotency-Key": "w1"},
                                     json={"pickup": {"text": "Azadi Square"}, "walk_in_name": "Hasan",
                                           "walk_in_phone": "0935 111 2233"})
    ride = (await response.json())["ride"]
    await pbx_client.post("/api/pbx/call-events", headers=PBX, json=ring("c-walk", "09351112233"))
    card = await next_event(ws, "call.ringing")
    assert card["subscriber"] is None and [r["id"] for r in card["active_rides"]] == [ride["id"]]
