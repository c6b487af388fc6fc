import dataclasses

import pytest

from taxicrm.app import create_app
from tests.conftest import PASSWORD

IMPORT = "/api/subscribers/import"
EXPORT = "/api/subscribers/export"
CSV = {"Content-Type": "text/csv"}
FILE = "name,phones,addresses\nعلی رضایی,09121234567|همراه,خانه|خیابان ولیعصر\nReza,12,\n".encode()


@pytest.mark.parametrize(("role", "status"), [("operator", 403), ("supervisor", 200), ("admin", 200)])
async def test_only_supervisors_and_admins_import_and_export(client, staff_headers, role, status):
    headers = await staff_headers(role)
    imported = await client.post(IMPORT, data=FILE, headers={**headers, **CSV})
    exported = await client.get(EXPORT, headers=headers)
    assert (imported.status, exported.status) == (status, status)


async def test_an_anonymous_caller_must_log_in(client):
    assert (await client.post(IMPORT, data=FILE, headers=CSV)).status == 401
    assert (await client.get(EXPORT)).status == 401


async def test_an_import_answers_the_counts_and_every_rejected_row(client, staff_headers, db):
    headers = {**await staff_headers("supervisor"), **CSV}
    response = await client.post(IMPORT, data=FILE, headers=headers)
    body = await response.json()
    assert response.status == 200
    assert {k: body[k] for k in ("dry_run", "rows", "imported", "rejected", "already_imported")} == {
        "dry_run": False, "rows": 2, "imported": 1, "rejected": 1, "already_imported": 0}
    assert body["rejections"] == [{"line": 3, "code": "bad_phone", "reason": "phone '12': it has too few or too "
                                   "many digits", "name": "Reza", "phones": "12", "addresses": ""}]
    again = await (await client.post(IMPORT, data=FILE, headers=headers)).json()
    assert (again["imported"], again["already_imported"]) == (0, 1)
    assert await db.fetchval("SELECT count(*) FROM subscribers") == 1


async def test_a_dry_run_reports_and_changes_nothing(client, staff_headers, db):
    headers = {**await staff_headers("admin"), **CSV}
    body = await (await client.post(IMPORT + "?dry_run=true", data=FILE, headers=headers)).json()
    assert (body["dry_run"], body["imported"], body["rejected"]) == (True, 1, 1)
    assert await db.fetchval("SELECT count(*) FROM subscribers") == 0


async def test_the_export_is_a_csv_attachment_in_the_import_layout(client, staff_headers):
    headers = await staff_headers("admin")
    await client.post(IMPORT, data=FILE, headers={**headers, **CSV})
    response = await client.get(EXPORT, headers=headers)
    assert response.content_type == "text/csv" and response.charset == "utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="subscribers-')
    assert (await response.read()).decode() == (
        "\ufeffname,phones,addresses\nعلی رضایی,+989121234567|همراه,خانه|خیابان ولیعصر\n")


@pytest.mark.parametrize(
    ("path", "body", "content_type", "status", "code"),
    [
        (IMPORT, FILE, "application/json", 415, "unsupported_media_type"),
        (IMPORT + "?dry_run=perhaps", FILE, "text/csv", 400, "wrong_type"),
        (IMPORT, b"", "text/csv", 400, "invalid_import_file"),
        (IMPORT, "name,phones\nSara,09121234567\n".encode("utf-16"), "text/csv", 400, "invalid_import_file"),
        (IMPORT, b"name,telephone\nSara,09121234567\n", "text/csv", 400, "invalid_import_file"),
    ],
)
async def test_bad_input_gets_a_clear_4xx_and_changes_nothing(client, staff_headers, db, path, body,
                                                              content_type, status, code):
    response = await client.post(path, data=body, headers={**await staff_headers("admin"),
                                                            "Content-Type": content_type})
    error = (await response.json())["error"]
    assert response.status == status and error["code"] == code and error["message"]
    assert await db.fetchval("SELECT count(*) FROM subscribers") == 0


async def test_a_file_larger_than_the_body_limit_is_refused_with_413(aiohttp_client, settings, make_staff):
    client = await aiohttp_client(create_app(dataclasses.replace(settings, max_body_kb=1)))
    user = await make_staff("admin")
    login = await client.post("/api/auth/login", json={"username": user.username,
                                                       "password": PASSWORD})
    token = (await login.json())["token"]
    big = b"name,phones\n" + b"".join(f"Sara {i},0912{i:07d}\n".encode() for i in range(200))
    response = await client.post(IMPORT, data=big, headers={"Authorization": f"Bearer {token}", **CSV})
    assert response.status == 413 and (await response.json())["error"]["code"] == "body_too_large"


async def test_the_routes_are_documented(client, staff_headers):
    document = await (await client.get("/api/openapi.json", headers=await staff_headers("operator"))).json()
    assert {"post"} <= set(document["paths"][IMPORT]) and {"get"} <= set(document["paths"][EXPORT])
    assert "SubscriberImportResult" in document["components"]["schemas"]
