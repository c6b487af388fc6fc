import dataclasses

import pytest

from callcenter.routes import SESSION_COOKIE
from taxicrm.app import create_app
from tests.conftest import PASSWORD


async def login(client, username, password=PASSWORD):
    return await client.post("/api/auth/login", json={"username": username, "password": password})


async def test_login_opens_a_session_usable_by_cookie_and_by_token(aiohttp_client, app, make_staff):
    user = await make_staff("operator", extension="204")
    client = await aiohttp_client(app)
    response = await login(client, "  " + user.username.upper() + " ")
    body = await response.json()
    assert response.status == 200
    assert body["user"]["username"] == user.username and body["user"]["extension"] == "204"
    assert "password_hash" not in body["user"]
    cookie = response.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    # The cookie jar carries the session, as in the browser console.
    me = await client.get("/api/auth/me")
    assert me.status == 200 and (await me.json())["role"] == "operator"
    # The token works on its own, as for API clients.
    client.session.cookie_jar.clear()
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert (await me.json())["id"] == user.id


async def test_the_password_is_stored_as_an_argon2_hash(client, make_staff, db):
    user = await make_staff("operator")
    stored = await db.fetchval("SELECT password_hash FROM staff_users WHERE id = $1", user.id)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


async def test_wrong_password_and_unknown_user_look_the_same(client, make_staff):
    user = await make_staff("operator")
    wrong = await login(client, user.username, "not the password")
    unknown = await login(client, "nobody-here")
    for response in (wrong, unknown):
        assert response.status == 401
        assert (await response.json())["error"] == {"code": "invalid_credentials",
                                                     "message": "Wrong username or password."}


async def test_repeated_failures_are_rate_limited_even_with_the_right_password(aiohttp_client, settings,
                                                                               make_staff):
    client = await aiohttp_client(create_app(dataclasses.replace(settings, login_max_failures=3)))
    user = await make_staff("operator")
    for _ in range(3):
        assert (await login(client, user.username, "guess guess guess")).status == 401
    refused = await login(client, user.username)
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert (await refused.json())["error"]["code"] == "too_many_login_attempts"


async def test_logout_ends_the_session(aiohttp_client, app, make_staff):
    user = await make_staff("supervisor")
    client = await aiohttp_client(app)
    token = (await (await login(client, user.username)).json())["token"]
    assert (await client.post("/api/auth/logout")).status == 200
    assert (await client.get("/api/auth/me")).status == 401
    assert (await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})).status == 401


async def test_a_deactivated_user_loses_their_session_at_once(client, make_staff, db):
    user = await make_staff("operator")
    token = (await (await login(client, user.username)).json())["token"]
    await db.execute("UPDATE staff_users SET is_active = false WHERE id = $1", user.id)
    client.session.cookie_jar.clear()
    assert (await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})).status == 401
    assert (await login(client, user.username)).status == 401


async def test_expired_sessions_are_refused(client, make_staff, db):
    user = await make_staff("operator")
    token = (await (await login(client, user.username)).json())["token"]
    await db.execute("UPDATE staff_sessions SET expires_at = now() - interval '1 second'")
    client.session.cookie_jar.clear()
    assert (await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})).status == 401


# Who may do what: (method, path, body, the roles allowed). Everyone else is refused.
ROUTES = [
    ("GET", "/api/users", None, {"admin"}),
    ("POST", "/api/users", {"username": "new.op", "role": "operator", "password": "long enough pw"},
     {"admin"}),
    ("GET", "/api/drivers", None, {"admin", "supervisor"}),
    ("POST", "/api/drivers", {"name": "Hassan"}, {"admin"}),
    ("GET", "/metrics", None, {"admin"}),
    ("GET", "/api/auth/me", None, {"operator", "supervisor", "admin"}),
]


@pytest.mark.parametrize("role", ["operator", "supervisor", "admin"])
@pytest.mark.parametrize(("method", "path", "body", "allowed"), ROUTES)
async def test_each_role_is_refused_where_it_does_not_belong(client, staff_headers, role, method, path,
                                                             body, allowed):
    headers = await staff_headers(role)
    response = await client.request(method, path, json=body, headers=headers)
    if role in allowed:
        assert response.status in (200, 201), await response.text()
    else:
        assert response.status == 403
        assert (await response.json())["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ROUTES)
async def test_anonymous_callers_are_refused_everywhere_but_login(client, method, path, body, allowed):
    response = await client.request(method, path, json=body)
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ROUTES)
async def test_a_driver_token_opens_no_staff_route(client, make_driver, method, path, body, allowed):
    _, token = await make_driver()
    response = await client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status == 403


async def test_admin_creates_accounts_with_clear_errors(client, staff_headers):
    headers = await staff_headers("admin")
    good = {"username": "Maryam", "role": "operator", "password": "long enough pw", "extension": "301"}
    created = await client.post("/api/users", json=good, headers=headers)
    assert created.status == 201 and (await created.json())["user"]["username"] == "maryam"
    again = await client.post("/api/users", json={**good, "username": "MARYAM"}, headers=headers)
    assert again.status == 409 and (await again.json())["error"]["code"] == "username_taken"
    bad = await client.post("/api/users", json={**good, "username": "x y", "role": "boss"}, headers=headers)
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "invalid_account"
    listed = await (await client.get("/api/users", headers=headers)).json()
    assert [u["username"] for u in listed["users"]].count("maryam") == 1


async def test_driver_tokens_are_issued_once_stored_hashed_and_revocable(client, staff_headers, db):
    headers = await staff_headers("admin")
    driver = (await (await client.post("/api/drivers", json={"name": "Hassan"}, headers=headers)).json())["driver"]
    first = (await (await client.post(f"/api/drivers/{driver['id']}/token", headers=headers)).json())["token"]
    second = (await (await client.post(f"/api/drivers/{driver['id']}/token", headers=headers)).json())["token"]
    stored = [bytes(r["token_hash"]) for r in await db.fetch("SELECT token_hash FROM driver_tokens")]
    assert first.encode() not in stored and second.encode() not in stored and len(stored) == 2
    revoked = await client.delete(f"/api/drivers/{driver['id']}/token", headers=headers)
    assert (await revoked.json())["revoked"] == 1
    missing = await client.post("/api/drivers/424242/token", headers=headers)
    assert missing.status == 404 and (await missing.json())["error"]["code"] == "driver_not_found"
    junk = await client.post("/api/drivers/abc/token", headers=headers)
    assert junk.status == 404
