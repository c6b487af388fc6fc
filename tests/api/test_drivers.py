import pytest

from tests.api.test_realtime import HANDSHAKE

FULL = {
    "name": "  Hassan   Karimi ", "phone": "0912 123 4567", "licence_number": "۹۸۷۶۵۴۳۲۱۰",
    "plate": "۱۲ ب ۳۴۵ ایران ۶۷", "vehicle_make": "Iran Khodro", "vehicle_model": "Samand",
    "vehicle_colour": "White", "vehicle_class": "van", "contract_start": "2026-03-21", "contract_end": "2027-03-20",
    "commission_bp": 1250,
}


async def create(client, headers, **body):
    response = await client.post("/api/drivers", json=body, headers=headers)
    assert response.status == 201, await response.text()
    return (await response.json())["driver"]


async def test_an_admin_registers_a_driver_with_car_and_contract(client, staff_headers):
    admin = await staff_headers("admin")
    driver = await create(client, admin, **FULL)
    assert driver == {
        "id": driver["id"], "name": "Hassan Karimi", "status": "active", "suspended_reason": None,
        "suspended_at": None, "suspended_by": None, "phone": "+989121234567", "licence_number": "9876543210",
        "plate_kind": "iranian", "plate": "12ب34567", "plate_display": "12 ب 345 - 67", "vehicle_make": "Iran Khodro",
        "vehicle_model": "Samand", "vehicle_colour": "White", "vehicle_class": "van",
        "contract_start": "2026-03-21", "contract_end": "2027-03-20", "commission_bp": 1250,
        "created_at": driver["created_at"],
    }
    shown = await client.get(f"/api/drivers/{driver['id']}", headers=await staff_headers("supervisor"))
    assert shown.status == 200 and (await shown.json())["driver"] == driver


async def test_a_driver_with_only_a_name_gets_the_defaults(client, staff_headers):
    driver = await create(client, await staff_headers("admin"), name="Reza")
    assert (driver["vehicle_class"], driver["commission_bp"], driver["plate"], driver["phone"]) == (
        "sedan", 1500, None, None)


async def test_a_foreign_plate_is_free_text(client, staff_headers):
    driver = await create(client, await staff_headers("admin"), name="Ali", plate="ab 1234", plate_kind="other")
    assert (driver["plate_kind"], driver["plate"], driver["plate_display"]) == ("other", "AB1234", "ab 1234")


@pytest.mark.parametrize(("body", "status", "code"), [
    ({}, 400, "missing_field"),
    ({"name": "   "}, 400, "empty_field"),
    ({"name": "x" * 201}, 400, "too_long"),
    ({"name": "A", "salary": 5}, 400, "unknown_field"),
    ({"name": "A", "status": "suspended"}, 400, "unknown_field"),
    ({"name": "A", "phone": "12"}, 400, "invalid_phone"),
    ({"name": "A", "plate": "12 X 345 67"}, 400, "invalid_plate"),
    ({"name": "A", "plate": "12ب34567", "plate_kind": "martian"}, 400, "invalid_choice"),
    ({"name": "A", "plate_kind": "other"}, 400, "missing_field"),
    ({"name": "A", "vehicle_class": "bus"}, 400, "invalid_choice"),
    ({"name": "A", "vehicle_class": None}, 400, "missing_field"),
    ({"name": "A", "contract_start": "21/03/2026"}, 400, "invalid_date"),
    ({"name": "A", "contract_start": "2026-03-21", "contract_end": "2026-03-20"}, 400, "contract_dates_reversed"),
    ({"name": "A", "commission_bp": 10_001}, 400, "out_of_range"),
    ({"name": "A", "commission_bp": -1}, 400, "out_of_range"),
    ({"name": "A", "commission_bp": 12.5}, 400, "wrong_type"),
    ({"name": "A", "commission_bp": True}, 400, "wrong_type"),
    ({"name": "A", "vehicle_make": "x" * 51}, 400, "too_long"),
])
async def test_bad_driver_input_is_refused_and_nothing_is_stored(client, staff_headers, db, body, status, code):
    response = await client.post("/api/drivers", json=body, headers=await staff_headers("admin"))
    assert response.status == status and (await response.json())["error"]["code"] == code
    assert await db.fetchval("SELECT count(*) FROM drivers") == 0


async def test_a_phone_belongs_to_one_driver(client, staff_headers, db):
    admin = await staff_headers("admin")
    await create(client, admin, name="First", phone="09121234567")
    taken = await client.post("/api/drivers", json={"name": "Second", "phone": "+98 912 123 4567"}, headers=admin)
    assert taken.status == 409 and (await taken.json())["error"]["code"] == "driver_phone_taken"
    assert await db.fetchval("SELECT count(*) FROM drivers") == 1


async def test_patch_changes_only_the_fields_sent_and_null_clears(client, staff_headers):
    admin = await staff_headers("admin")
    driver = await create(client, admin, **FULL)
    response = await client.patch(f"/api/drivers/{driver['id']}", headers=admin,
                                  json={"vehicle_colour": "Black", "plate": None, "commission_bp": 0})
    assert response.status == 200, await response.text()
    changed = (await response.json())["driver"]
    assert changed == {**driver, "vehicle_colour": "Black", "plate": None, "plate_kind": None,
                       "plate_display": None, "commission_bp": 0}


async def test_patch_refuses_bad_input_and_a_contract_ending_before_the_stored_start(client, staff_headers):
    admin = await staff_headers("admin")
    driver = await create(client, admin, **FULL)
    for body, code in (({"contract_end": "2026-01-01"}, "contract_dates_reversed"), ({"name": ""}, "empty_field"),
                       ({"phone": "abc"}, "invalid_phone")):
        response = await client.patch(f"/api/drivers/{driver['id']}", json=body, headers=admin)
        assert response.status == 400 and (await response.json())["error"]["code"] == code
    unchanged = await client.get(f"/api/drivers/{driver['id']}", headers=admin)
    assert (await unchanged.json())["driver"] == driver


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/drivers/424242", None), ("PATCH", "/api/drivers/424242", {"name": "x"}),
    ("POST", "/api/drivers/424242/suspend", {"reason": "x"}), ("POST", "/api/drivers/424242/reinstate", None),
    ("GET", "/api/drivers/abc", None),
])
async def test_an_unknown_driver_is_a_404(client, staff_headers, method, path, body):
    response = await client.request(method, path, json=body, headers=await staff_headers("admin"))
    assert response.status == 404 and (await response.json())["error"]["code"] == "driver_not_found"


async def driver_socket_status(client, token):
    return (await client.get("/ws/driver", params={"token": token}, headers=HANDSHAKE)).status


async def test_suspension_locks_the_drivers_app_out_at_once_and_reinstating_lets_it_back(
        client, staff_headers, make_driver):
    admin = await staff_headers("admin")
    driver, token = await make_driver()
    assert await driver_socket_status(client, token) == 101

    response = await client.post(f"/api/drivers/{driver.id}/suspend", json={"reason": " Complaints  "}, headers=admin)
    assert response.status == 200, await response.text()
    suspended = (await response.json())["driver"]
    assert (suspended["status"], suspended["suspended_reason"]) == ("suspended", "Complaints")
    assert suspended["suspended_at"] is not None and suspended["suspended_by"] is not None
    assert await driver_socket_status(client, token) == 401
    again = await client.post(f"/api/drivers/{driver.id}/suspend", json={"reason": "again"}, headers=admin)
    assert again.status == 409 and (await again.json())["error"]["code"] == "driver_already_suspended"

    reinstated = await client.post(f"/api/drivers/{driver.id}/reinstate", headers=admin)
    assert reinstated.status == 200
    assert (await reinstated.json())["driver"] | {"id": 0} == {**suspended, "id": 0, "status": "active",
                                                              "suspended_reason": None, "suspended_at": None,
                                                              "suspended_by": None}
    assert await driver_socket_status(client, token) == 101
    twice = await client.post(f"/api/drivers/{driver.id}/reinstate", headers=admin)
    assert twice.status == 409 and (await twice.json())["error"]["code"] == "driver_not_suspended"


@pytest.mark.parametrize(("body", "code"), [({}, "missing_field"), ({"reason": "  "}, "reason_required"),
                                            ({"reason": "x" * 501}, "too_long")])
async def test_a_suspension_must_say_why(client, staff_headers, make_driver, db, body, code):
    driver, _ = await make_driver()
    response = await client.post(f"/api/drivers/{driver.id}/suspend", json=body, headers=await staff_headers("admin"))
    assert response.status == 400 and (await response.json())["error"]["code"] == code
    assert await db.fetchval("SELECT status FROM drivers WHERE id = $1", driver.id) == "active"


@pytest.mark.parametrize(("method", "suffix", "allowed"), [
    ("GET", "", {"admin", "supervisor"}),
    ("PATCH", "", {"admin"}),
    ("POST", "/suspend", {"admin"}),
    ("POST", "/reinstate", {"admin"}),
])
async def test_only_admins_change_drivers_and_supervisors_may_read(client, staff_headers, make_driver, method,
                                                                   suffix, allowed):
    driver, token = await make_driver()
    for role in ("operator", "supervisor", "admin"):
        if role in allowed:
            continue
        response = await client.request(method, f"/api/drivers/{driver.id}{suffix}", json={"reason": "r"},
                                        headers=await staff_headers(role))
        assert response.status == 403, role
    as_driver = await client.request(method, f"/api/drivers/{driver.id}{suffix}", json={"reason": "r"},
                                     headers={"Authorization": f"Bearer {token}"})
    assert as_driver.status == 403
