"""HTTP routes of telephony: the PBX webhook and caller-name lookup, the call log and the call-back list."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from callcenter import call_store, telephony, webhook
from callcenter.callers import identify_caller
from callcenter.calls import CallEvent
from callcenter.keys import CARD_SECTIONS
from subscribers import cards
from subscribers.keys import add_merge_participant
from subscribers.phones import PhonePlan
from taxicrm.auth import STAFF_ROLES, Role, allow, shared_secret_authenticator
from taxicrm.errors import InvalidInput, NotFound
from taxicrm.keys import AUTHENTICATORS, DB, PRINCIPAL, PUBLISHER, REDIS, SETTINGS
from taxicrm.leadership import run_as_leader
from taxicrm.validation import json_object, parse_time

log = logging.getLogger(__name__)
TELEPHONY = web.AppKey("telephony", telephony.Telephony)
SECRET_HEADER = "X-Taxicrm-Secret"
MAX_LISTED = 500


def setup(app: web.Application) -> None:
    """Register the telephony routes, the PBX's authenticator and the AMI client (when configured)."""
    app[AUTHENTICATORS].append(shared_secret_authenticator(app[SETTINGS].webhook_secret, Role.PBX,
                                                           header=SECRET_HEADER))
    app.cleanup_ctx.append(_telephony)
    if CARD_SECTIONS not in app:
        app[CARD_SECTIONS] = []  # Other domains add theirs with keys.add_card_section.
    add_merge_participant(app, call_store.move_calls)  # A merged subscriber's calls follow them.
    app.router.add_post("/api/pbx/call-events", post_call_event)
    app.router.add_get("/api/pbx/caller-name", caller_name)
    app.router.add_get("/api/calls", list_calls)
    app.router.add_get("/api/calls/callbacks", list_callbacks)
    app.router.add_post("/api/calls/{call_id}/callback-handled", callback_handled)


async def _telephony(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    sections = app[CARD_SECTIONS]
    app[TELEPHONY] = telephony.Telephony(app[DB], app[PUBLISHER], PhonePlan(settings.phone_region, settings.area_code),
                                         settings.timezone, tuple(sections))
    ami = None
    if settings.ami_url:
        from callcenter.ami_client import AmiClient, parse_ami_url

        async def on_event(event: CallEvent) -> None:
            await telephony.handle_call_event(app[TELEPHONY], event)

        client = AmiClient(parse_ami_url(settings.ami_url), on_event)
        # One instance follows the PBX; if it dies, another takes over within the lease.
        ami = asyncio.create_task(run_as_leader(app[REDIS], "ami-client", client.run), name="ami-client")
    try:
        yield
    finally:
        if ami is not None:
            ami.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ami


@allow(Role.PBX)
async def post_call_event(request: web.Request) -> web.Response:
    """Take a call event from the PBX as JSON or form fields; answer what became of it."""
    payload = await _payload(request)
    event = webhook.parse_call_event(payload, datetime.now(UTC))
    outcome = await telephony.handle_call_event(request.app[TELEPHONY], event)
    return web.json_response(asdict(outcome), status=200 if outcome.ignored else 202)


async def _payload(request: web.Request) -> dict[str, Any]:
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.post()
        except ValueError as err:  # aiohttp's word for a form it cannot read, e.g. multipart with no boundary.
            raise InvalidInput("The form body could not be read; send it as JSON or a well-formed form.",
                               code="malformed_form") from err
        return {key: value for key, value in form.items() if isinstance(value, str)}
    return await json_object(request)


@allow(Role.PBX, *STAFF_ROLES)
async def caller_name(request: web.Request) -> web.Response:
    """Tell the PBX the name to show for a number: plain text by default, JSON when asked."""
    number = request.query.get("number", "")
    caller = identify_caller(number, request.app[TELEPHONY].plan)
    if caller.phone is None:
        raise InvalidInput(f"'{number[:40]}' is not a usable phone number: {caller.problem or 'it is withheld'}.",
                           code="invalid_phone")
    async with request.app[DB].acquire() as conn:
        name = await cards.name_for_phone(conn, caller.phone.e164)
    if "application/json" in request.headers.get("Accept", "") or request.query.get("format") == "json":
        return web.json_response({"number": caller.phone.e164, "name": name, "known": name is not None})
    return web.Response(text=name or "", content_type="text/plain", charset="utf-8")


@allow(*STAFF_ROLES)
async def list_calls(request: web.Request) -> web.Response:
    """List the call log for a period (default: the last 24 hours), optionally for one subscriber."""
    until = parse_time(request.query.get("until"), "until", UTC) or datetime.now(UTC)
    since = parse_time(request.query.get("since"), "since", UTC) or until - timedelta(days=1)
    subscriber = _int_param(request, "subscriber_id")
    limit = min(_int_param(request, "limit") or 100, MAX_LISTED)
    async with request.app[DB].acquire() as conn:
        rows = await call_store.list_calls(conn, since, until, subscriber, limit)
    return web.json_response({"calls": [_call_json(r) for r in rows]})


@allow(*STAFF_ROLES)
async def list_callbacks(request: web.Request) -> web.Response:
    """List missed calls nobody has called back yet."""
    async with request.app[DB].acquire() as conn:
        rows = await call_store.list_callbacks(conn, MAX_LISTED)
    return web.json_response({"calls": [_call_json(r) for r in rows]})


@allow(*STAFF_ROLES)
async def callback_handled(request: web.Request) -> web.Response:
    """Take a missed call off the call-back list."""
    raw = request.match_info["call_id"]
    call_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None
    async with request.app[DB].acquire() as conn:
        done = None if call_id is None else await call_store.mark_callback_handled(
            conn, call_id, datetime.now(UTC), request[PRINCIPAL].id)
    if done is None:
        raise NotFound(f"There is no call {raw!r}.", code="call_not_found")
    if not done:
        raise InvalidInput("This call is not on the call-back list (answered, still ringing, or already handled).",
                           code="not_a_callback", status=409)
    return web.json_response({"call_id": call_id, "handled": True})


def _call_json(row: Any) -> dict[str, Any]:
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in dict(row).items()}


def _int_param(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) < 19 and int(raw) > 0):
        raise InvalidInput(f"'{name}' must be a positive whole number.", code="wrong_type")
    return int(raw)
