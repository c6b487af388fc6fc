"""Use cases of telephony: log each call event and push the caller's card to the operators it rings for."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

import asyncpg

from callcenter import call_store
from callcenter.callers import CallerId, identify_caller
from callcenter.calls import CallEvent, CallEventKind, EndCause
from callcenter.keys import CardSection
from subscribers import cards
from subscribers.phones import PhonePlan
from taxicrm.events import OPERATORS, Event, Publisher, operator_audience

log = logging.getLogger(__name__)
RECENT_CALLS_ON_CARD = 5


@dataclass(frozen=True)
class Telephony:
    """What handling call events needs: the database, the bus, the numbering plan and the center's zone."""

    pool: asyncpg.Pool
    publisher: Publisher
    plan: PhonePlan
    zone: tzinfo
    # What other domains add to the card: the caller's rides, their open complaints.
    sections: Sequence[CardSection] = ()


@dataclass(frozen=True)
class Outcome:
    """What became of one call event, for the source that reported it."""

    call_id: int | None
    notified_operators: list[int] = field(default_factory=list)
    unknown_extensions: list[str] = field(default_factory=list)
    ignored: str | None = None  # Why nothing changed (a late event for a call already over).


async def handle_call_event(t: Telephony, event: CallEvent) -> Outcome:
    """Log the event and publish what the operators' consoles must show."""
    if event.kind is CallEventKind.RINGING:
        return await _ringing(t, event)
    if event.kind is CallEventKind.ANSWERED:
        return await _answered(t, event)
    return await _ended(t, event)


async def _ringing(t: Telephony, event: CallEvent) -> Outcome:
    caller = identify_caller(event.caller, t.plan)
    local_hour = event.at.astimezone(t.zone).hour
    e164 = caller.phone.e164 if caller.phone else None
    async with t.pool.acquire() as conn:
        subscriber, matches = await _lookup(conn, caller, local_hour)
    subscriber_id = subscriber["id"] if subscriber else None

    async def record() -> call_store.RingingCall:
        async with t.pool.acquire() as conn:
            return await call_store.upsert_ringing(
                conn, pbx_call_id=event.call_id, source=event.source, caller_raw=event.caller, caller_e164=e164,
                caller_status=caller.status, caller_name=event.caller_name, dialled=event.dialled,
                extensions=list(event.extensions), subscriber_id=subscriber_id, at=event.at,
                recent_calls=RECENT_CALLS_ON_CARD,
            )

    # The sections take connections of their own: none may be awaited while holding one, or a burst of calls
    # takes the whole pool and every call waits forever for a second (found by tests/faults).
    call, extra = await asyncio.gather(record(), _sections(t, subscriber_id, e164))
    if subscriber is not None:
        subscriber["recent_calls"] = call.recent_calls
    operators = call.operators
    card = {**_card(call.id, event, caller, subscriber, matches), **extra}
    unknown = [e for e in event.extensions if e not in operators]
    if unknown:
        log.warning("call %s rings extension(s) %s where no operator sits", event.call_id, ", ".join(unknown))
    if operators:
        await t.publisher.publish(Event("call.ringing", tuple(operator_audience(i) for i in operators.values()), card))
    return Outcome(call.id, sorted(operators.values()), unknown)


async def _sections(t: Telephony, subscriber_id: int | None, e164: str | None) -> Mapping[str, Any]:
    """Gather what other domains add to the card; a withheld number has nothing to look up."""
    if e164 is None or not t.sections:
        return {}
    parts = await asyncio.gather(*(section(t.pool, subscriber_id, e164) for section in t.sections))
    return {key: value for part in parts for key, value in part.items()}


async def _lookup(conn: asyncpg.Connection, caller: CallerId,
                  local_hour: int) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Find the caller's card, or, for a number nobody has now, who had it before (never auto-merged)."""
    if caller.phone is None:
        return None, []
    subscriber = await cards.subscriber_card(conn, caller.phone.e164, local_hour)
    return subscriber, [] if subscriber else await cards.past_owners(conn, caller.phone.e164)


def _card(call_id: int, event: CallEvent, caller: CallerId, subscriber: dict[str, Any] | None,
          matches: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "call": {"id": call_id, "pbx_call_id": event.call_id, "at": event.at.isoformat(),
                 "dialled": event.dialled, "caller_name": event.caller_name, "extensions": list(event.extensions)},
        "caller": caller.as_json(),
        "subscriber": subscriber,
        "possible_matches": matches,
        # Only a usable number with no owner makes a new-subscriber prompt; a withheld one cannot.
        "new_subscriber": subscriber is None and caller.phone is not None,
    }


async def _answered(t: Telephony, event: CallEvent) -> Outcome:
    extension = event.extensions[0] if event.extensions else None
    async with t.pool.acquire() as conn:
        call = await call_store.mark_answered(conn, event.source, event.call_id, extension, event.at)
        if call is None:
            return Outcome(None, ignored="no ringing call with this id is in progress")
        operators = await call_store.operators_at(conn, call.ringing_extensions)
    answered_by = operators.get(extension or "")
    data = {"call_id": call.id, "extension": extension, "operator_id": answered_by, "at": event.at.isoformat()}
    audiences = {operator_audience(i) for i in operators.values()}
    if answered_by is not None:
        audiences.add(operator_audience(answered_by))
    if audiences:
        await t.publisher.publish(Event("call.answered", tuple(sorted(audiences)), data))
    return Outcome(call.id, sorted(operators.values()), [] if answered_by else [extension or ""])


async def _ended(t: Telephony, event: CallEvent) -> Outcome:
    cause = event.cause or EndCause.NORMAL
    async with t.pool.acquire() as conn:
        ended = await call_store.mark_ended(conn, event.source, event.call_id, cause, event.at)
        if ended is None:
            return Outcome(None, ignored="no call with this id is in progress")
        call, was_answered, stored_cause = ended
        operators = await call_store.operators_at(conn, call.ringing_extensions)
    data = {"call_id": call.id, "cause": stored_cause, "at": event.at.isoformat()}
    audiences = tuple(operator_audience(i) for i in operators.values())
    if audiences:
        await t.publisher.publish(Event("call.ended", audiences, data))
    if not was_answered:
        # A missed call lands on every operator's call-back list.
        await t.publisher.publish(Event("callback.added", (OPERATORS,), data))
    return Outcome(call.id, sorted(operators.values()))
