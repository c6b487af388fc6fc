import asyncio
import dataclasses
import re

import asyncpg
import pytest

from taxicrm.app import create_app
from taxicrm.auth import public

FORBIDDEN_WORDS = ("Traceback", "File \"", "ZeroDivisionError")


async def test_healthz_answers_while_the_process_runs(client):
    response = await client.get("/healthz")
    assert response.status == 200 and (await response.json())["status"] == "ok"


async def test_readyz_checks_postgres_and_redis(client):
    response = await client.get("/readyz")
    assert response.status == 200
    assert (await response.json())["checks"] == {"postgres": "ok", "redis": "ok"}


async def test_readyz_says_which_dependency_is_down(aiohttp_client, settings):
    app = create_app(dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0"))
    client = await aiohttp_client(app)
    response = await client.get("/readyz")
    body = await response.json()
    assert response.status == 503
    assert body["error"]["code"] == "not_ready" and "redis" in body["error"]["message"]
    assert body["checks"] == {"postgres": "ok", "redis": "unreachable"}


async def test_unknown_address_gets_the_error_envelope(client):
    response = await client.get("/no/such/page")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"


async def test_wrong_method_gets_the_error_envelope(client):
    response = await client.put("/api/auth/login", json={})
    assert response.status == 405
    assert (await response.json())["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b"{not json", {"Content-Type": "application/json"}, 400, "malformed_json"),
        (b"[1, 2]", {"Content-Type": "application/json"}, 400, "malformed_json"),
        (b'{"username": 5, "password": "x"}', {"Content-Type": "application/json"}, 400, "wrong_type"),
        (b'{"username": "ali"}', {"Content-Type": "application/json"}, 400, "missing_field"),
        (b"username=ali", {"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
        (b"\xff\xfe", {"Content-Type": "application/json"}, 400, "malformed_json"),
        # Found by fuzzing: nesting deep enough to exhaust the parser's stack was a 500.
        (b"[" * 20_000 + b"]" * 20_000, {"Content-Type": "application/json"}, 400, "malformed_json"),
        (b'{"username": ' + b"[" * 20_000, {"Content-Type": "application/json"}, 400, "malformed_json"),
    ],
)
async def test_bad_bodies_get_a_clear_4xx(client, body, headers, status, code):
    response = await client.post("/api/auth/login", data=body, headers=headers)
    assert response.status == status
    error = (await response.json())["error"]
    assert error["code"] == code and error["message"]


async def test_an_oversize_body_is_refused_with_413(aiohttp_client, settings):
    client = await aiohttp_client(create_app(dataclasses.replace(settings, max_body_kb=1)))
    response = await client.post("/api/auth/login", data=b'{"username": "' + b"a" * 4096 + b'"}',
                                 headers={"Content-Type": "application/json"})
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "body_too_large"


async def test_an_unexpected_error_is_a_500_envelope_without_a_traceback(aiohttp_client, settings):
    @public
    async def broken(request):
        return 1 / 0

    app = create_app(settings)
    app.router.add_get("/broken", broken)
    client = await aiohttp_client(app)
    response = await client.get("/broken")
    text = await response.text()
    assert response.status == 500
    assert (await response.json())["error"]["code"] == "internal_error"
    assert not any(word in text for word in FORBIDDEN_WORDS)


def test_a_route_that_declares_no_roles_stops_the_app_from_starting(settings):
    async def undeclared(request):
        raise AssertionError("never called")

    from taxicrm import app as app_module

    def add_undeclared(app):
        app.router.add_get("/undeclared", undeclared)

    original = app_module.DOMAINS
    app_module.DOMAINS = (*original, add_undeclared)
    try:
        with pytest.raises(RuntimeError, match="/undeclared declares no roles"):
            create_app(settings)
    finally:
        app_module.DOMAINS = original


async def test_metrics_need_an_admin_or_the_metrics_token(aiohttp_client, settings, make_staff):
    client = await aiohttp_client(create_app(dataclasses.replace(settings, metrics_token="scrape-me-123")))
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status == 401
    await client.get("/healthz")
    response = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me-123"})
    text = await response.text()
    assert response.status == 200 and response.content_type == "text/plain"
    assert 'taxicrm_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'taxicrm_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz"}' in text


async def test_metrics_label_by_route_template_not_raw_path(client, staff_headers):
    headers = await staff_headers("admin")
    await client.post("/api/drivers/98765/token", headers=headers)
    text = await (await client.get("/metrics", headers=headers)).text()
    assert 'route="/api/drivers/{driver_id}/token"' in text
    assert not re.search(r'route="[^"]*98765', text)  # Not anywhere else: a float sum may hold those digits.


async def test_an_unreachable_redis_mid_request_is_a_503_not_a_crash(aiohttp_client, settings, make_staff):
    user = await make_staff("operator")
    client = await aiohttp_client(create_app(dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0")))
    response = await client.post("/api/auth/login", json={"username": user.username, "password": "whatever pw"})
    assert response.status == 503
    assert (await response.json())["error"]["code"] == "service_unavailable"


# What asyncpg raises while PostgreSQL restarts (found by the fault suite, tests/faults): an outage, not a bug.
@pytest.mark.parametrize("error", [asyncpg.exceptions.CannotConnectNowError, asyncpg.exceptions.AdminShutdownError,
                                   asyncpg.exceptions.CrashShutdownError])
async def test_postgresql_restarting_mid_request_is_a_503_not_a_crash(aiohttp_client, settings, error):
    @public
    async def restarting(request):
        raise error("the database system is shutting down")

    app = create_app(settings)
    app.router.add_get("/restarting", restarting)
    client = await aiohttp_client(app)
    response = await client.get("/restarting")
    assert response.status == 503
    assert (await response.json())["error"]["code"] == "service_unavailable"


async def test_a_burst_of_redis_commands_larger_than_the_pool_waits_its_turn(aiohttp_client, settings):
    from taxicrm.keys import REDIS

    app = create_app(dataclasses.replace(settings, redis_pool_size=2))
    await aiohttp_client(app)
    redis = app[REDIS]
    # Slow commands hold each connection a while, so 40 at once must queue for the 2 connections.
    replies = await asyncio.gather(*(redis.blpop([f"empty-{n}"], timeout=0.05) for n in range(40)))
    assert replies == [None] * 40  # A pool that refused instead of waiting would raise "too many connections".


async def test_a_pooled_redis_connection_the_server_dropped_is_reopened_not_failed(aiohttp_client, settings):
    # As after a Redis restart (found by the fault suite): every pooled connection is dead, not only the first.
    import redis.asyncio as aioredis

    from taxicrm.keys import REDIS

    app = create_app(dataclasses.replace(settings, redis_pool_size=1))
    await aiohttp_client(app)
    redis = app[REDIS]
    pooled = await redis.client_id()
    other = aioredis.from_url(settings.redis_url)
    assert await other.client_kill_filter(_id=pooled) == 1
    await other.aclose()
    assert await redis.ping() is True
    assert await redis.client_id() != pooled
