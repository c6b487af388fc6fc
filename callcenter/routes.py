"""HTTP routes of staff accounts: log in, log out, who am I, and the admin's user list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web

from callcenter import service
from callcenter.model import UserId
from taxicrm.auth import STAFF_ROLES, Principal, Role, allow, bearer_token, public
from taxicrm.errors import InvalidInput
from taxicrm.keys import AUTHENTICATORS, DB, PRINCIPAL, REDIS, SETTINGS
from taxicrm.records import record_json
from taxicrm.remote import client_address
from taxicrm.validation import json_object, optional, required

SESSION_COOKIE = "taxicrm_session"


def setup(app: web.Application) -> None:
    """Register the account routes and the session authenticator."""
    app[AUTHENTICATORS].append(authenticate_session)
    app.router.add_post("/api/auth/login", login)
    app.router.add_post("/api/auth/logout", logout)
    app.router.add_get("/api/auth/me", me)
    app.router.add_put("/api/auth/me/extension", take_extension)
    app.router.add_get("/api/users", list_users)
    app.router.add_post("/api/users", create_user)


def _session_ttl(app: web.Application) -> timedelta:
    return timedelta(hours=app[SETTINGS].session_hours)


def _session_token(request: web.Request) -> str | None:
    # An explicit Authorization header wins over a cookie the client may carry from another login.
    return bearer_token(request) or request.cookies.get(SESSION_COOKIE)


async def authenticate_session(request: web.Request) -> Principal | None:
    """Recognise a staff session from the cookie (console) or a bearer token (API clients)."""
    token = _session_token(request)
    if token is None:
        return None
    user = await service.session_user(request.app[DB], token, now=datetime.now(UTC),
                                      ttl=_session_ttl(request.app))
    if user is None:
        return None
    return Principal(role=Role(user.role), id=user.id, name=user.display_name)


@public
async def login(request: web.Request) -> web.Response:
    """Check a username and password; answer with the user and a session (cookie and token)."""
    body = await json_object(request)
    settings = request.app[SETTINGS]
    session = await service.log_in(
        request.app[DB], request.app[REDIS],
        username=required(body, "username", str, max_length=200),
        password=required(body, "password", str, max_length=1000),
        now=datetime.now(UTC), ttl=_session_ttl(request.app),
        max_failures=settings.login_max_failures, window_seconds=settings.login_window_seconds,
        user_agent=request.headers.get("User-Agent", "")[:300] or None, remote_addr=client_address(request),
    )
    response = web.json_response({"user": record_json(session.user), "token": session.token,
                                  "expires_at": session.expires_at.isoformat()})
    response.set_cookie(SESSION_COOKIE, session.token, httponly=True, samesite="Strict",
                        secure=settings.cookie_secure, max_age=settings.session_hours * 3600, path="/")
    return response


@allow(*STAFF_ROLES)
async def logout(request: web.Request) -> web.Response:
    """End the caller's session and clear the cookie."""
    token = _session_token(request)
    if token is not None:
        await service.log_out(request.app[DB], token)
    response = web.json_response({"status": "logged_out"})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@allow(*STAFF_ROLES)
async def me(request: web.Request) -> web.Response:
    """Say who the caller is, and at which extension they sit."""
    principal = request[PRINCIPAL]
    user = await service.get_user(request.app[DB], UserId(principal.id))
    return web.json_response({"id": principal.id, "name": principal.name, "role": principal.role,
                              "username": user.username if user else None,
                              "extension": user.extension if user else None})


@allow(Role.ADMIN)
async def list_users(request: web.Request) -> web.Response:
    """List every staff account."""
    users = await service.list_users(request.app[DB])
    return web.json_response({"users": [record_json(u) for u in users]})


@allow(Role.ADMIN)
async def create_user(request: web.Request) -> web.Response:
    """Create an operator, supervisor or admin account."""
    body = await json_object(request)
    user = await service.create_user(
        request.app[DB],
        username=required(body, "username", str, max_length=64),
        display_name=optional(body, "display_name", str, max_length=200) or "",
        role=required(body, "role", str, max_length=20),
        password=required(body, "password", str, max_length=1000),
        extension=optional(body, "extension", str, max_length=10),
    )
    return web.json_response({"user": record_json(user)}, status=201)


@allow(*STAFF_ROLES)
async def take_extension(request: web.Request) -> web.Response:
    """Sit the caller at an extension ({"extension": "204"}), or at none ({"extension": null})."""
    body = await json_object(request)
    if "extension" not in body:
        raise InvalidInput("'extension' is required (null to leave the desk).", code="missing_field")
    user = await service.take_extension(request.app[DB], UserId(request[PRINCIPAL].id),
                                        optional(body, "extension", str, max_length=10))
    return web.json_response({"user": record_json(user)})
