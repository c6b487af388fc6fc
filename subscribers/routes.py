"""HTTP routes of subscriber records: the staff's view and edits, search, duplicates and merges."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from subscribers import service
from subscribers.errors import SubscriberNotFound
from subscribers.keys import MERGE_PARTICIPANTS
from subscribers.model import (
    Address,
    AddressEdit,
    AddressId,
    DuplicatePair,
    LoyaltyTier,
    Mood,
    NewAddress,
    NewPhone,
    NoteId,
    PhoneId,
    Position,
    SearchHit,
    Subscriber,
    SubscriberId,
    SubscriberRecord,
)
from subscribers.phones import MAX_RAW_LENGTH, PhonePlan
from taxicrm.auth import STAFF_ROLES, Role, allow
from taxicrm.errors import InvalidInput
from taxicrm.keys import DB, PRINCIPAL, SETTINGS
from taxicrm.records import record_json
from taxicrm.validation import json_object, optional, required

# Blocking, loyalty, duplicates and merges change what the center promises or refuses a customer, or
# rewrite records for good: supervisors and admins decide those. Operators do everything else.
MANAGERS = (Role.SUPERVISOR, Role.ADMIN)

# Ids are digits only (and fit a bigint), so /api/subscribers/import and /export never match a subscriber.
_ID = r"{subscriber_id:\d{1,18}}"
_BASE = f"/api/subscribers/{_ID}"


def setup(app: web.Application) -> None:
    """Register the subscriber routes; other domains add merge participants with `keys.add_merge_participant`."""
    if MERGE_PARTICIPANTS not in app:
        app[MERGE_PARTICIPANTS] = []
    router = app.router
    router.add_get("/api/subscribers", search)
    router.add_post("/api/subscribers", create_subscriber)
    router.add_get("/api/subscribers/duplicates", list_duplicates)
    router.add_get(_BASE, get_subscriber)
    router.add_patch(_BASE, rename_subscriber)
    router.add_post(f"{_BASE}/phones", add_phone)
    router.add_delete(f"{_BASE}/phones/{{phone_id:\\d{{1,18}}}}", remove_phone)
    router.add_post(f"{_BASE}/addresses", add_address)
    router.add_patch(f"{_BASE}/addresses/{{address_id:\\d{{1,18}}}}", edit_address)
    router.add_delete(f"{_BASE}/addresses/{{address_id:\\d{{1,18}}}}", delete_address)
    router.add_post(f"{_BASE}/notes", add_note)
    router.add_post(f"{_BASE}/notes/{{note_id:\\d{{1,18}}}}/pin", pin_note)
    router.add_delete(f"{_BASE}/notes/{{note_id:\\d{{1,18}}}}/pin", unpin_note)
    router.add_post(f"{_BASE}/vip", mark_vip)
    router.add_delete(f"{_BASE}/vip", unmark_vip)
    router.add_put(f"{_BASE}/loyalty", set_loyalty)
    router.add_post(f"{_BASE}/block", block)
    router.add_delete(f"{_BASE}/block", unblock)
    router.add_post(f"{_BASE}/merge", merge)


# Shaping and reading -------------------------------------------------------------------------------

def _subscriber_json(subscriber: Subscriber) -> dict[str, Any]:
    return {**record_json(subscriber), "is_blocked": subscriber.is_blocked}


def _address_json(address: Address) -> dict[str, Any]:
    shaped = record_json(address)
    shaped.pop("position")
    lat, lng = (None, None) if address.position is None else (address.position.lat, address.position.lng)
    return {**shaped, "lat": lat, "lng": lng, "uses": address.pickup_count + address.dropoff_count}


def _record_json(record: SubscriberRecord) -> dict[str, Any]:
    return {**_subscriber_json(record.subscriber),
            "phones": [record_json(p) for p in record.phones],
            "addresses": [_address_json(a) for a in record.addresses],
            "notes": [record_json(n) for n in record.notes]}


def _hit_json(hit: SearchHit) -> dict[str, Any]:
    return {**_subscriber_json(hit.subscriber), "phones": [record_json(p) for p in hit.phones]}


def _pair_json(pair: DuplicatePair) -> dict[str, Any]:
    return {"first": {"id": pair.first.id, "name": pair.first.name},
            "second": {"id": pair.second.id, "name": pair.second.name},
            "reasons": [{"kind": r.kind.value, "detail": r.detail} for r in pair.reasons]}


def _plan(request: web.Request) -> PhonePlan:
    settings = request.app[SETTINGS]
    return PhonePlan(region=settings.phone_region, area_code=settings.area_code)


def _subscriber_id(request: web.Request) -> SubscriberId:
    return SubscriberId(int(request.match_info["subscriber_id"]))


def _now() -> datetime:
    return datetime.now(UTC)


def _choice(body: dict[str, Any], name: str, kind: type[LoyaltyTier] | type[Mood], *,
            is_required: bool) -> Any:
    raw = (required if is_required else optional)(body, name, str, max_length=20)
    if raw is None:
        return None
    try:
        return kind(raw)
    except ValueError:
        options = ", ".join(member.value for member in kind)
        raise InvalidInput(f"'{name}' must be one of {options}.", code="invalid_choice") from None


def _number(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"'{name}' must be a number.", code="wrong_type")
    return float(value)


def _position(body: dict[str, Any]) -> Position | None:
    lat, lng = _number(body, "lat"), _number(body, "lng")
    if lat is None and lng is None:
        return None
    if lat is None or lng is None:
        raise InvalidInput("Give both 'lat' and 'lng', or neither.", code="invalid_position")
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise InvalidInput("'lat' must be within ±90 and 'lng' within ±180.", code="invalid_position")
    return Position(lat=lat, lng=lng)


def _new_phone(item: Any) -> NewPhone:
    if not isinstance(item, dict):
        raise InvalidInput("Each phone must be an object with a 'number'.", code="wrong_type")
    return NewPhone(number=required(item, "number", str, max_length=MAX_RAW_LENGTH),
                    label=optional(item, "label", str, max_length=50))


def _new_address(item: Any) -> NewAddress:
    if not isinstance(item, dict):
        raise InvalidInput("Each address must be an object with a 'text'.", code="wrong_type")
    return NewAddress(full_text=required(item, "text", str, max_length=500),
                      label=optional(item, "label", str, max_length=50) or "",
                      landmark=optional(item, "landmark", str, max_length=300), position=_position(item))


def _address_edit(body: dict[str, Any]) -> AddressEdit:
    # Explicit nulls for both lat and lng remove the position; absent keys leave it.
    clears_position = "lat" in body and "lng" in body and body["lat"] is None and body["lng"] is None
    return AddressEdit(label=optional(body, "label", str, max_length=50),
                       full_text=optional(body, "text", str, max_length=500),
                       landmark=optional(body, "landmark", str, max_length=300),
                       position=_position(body), clear_position=clears_position)


# Records ------------------------------------------------------------------------------------------

@allow(*STAFF_ROLES)
async def search(request: web.Request) -> web.Response:
    """Find subscribers by part of a number (any digits), a name or an address."""
    query = request.query.get("q", "")
    if len(query) > 100:
        raise InvalidInput("The search is longer than 100 characters.", code="too_long")
    hits = await service.search(request.app[DB], query)
    return web.json_response({"subscribers": [_hit_json(h) for h in hits], "limit": service.SEARCH_LIMIT})


@allow(*STAFF_ROLES)
async def create_subscriber(request: web.Request) -> web.Response:
    """Create a subscriber with a name, one or more phones and any addresses."""
    body = await json_object(request)
    phones = required(body, "phones", list, max_length=service.MAX_PHONES)
    addresses = optional(body, "addresses", list, max_length=service.MAX_ADDRESSES) or []
    record = await service.create_subscriber(
        request.app[DB], required(body, "name", str, max_length=200),
        [_new_phone(p) for p in phones], [_new_address(a) for a in addresses], _plan(request))
    return web.json_response({"subscriber": _record_json(record)}, status=201)


@allow(*STAFF_ROLES)
async def get_subscriber(request: web.Request) -> web.Response:
    """Return a subscriber's card: flags, phones, addresses by use, notes pinned then newest first."""
    record = await service.get_subscriber(request.app[DB], _subscriber_id(request))
    return web.json_response({"subscriber": _record_json(record)})


@allow(*STAFF_ROLES)
async def rename_subscriber(request: web.Request) -> web.Response:
    """Change a subscriber's name."""
    body = await json_object(request)
    record = await service.rename(request.app[DB], _subscriber_id(request),
                                  required(body, "name", str, max_length=200), _now())
    return web.json_response({"subscriber": _record_json(record)})


# Phones, addresses, notes -------------------------------------------------------------------------

@allow(*STAFF_ROLES)
async def add_phone(request: web.Request) -> web.Response:
    """Give a subscriber another number; 409 if another subscriber has it."""
    phone = await service.add_phone(request.app[DB], _subscriber_id(request),
                                    _new_phone(await json_object(request)), _plan(request))
    return web.json_response({"phone": record_json(phone)}, status=201)


@allow(*STAFF_ROLES)
async def remove_phone(request: web.Request) -> web.Response:
    """Take a number off a subscriber; it stays in their phone history."""
    phone = await service.remove_phone(request.app[DB], _subscriber_id(request),
                                       PhoneId(int(request.match_info["phone_id"])), _now())
    return web.json_response({"removed": record_json(phone)})


@allow(*STAFF_ROLES)
async def add_address(request: web.Request) -> web.Response:
    """Save an address for a subscriber."""
    address = await service.add_address(request.app[DB], _subscriber_id(request),
                                        _new_address(await json_object(request)))
    return web.json_response({"address": _address_json(address)}, status=201)


@allow(*STAFF_ROLES)
async def edit_address(request: web.Request) -> web.Response:
    """Change an address's label, text, landmark or position."""
    address = await service.edit_address(request.app[DB], _subscriber_id(request),
                                         AddressId(int(request.match_info["address_id"])),
                                         _address_edit(await json_object(request)), _now())
    return web.json_response({"address": _address_json(address)})


@allow(*STAFF_ROLES)
async def delete_address(request: web.Request) -> web.Response:
    """Delete a saved address."""
    address_id = AddressId(int(request.match_info["address_id"]))
    await service.delete_address(request.app[DB], _subscriber_id(request), address_id)
    return web.json_response({"deleted": address_id})


@allow(*STAFF_ROLES)
async def add_note(request: web.Request) -> web.Response:
    """Add a note (and the caller's mood) to a subscriber, signed by the caller."""
    body = await json_object(request)
    note = await service.add_note(request.app[DB], _subscriber_id(request),
                                  required(body, "body", str, max_length=2000),
                                  _choice(body, "mood", Mood, is_required=False), request[PRINCIPAL].id, _now())
    return web.json_response({"note": record_json(note)}, status=201)


async def _pin(request: web.Request, is_pinned: bool) -> web.Response:
    note = await service.pin_note(request.app[DB], _subscriber_id(request),
                                  NoteId(int(request.match_info["note_id"])), is_pinned)
    return web.json_response({"note": record_json(note)})


@allow(*STAFF_ROLES)
async def pin_note(request: web.Request) -> web.Response:
    """Pin a note to the top of the card."""
    return await _pin(request, True)


@allow(*STAFF_ROLES)
async def unpin_note(request: web.Request) -> web.Response:
    """Unpin a note."""
    return await _pin(request, False)


# Flags --------------------------------------------------------------------------------------------

@allow(*STAFF_ROLES)
async def mark_vip(request: web.Request) -> web.Response:
    """Mark a subscriber as VIP."""
    subscriber = await service.set_vip(request.app[DB], _subscriber_id(request), True, _now())
    return web.json_response({"subscriber": _subscriber_json(subscriber)})


@allow(*STAFF_ROLES)
async def unmark_vip(request: web.Request) -> web.Response:
    """Take a subscriber's VIP mark off."""
    subscriber = await service.set_vip(request.app[DB], _subscriber_id(request), False, _now())
    return web.json_response({"subscriber": _subscriber_json(subscriber)})


@allow(*MANAGERS)
async def set_loyalty(request: web.Request) -> web.Response:
    """Set a subscriber's loyalty tier."""
    tier = _choice(await json_object(request), "tier", LoyaltyTier, is_required=True)
    subscriber = await service.set_loyalty(request.app[DB], _subscriber_id(request), tier, _now())
    return web.json_response({"subscriber": _subscriber_json(subscriber)})


@allow(*MANAGERS)
async def block(request: web.Request) -> web.Response:
    """Block a subscriber, with a reason; who and when are recorded."""
    reason = required(await json_object(request), "reason", str, max_length=500)
    subscriber = await service.block(request.app[DB], _subscriber_id(request), reason, request[PRINCIPAL].id,
                                     _now())
    return web.json_response({"subscriber": _subscriber_json(subscriber)})


@allow(*MANAGERS)
async def unblock(request: web.Request) -> web.Response:
    """Lift a subscriber's block."""
    subscriber = await service.unblock(request.app[DB], _subscriber_id(request), _now())
    return web.json_response({"subscriber": _subscriber_json(subscriber)})


# Duplicates and merges ----------------------------------------------------------------------------

@allow(*MANAGERS)
async def list_duplicates(request: web.Request) -> web.Response:
    """List pairs of subscribers that are likely one person, with the reasons; nothing is merged."""
    pairs = await service.find_duplicates(request.app[DB])
    return web.json_response({"pairs": [_pair_json(p) for p in pairs]})


@allow(*MANAGERS)
async def merge(request: web.Request) -> web.Response:
    """Merge `other_id` into this subscriber, moving everything it has; the other stays as a pointer."""
    other_id = SubscriberId(required(await json_object(request), "other_id", int))
    if not 0 < other_id < 2**63:
        raise SubscriberNotFound(other_id)
    participants = request.app[MERGE_PARTICIPANTS]
    result = await service.merge(request.app[DB], _subscriber_id(request), other_id, by=request[PRINCIPAL].id,
                                 now=_now(), participants=participants)
    record = await service.get_subscriber(request.app[DB], result.kept_id)
    return web.json_response({"merge": record_json(result), "subscriber": _record_json(record)})
