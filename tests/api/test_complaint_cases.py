"""Complaints and praise handled as cases through the real app: the workflow with its history, outcomes (a real
driver suspension), SLA clocks and overdue cases, evidence gathered from dispatch and the call log, the taxonomy,
live events to the consoles, role checks, and the facts reports read."""

import dataclasses
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp import web

from callcenter.model import StaffUser
from dispatch import service as drivers
from feedback import reporting
from taxicrm.app import create_app
from taxicrm.settings import Settings
from tests.api.feedback_trips import Client, Headers, Json, book_by_phone, drive, online
from tests.api.test_realtime import HANDSHAKE
from tests.conftest import PASSWORD

SECRET = "pbx-secret-for-cases"


@pytest.fixture
def app(settings: Settings) -> web.Application:
    return create_app(dataclasses.replace(settings, webhook_secret=SECRET))


@pytest.fixture
def login(client: Client, make_staff: Callable[..., Awaitable[StaffUser]]
          ) -> Callable[[str], Awaitable[tuple[StaffUser, Headers]]]:
    """Factory: a new staff member of a role, logged in: (user, auth headers)."""

    async def log_in(role: str) -> tuple[StaffUser, Headers]:
        user = await make_staff(role)
        response = await client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})
        client.session.cookie_jar.clear()
        return user, {"Authorization": f"Bearer {(await response.json())['token']}"}

    return log_in


async def call(client: Client, method: str, path: str, status: int, headers: Headers, body: Any = None) -> Json:
    response = await client.request(method, path, json=body, headers=headers)
    found: Json = await response.json()
    assert response.status == status, found
    return found


async def open_case(client: Client, headers: Headers, **body: Any) -> Json:
    found = await call(client, "POST", "/api/complaints", 201, headers,
                       {"category": "rude_driver", "description": "The driver shouted at me.", **body})
    complaint: Json = found["complaint"]
    return complaint


async def step(client: Client, headers: Headers, complaint_id: int, expect: int = 200, **body: Any) -> Json:
    """Ask for a step of the workflow (`status=...` and what goes with it), expecting HTTP status `expect`."""
    return await call(client, "POST", f"/api/complaints/{complaint_id}/status", expect, headers, body)


async def history(client: Client, headers: Headers, complaint_id: int) -> list[Json]:
    events: list[Json] = (await call(client, "GET", f"/api/complaints/{complaint_id}", 200, headers))["events"]
    return events


async def listed(client: Client, headers: Headers, query: str) -> list[int]:
    found = await call(client, "GET", f"/api/complaints?{query}", 200, headers)
    return [c["id"] for c in found["complaints"]]


async def test_a_case_goes_through_the_workflow_with_every_step_in_its_history(client, login):
    operator, as_operator = await login("operator")
    _, as_supervisor = await login("supervisor")
    case = await open_case(client, as_operator, priority="high")
    # Clocks by priority (high: first response within 1 hour, resolution within 24).
    opened = datetime.fromisoformat(case["created_at"])
    assert datetime.fromisoformat(case["sla"]["first_response"]["due_at"]) - opened == timedelta(hours=1)
    assert datetime.fromisoformat(case["sla"]["resolution"]["due_at"]) - opened == timedelta(hours=24)
    assert case["sla"]["first_response"]["state"] == "running" and case["is_overdue"] is False
    assert case["kind"] == "complaint" and case["first_response_at"] is None

    assigned = await call(client, "POST", f"/api/complaints/{case['id']}/assign", 200, as_supervisor,
                          {"assignee_id": operator.id, "expected_version": case["version"]})
    complaint = assigned["complaint"]
    assert (complaint["status"], complaint["assignee_id"], complaint["assignee_name"]) == (
        "assigned", operator.id, operator.display_name)
    assert complaint["first_response_at"] is not None and complaint["sla"]["first_response"]["state"] == "met"

    # The assignee moves their own case along.
    pending = await step(client, as_operator, case["id"], status="pending", comment="Waiting for the driver's side.")
    assert pending["complaint"]["status"] == "pending"
    resolved = await step(client, as_operator, case["id"], status="resolved", outcome="warning",
                          outcome_note="Driver warned in writing.", comment="Spoke to both.")
    complaint = resolved["complaint"]
    assert (complaint["status"], complaint["outcome"], complaint["outcome_note"], complaint["is_open"]) == (
        "resolved", "warning", "Driver warned in writing.", False)
    assert complaint["closed_at"] is not None and complaint["sla"]["resolution"]["state"] == "met"
    assert [e["kind"] for e in resolved["events"]] == ["status_changed", "outcome_set"]

    # Reopened: the outcome is cleared from the case and kept in its history.
    reopened = await step(client, as_supervisor, case["id"], status="pending", comment="Customer called again.")
    assert (reopened["complaint"]["outcome"], reopened["complaint"]["closed_at"]) == (None, None)
    marked = await step(client, as_supervisor, case["id"], status="duplicate",
                        duplicate_of=(await open_case(client, as_operator))["id"])
    assert marked["complaint"]["status"] == "duplicate" and marked["complaint"]["duplicate_of"] is not None

    entries = await history(client, as_operator, case["id"])
    assert [(e["kind"], e["from_status"], e["to_status"]) for e in entries] == [
        ("opened", None, "new"), ("assigned", "new", "assigned"), ("status_changed", "assigned", "pending"),
        ("status_changed", "pending", "resolved"), ("outcome_set", None, None),
        ("status_changed", "resolved", "pending"), ("status_changed", "pending", "duplicate")]
    assert entries[1]["details"]["assignee_id"] == operator.id
    assert entries[2]["body"] == "Waiting for the driver's side." and entries[3]["body"] == "Spoke to both."
    assert entries[4]["details"] == {"outcome": "warning", "outcome_note": "Driver warned in writing."}
    assert entries[6]["details"] == {"duplicate_of": marked["complaint"]["duplicate_of"]}


async def test_steps_the_workflow_does_not_allow_are_refused_with_a_code_and_change_nothing(client, login, db):
    operator, as_operator = await login("operator")
    other, _ = await login("operator")
    _, as_supervisor = await login("supervisor")
    case = await open_case(client, as_operator)
    closed = await open_case(client, as_operator)
    await step(client, as_supervisor, closed["id"], status="rejected", comment="Not our taxi.")
    await call(client, "POST", f"/api/complaints/{case['id']}/assign", 200, as_supervisor, {"assignee_id": other.id})
    before = (await call(client, "GET", f"/api/complaints/{case['id']}", 200, as_supervisor))
    events_before = await db.fetchval("SELECT count(*) FROM complaint_events")
    url = f"/api/complaints/{case['id']}"

    refusals = [
        (as_supervisor, "status", {"status": "new"}, 409, "illegal_status_change"),
        (as_supervisor, "status", {"status": "assigned"}, 409, "illegal_status_change"),
        (as_supervisor, "status", {"status": "closed"}, 400, "invalid_choice"),
        (as_supervisor, "status", {}, 400, "missing_field"),
        (as_supervisor, "status", {"status": "resolved"}, 400, "outcome_required"),
        (as_supervisor, "status", {"status": "resolved", "outcome": "commended"}, 400, "outcome_not_for_kind"),
        (as_supervisor, "status", {"status": "resolved", "outcome": "fined"}, 400, "invalid_choice"),
        (as_supervisor, "status", {"status": "pending", "outcome": "refund"}, 400, "outcome_only_when_resolving"),
        (as_supervisor, "status", {"status": "duplicate"}, 400, "duplicate_of_required"),
        (as_supervisor, "status", {"status": "duplicate", "duplicate_of": case["id"]}, 400, "duplicate_of_itself"),
        (as_supervisor, "status", {"status": "duplicate", "duplicate_of": 999999}, 404, "duplicate_of_not_found"),
        (as_supervisor, "status", {"status": "pending", "expected_version": 1}, 409, "complaint_changed"),
        (as_supervisor, "status", {"status": "resolved", "outcome": "driver_suspended"}, 400, "no_driver_to_suspend"),
        (as_operator, "status", {"status": "pending"}, 403, "not_your_case"),
        (as_operator, "assign", {"assignee_id": operator.id}, 403, "forbidden"),
        (as_supervisor, "assign", {"assignee_id": other.id}, 409, "already_assigned"),
        (as_supervisor, "assign", {"assignee_id": 999999}, 404, "assignee_not_found"),
        (as_supervisor, "assign", {"assignee_id": "7"}, 400, "wrong_type"),
        (as_supervisor, "assign", {"assignee_id": operator.id, "expected_version": 1}, 409, "complaint_changed"),
    ]
    for headers, action, body, status, code in refusals:
        found = await call(client, "POST", f"{url}/{action}", status, headers, body)
        assert found["error"]["code"] == code, (action, body, found)
        assert found["error"]["message"]
    closed_url = f"/api/complaints/{closed['id']}"
    for action, body, status, code in (("assign", {"assignee_id": operator.id}, 409, "case_closed"),
                                       ("status", {"status": "resolved", "outcome": "no_action"}, 409,
                                        "illegal_status_change")):
        found = await call(client, "POST", f"{closed_url}/{action}", status, as_supervisor, body)
        assert found["error"]["code"] == code
    missing = await call(client, "POST", "/api/complaints/999999/status", 404, as_supervisor, {"status": "pending"})
    assert missing["error"]["code"] == "complaint_not_found"

    after = await call(client, "GET", f"/api/complaints/{case['id']}", 200, as_supervisor)
    assert after["complaint"]["version"] == before["complaint"]["version"]
    assert after["complaint"]["status"] == "assigned" and after["events"] == before["events"]
    assert await db.fetchval("SELECT count(*) FROM complaint_events") == events_before


async def test_resolving_with_a_suspension_really_suspends_the_driver(client, login, make_driver, db):
    _, as_operator = await login("operator")
    _, as_supervisor = await login("supervisor")
    _, as_admin = await login("admin")
    driver, app = await online(client, make_driver, "Reckless Driver")
    ride = await book_by_phone(client, as_operator)
    await drive(app, ride["id"])
    await app.close()
    case = await open_case(client, as_operator, category="unsafe_driving", ride_id=ride["id"])
    assert case["driver_id"] == driver.id

    refused = await step(client, as_supervisor, case["id"], 403, status="resolved", outcome="driver_suspended")
    assert refused["error"]["code"] == "suspension_needs_admin"
    assert (await drivers.driver_profile(db, driver.id)).status.value == "active"

    resolved = await step(client, as_admin, case["id"], status="resolved", outcome="driver_suspended",
                          outcome_note="Ran two red lights with a passenger.")
    assert resolved["complaint"]["outcome"] == "driver_suspended"
    profile = await drivers.driver_profile(db, driver.id)
    assert profile.status.value == "suspended"
    assert f"Complaint #{case['id']}" in (profile.suspended_reason or "")
    assert "Ran two red lights" in (profile.suspended_reason or "")
    suspension = resolved["events"][-1]["details"]["driver_suspension"]
    assert suspension == {"driver_id": driver.id, "already_suspended": False, "reason": profile.suspended_reason}

    # A second complaint about the already suspended driver records the outcome and says so.
    second = await open_case(client, as_operator, category="rude_driver", ride_id=ride["id"])
    again = await step(client, as_admin, second["id"], status="resolved", outcome="driver_suspended")
    assert again["events"][-1]["details"]["driver_suspension"]["already_suspended"] is True


async def test_a_driver_suspended_by_a_complaint_is_locked_out_of_the_app(client, login, make_driver):
    _, as_operator = await login("operator")
    _, as_admin = await login("admin")
    driver, token = await make_driver("Soon Suspended")
    assert (await client.get("/ws/driver", params={"token": token}, headers=HANDSHAKE)).status == 101
    case = await open_case(client, as_operator, driver_id=driver.id)
    await step(client, as_admin, case["id"], status="resolved", outcome="driver_suspended", outcome_note="Fraud")
    assert (await client.get("/ws/driver", params={"token": token}, headers=HANDSHAKE)).status == 401


async def test_a_complaint_about_a_ride_shows_its_evidence(client, login, make_driver, db):
    _, as_operator = await login("operator")
    driver, app = await online(client, make_driver)
    pbx = {"X-Taxicrm-Secret": SECRET}
    rang = await client.post("/api/pbx/call-events", headers=pbx,
                             json={"event": "ringing", "call_id": "c-77", "caller": "09127654321", "extensions": "201"})
    call_id = (await rang.json())["call_id"]
    ride = await book_by_phone(client, as_operator, call_id=call_id)
    await drive(app, ride["id"])
    await app.close()
    await call(client, "PUT", f"/api/ratings/{ride['id']}", 200, as_operator, {"value": 1})
    case = await open_case(client, as_operator, category="wrong_route", ride_id=ride["id"])

    found = await call(client, "GET", f"/api/complaints/{case['id']}/evidence", 200, as_operator)
    assert found["complaint_id"] == case["id"]
    shown = found["ride"]
    assert shown["ride"]["id"] == ride["id"] and shown["ride"]["status"] == "completed"
    assert [e["action"] for e in shown["events"]] == ["book", "offer", "accept", "arrive", "pick_up", "complete"]
    assert [(o["driver_id"], o["status"]) for o in shown["offers"]] == [(driver.id, "accepted")]
    fare = shown["ride"]["fare"]
    assert fare["lines"] and sum(line["amount_rials"] for line in fare["lines"]) == fare["total_rials"]
    assert shown["ride"]["quote"]["lines"]
    trace = shown["trace"]
    assert trace["count"] == 11 and len(trace["points"]) == 11 and trace["started_at"] < trace["ended_at"]
    assert trace["points"][0] == pytest.approx([35.6997, 51.3380])
    assert found["driver"]["id"] == driver.id and found["driver"]["name"] == "Hassan Karimi"
    assert [(c["role"], c["id"], c["caller_e164"]) for c in found["calls"]] == [("booking", call_id, "+989127654321")]
    assert found["rating"]["value"] == 1

    # A case about a driver alone shows the driver; one on a call shows that call.
    about_driver = await open_case(client, as_operator, driver_id=driver.id, call_id=call_id)
    plain = await call(client, "GET", f"/api/complaints/{about_driver['id']}/evidence", 200, as_operator)
    assert plain["ride"] is None and plain["driver"]["id"] == driver.id
    assert [c["role"] for c in plain["calls"]] == ["complaint"]
    missing = await call(client, "GET", "/api/complaints/999999/evidence", 404, as_operator)
    assert missing["error"]["code"] == "complaint_not_found"


async def test_overdue_cases_are_flagged_and_listed(client, login, db):
    _, as_operator = await login("operator")
    late = await open_case(client, as_operator, priority="urgent")
    answered_late = await open_case(client, as_operator, priority="low")
    on_time = await open_case(client, as_operator)
    praise = await open_case(client, as_operator, category="courteous_driver", description="Lovely driver.")
    # As if time passed: the urgent case's first response is past due, the low one's resolution.
    await db.execute("UPDATE complaints SET first_response_due = now() - interval '1 minute' WHERE id = $1", late["id"])
    await db.execute("UPDATE complaints SET first_response_at = now(), resolution_due = now() - interval '1 minute' "
                     "WHERE id = $1", answered_late["id"])

    assert await listed(client, as_operator, "overdue=true") == [answered_late["id"], late["id"]]
    assert await listed(client, as_operator, "overdue=false") == [praise["id"], on_time["id"]]
    shown = await call(client, "GET", f"/api/complaints/{late['id']}", 200, as_operator)
    assert shown["complaint"]["is_overdue"] is True
    assert shown["complaint"]["sla"]["first_response"]["state"] == "overdue"
    assert shown["complaint"]["sla"]["resolution"]["state"] == "running"
    assert praise["sla"] == {"first_response": None, "resolution": None} and praise["is_overdue"] is False
    # Answering it stops the first-response clock, late: breached, and no longer overdue.
    await call(client, "POST", f"/api/complaints/{late['id']}/comments", 201, as_operator, {"body": "Calling now."})
    shown = await call(client, "GET", f"/api/complaints/{late['id']}", 200, as_operator)
    assert shown["complaint"]["sla"]["first_response"]["state"] == "breached" and not shown["complaint"]["is_overdue"]


async def test_cases_are_filtered_by_kind_category_priority_and_assignee(client, login):
    operator, as_operator = await login("operator")
    _, as_supervisor = await login("supervisor")
    rude = await open_case(client, as_operator)
    lost = await open_case(client, as_operator, category="lost_item")
    urgent = await open_case(client, as_operator, category="late_pickup", priority="urgent")
    kind = await open_case(client, as_operator, category="courteous_driver", description="Helped with bags.")
    await call(client, "POST", f"/api/complaints/{lost['id']}/assign", 200, as_supervisor, {"assignee_id": operator.id})

    assert await listed(client, as_operator, "kind=praise") == [kind["id"]]
    assert await listed(client, as_operator, "kind=complaint") == [urgent["id"], lost["id"], rude["id"]]
    assert await listed(client, as_operator, "category=rude_driver,lost_item") == [lost["id"], rude["id"]]
    assert await listed(client, as_operator, "priority=urgent,high") == [urgent["id"], lost["id"]]
    assert await listed(client, as_operator, "assignee=me") == [lost["id"]]
    assert await listed(client, as_operator, f"assignee={operator.id}&status=assigned") == [lost["id"]]
    assert await listed(client, as_supervisor, "assignee=me") == []
    for query, code in (("kind=gossip", "invalid_choice"), ("priority=asap", "invalid_choice"),
                        ("overdue=maybe", "wrong_type"), ("assignee=you", "wrong_type")):
        found = await call(client, "GET", f"/api/complaints?{query}", 400, as_operator)
        assert found["error"]["code"] == code


async def test_praise_is_a_case_of_its_own_kind_closed_with_a_commendation(client, login):
    _, as_operator = await login("operator")
    _, as_supervisor = await login("supervisor")
    praise = await open_case(client, as_operator, category="item_returned", description="Returned my wallet!")
    assert (praise["kind"], praise["priority"], praise["category_names"]["en"]) == ("praise", "low",
                                                                                    "Lost item returned")
    refused = await step(client, as_supervisor, praise["id"], 400, status="resolved", outcome="warning")
    assert refused["error"]["code"] == "outcome_not_for_kind"
    thanked = await step(client, as_supervisor, praise["id"], status="resolved", outcome="commended",
                         outcome_note="Thanked on the radio.")
    assert thanked["complaint"]["outcome"] == "commended"


async def test_admins_edit_the_taxonomy(client, login):
    _, as_operator = await login("operator")
    _, as_supervisor = await login("supervisor")
    _, as_admin = await login("admin")
    added = await call(client, "POST", "/api/complaint-categories", 201, as_admin,
                       {"code": "smoking", "names": {"en": "Smoking in the car", "fa": "سیگار کشیدن در خودرو"},
                        "default_priority": "high", "position": 45})
    assert added["category"] == {"code": "smoking", "kind": "complaint",
                                 "names": {"en": "Smoking in the car", "fa": "سیگار کشیدن در خودرو"},
                                 "default_priority": "high", "position": 45, "is_active": True}
    case = await open_case(client, as_operator, category="smoking")
    assert case["priority"] == "high"
    codes = [c["code"] for c in (await call(client, "GET", "/api/complaint-categories?kind=complaint", 200,
                                            as_operator))["categories"]]
    assert codes.index("smoking") == codes.index("unsafe_driving") + 1  # placed between positions 40 and 50

    renamed = await call(client, "PATCH", "/api/complaint-categories/smoking", 200, as_admin,
                         {"names": {"en": "Smoking"}})
    assert renamed["category"]["names"] == {"en": "Smoking", "fa": "سیگار کشیدن در خودرو"}
    retired = await call(client, "PATCH", "/api/complaint-categories/smoking", 200, as_admin, {"is_active": False})
    assert retired["category"]["is_active"] is False
    refused = await call(client, "POST", "/api/complaints", 400, as_operator,
                         {"category": "smoking", "description": "Again"})
    assert refused["error"]["code"] == "retired_category"
    # The retired category keeps its cases, named as now.
    kept = await call(client, "GET", f"/api/complaints/{case['id']}", 200, as_operator)
    assert kept["complaint"]["category_names"]["en"] == "Smoking"
    everything = await call(client, "GET", "/api/complaint-categories?retired=true", 200, as_operator)
    assert "smoking" in [c["code"] for c in everything["categories"]]
    await call(client, "PATCH", "/api/complaint-categories/smoking", 200, as_admin, {"is_active": True})
    await open_case(client, as_operator, category="smoking")
    praise = await call(client, "POST", "/api/complaint-categories", 201, as_admin,
                        {"code": "great_music", "kind": "praise", "names": {"en": "Great music", "fa": "موسیقی خوب"}})
    assert (praise["category"]["kind"], praise["category"]["default_priority"]) == ("praise", "low")

    for method, path, body, status, code in (
            ("POST", "/api/complaint-categories", {"code": "smoking", "names": {"en": "x", "fa": "y"}}, 409,
             "category_exists"),
            ("POST", "/api/complaint-categories", {"code": "Bad Code", "names": {"en": "x", "fa": "y"}}, 400,
             "invalid_code"),
            ("POST", "/api/complaint-categories", {"code": "nameless", "names": {"en": " ", "fa": "y"}}, 400,
             "missing_field"),
            ("POST", "/api/complaint-categories",
             {"code": "oddkind", "kind": "gossip", "names": {"en": "x", "fa": "y"}}, 400, "invalid_choice"),
            ("PATCH", "/api/complaint-categories/smoking", {}, 400, "nothing_to_change"),
            ("PATCH", "/api/complaint-categories/smoking", {"position": -1}, 400, "out_of_range"),
            ("PATCH", "/api/complaint-categories/aliens", {"is_active": False}, 404, "category_not_found")):
        found = await call(client, method, path, status, as_admin, body)
        assert found["error"]["code"] == code, (path, body, found)
    for headers in (as_operator, as_supervisor):
        found = await call(client, "PATCH", "/api/complaint-categories/smoking", 403, headers, {"is_active": False})
        assert found["error"]["code"] == "forbidden"


async def test_the_consoles_hear_of_cases_as_they_open_and_change(client, login):
    operator, as_operator = await login("operator")
    _, as_supervisor = await login("supervisor")
    async with client.ws_connect("/ws", headers=as_supervisor) as supervisor_ws, \
            client.ws_connect("/ws", headers=as_operator) as operator_ws:
        for ws in (supervisor_ws, operator_ws):
            assert (await ws.receive_json(timeout=5))["type"] == "hello"
        case = await open_case(client, as_operator)
        await call(client, "POST", f"/api/complaints/{case['id']}/assign", 200, as_supervisor,
                   {"assignee_id": operator.id})
        for ws in (supervisor_ws, operator_ws):
            opened = await next_event(ws, "complaint.")
            assert opened["topic"] == "complaint.opened" and opened["data"]["complaint"]["id"] == case["id"]
            changed = await next_event(ws, "complaint.")
            assert changed["topic"] == "complaint.changed"
            assert changed["data"]["complaint"]["status"] == "assigned"
            assert changed["data"]["event"]["kind"] == "assigned"


async def next_event(ws: Any, prefix: str) -> Json:
    while True:
        message = json.loads((await ws.receive(timeout=5)).data)
        if message["type"] == "event" and message["topic"].startswith(prefix):
            found: Json = message
            return found


async def test_reports_read_cases_changed_since_their_cursor(client, login, db: asyncpg.Pool):
    operator, as_operator = await login("operator")
    _, as_supervisor = await login("supervisor")
    first = await open_case(client, as_operator, priority="urgent")
    praise = await open_case(client, as_operator, category="on_time", description="Right on time.")
    read = await reporting.complaints_changed_since(db)
    assert [(f.id, f.kind.value, f.category, f.priority.value, f.status.value) for f in read.facts] == [
        (first["id"], "complaint", "rude_driver", "urgent", "new"), (praise["id"], "praise", "on_time", "low", "new")]
    assert read.facts[0].resolution_due is not None and read.facts[1].resolution_due is None
    assert (await reporting.complaints_changed_since(db, read.cursor)).facts == ()

    await call(client, "POST", f"/api/complaints/{first['id']}/assign", 200, as_supervisor,
               {"assignee_id": operator.id})
    await step(client, as_supervisor, first["id"], status="resolved", outcome="refund")
    later = await reporting.complaints_changed_since(db, read.cursor)
    [fact] = later.facts
    assert (fact.id, fact.status.value, fact.outcome.value if fact.outcome else None, fact.assignee_id) == (
        first["id"], "resolved", "refund", operator.id)
    assert fact.first_response_at is not None and fact.closed_at is not None and fact.created_at < fact.closed_at
    assert later.cursor.xid >= read.cursor.xid
    started = datetime.now(UTC) - timedelta(minutes=1)
    assert fact.created_at > started


async def test_a_slow_transaction_s_change_is_read_once_it_commits_never_skipped(client, login, db: asyncpg.Pool):
    _, as_operator = await login("operator")
    slow = await open_case(client, as_operator)
    read = await reporting.complaints_changed_since(db)
    async with db.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        # Changed first, committed last: a timestamp or sequence watermark would pass it by.
        await conn.execute("UPDATE complaints SET priority = 'urgent' WHERE id = $1", slow["id"])
        quick = await open_case(client, as_operator)
        meanwhile = await reporting.complaints_changed_since(db, read.cursor)
        assert [f.id for f in meanwhile.facts] == []  # the quick case waits behind the open transaction
        await transaction.commit()
    after = await reporting.complaints_changed_since(db, meanwhile.cursor)
    assert [(f.id, f.priority.value) for f in after.facts] == [(slow["id"], "urgent"), (quick["id"], "normal")]


async def test_an_open_case_is_re_triaged_with_its_clocks_moved_and_the_change_in_its_history(client, login, db):
    operator, as_operator = await login("operator")
    _, as_other = await login("operator")
    _, as_supervisor = await login("supervisor")
    case = await open_case(client, as_operator)
    assert (case["category"], case["priority"]) == ("rude_driver", "normal")
    url = f"/api/complaints/{case['id']}/triage"

    found = await call(client, "POST", url, 200, as_supervisor,
                       {"category": "late_pickup", "priority": "high", "comment": "The caller meant the wait."})
    triaged = found["complaint"]
    assert (triaged["category"], triaged["priority"]) == ("late_pickup", "high")
    assert triaged["category_names"]["en"] and triaged["version"] == case["version"] + 1
    opened = datetime.fromisoformat(case["created_at"])
    # High: first response within an hour, resolution within a day, both still from the opening.
    assert datetime.fromisoformat(triaged["sla"]["first_response"]["due_at"]) - opened == timedelta(hours=1)
    assert datetime.fromisoformat(triaged["sla"]["resolution"]["due_at"]) - opened == timedelta(hours=24)
    assert triaged["first_response_at"] is not None  # re-triaging is doing something with the case
    [entry] = found["events"]
    assert entry["kind"] == "triaged" and entry["body"] == "The caller meant the wait."
    assert entry["details"] == {"category": "late_pickup", "previous_category": "rude_driver",
                                "priority": "high", "previous_priority": "normal"}
    assert (await history(client, as_supervisor, case["id"]))[-1] == entry
    assert await listed(client, as_supervisor, "category=late_pickup") == [case["id"]]

    # Its assignee may re-triage it too; another operator may not.
    await call(client, "POST", f"/api/complaints/{case['id']}/assign", 200, as_supervisor, {"assignee_id": operator.id})
    by_assignee = await call(client, "POST", url, 200, as_operator, {"priority": "urgent"})
    assert by_assignee["complaint"]["priority"] == "urgent"
    before = await call(client, "GET", f"/api/complaints/{case['id']}", 200, as_supervisor)
    closed = await open_case(client, as_operator)
    await step(client, as_supervisor, closed["id"], status="rejected")
    refusals = [
        (as_other, url, {"priority": "low"}, 403, "not_your_case"),
        (as_supervisor, url, {}, 400, "missing_field"),
        (as_supervisor, url, {"category": "no_such_thing"}, 400, "unknown_category"),
        (as_supervisor, url, {"category": "courteous_driver"}, 400, "category_kind_mismatch"),
        (as_supervisor, url, {"category": "late_pickup", "priority": "urgent"}, 400, "nothing_to_change"),
        (as_supervisor, url, {"priority": "soon"}, 400, "invalid_choice"),
        (as_supervisor, url, {"priority": 3}, 400, "wrong_type"),
        (as_supervisor, url, {"priority": "low", "expected_version": 1}, 409, "complaint_changed"),
        (as_supervisor, f"/api/complaints/{closed['id']}/triage", {"priority": "low"}, 409, "case_closed"),
        (as_supervisor, "/api/complaints/999999/triage", {"priority": "low"}, 404, "complaint_not_found"),
    ]
    events_before = await db.fetchval("SELECT count(*) FROM complaint_events")
    for headers, path, body, status, code in refusals:
        refused = await call(client, "POST", path, status, headers, body)
        assert refused["error"]["code"] == code, (body, refused)
        assert refused["error"]["message"]
    after = await call(client, "GET", f"/api/complaints/{case['id']}", 200, as_supervisor)
    assert after == before
    assert await db.fetchval("SELECT count(*) FROM complaint_events") == events_before
