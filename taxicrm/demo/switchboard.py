"""Simulated callers and operators: calls ring the operators' extensions through the real PBX webhook.

A share of callers hang up before anyone answers; the rest are answered by a ringing extension after a few
seconds and talk for a while. During the call the simulated operator at that extension books a ride for most
callers through the console's booking API, from the caller's saved addresses, unless someone (a person at the
console with that extension) already booked one for them during the call.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import aiohttp

from taxicrm.demo.accounts import Account
from taxicrm.demo.api import Api, ApiError, Json
from taxicrm.demo.demand import CallerKind, CallPlan, demand_share, local_hour, next_call_in, plan_call
from taxicrm.demo.options import DemoOptions
from taxicrm.demo.population import Place, Resident, destination, newcomer, regular_caller, resident
from taxicrm.demo.tally import Tally

log = logging.getLogger("taxicrm.demo.calls")
RINGING_AT_ONCE = 2  # Extensions the queue rings together for one call.
EXPECTED_REFUSALS = frozenset({"duplicate_booking", "ride_under_way", "subscriber_blocked", "no_tariff"})


@dataclass
class Desk:
    """An operator's place: the extension and the console session the simulation books through."""

    account: Account
    api: Api
    busy_until: float = 0.0
    last_call: float = field(default=0.0)


class Switchboard:
    """The PBX and the simulated operators of the demo center."""

    def __init__(self, pbx: Api, desks: list[Desk], options: DemoOptions, zone: ZoneInfo, tally: Tally,
                 rng: random.Random) -> None:
        self.pbx, self.desks, self.options, self.zone = pbx, desks, options, zone
        self.tally, self.rng = tally, rng
        self.run_id = uuid.uuid4().hex[:8]
        self._numbers = itertools.count()
        self._newcomers = itertools.count(rng.randrange(1_000_000))
        self._calls: set[asyncio.Task[None]] = set()

    def share_now(self) -> float:
        """Return the share of the peak call rate the center's clock calls for now."""
        hour = self.options.hour if self.options.hour is not None else local_hour(datetime.now(self.zone))
        return demand_share(hour)

    async def run(self, stop: asyncio.Event) -> None:
        """Let calls arrive until `stop` is set; calls under way finish on their own time, or are cut at stop."""
        try:
            while not stop.is_set():
                gap = next_call_in(self.rng, self.options.size.peak_calls_per_hour, self.share_now())
                try:
                    await asyncio.wait_for(stop.wait(), timeout=min(gap, 60.0))
                except TimeoutError:
                    if gap <= 60.0:
                        task = asyncio.create_task(self._call(next(self._numbers)))
                        self._calls.add(task)
                        task.add_done_callback(self._calls.discard)
        finally:
            for task in list(self._calls):
                task.cancel()
            await asyncio.gather(*self._calls, return_exceptions=True)

    def _free_desks(self, now: float) -> list[Desk]:
        free = [d for d in self.desks if d.busy_until <= now]
        return sorted(free, key=lambda d: d.last_call)[:RINGING_AT_ONCE]

    async def _call(self, number: int) -> None:
        loop = asyncio.get_running_loop()
        free = self._free_desks(loop.time())
        plan = plan_call(self.rng, self.options.pace, all_busy=not free, hang_up_share=self.options.hang_up_share)
        ringing = free or self.rng.sample(self.desks, min(RINGING_AT_ONCE, len(self.desks)))
        caller = self._caller(plan.caller)
        call_id = f"demo-{self.run_id}-{number}"
        started = datetime.now(UTC)
        try:
            outcome = await self.pbx.post("/api/pbx/call-events", {
                "event": "ringing", "call_id": call_id, "caller": caller.mobile if caller else "anonymous",
                "dialled": "1833", "extensions": [d.account.extension for d in ringing]})
            self.tally.calls += 1
            await asyncio.sleep(plan.rings_s)
            if plan.hangs_up:
                await self._end(call_id, "abandoned")
                self.tally.abandoned += 1
                return
            desk = self.rng.choice(ringing)
            desk.busy_until = loop.time() + plan.talk_s + 60
            desk.last_call = loop.time()
            await self.pbx.post("/api/pbx/call-events", {"event": "answered", "call_id": call_id,
                                                         "extension": desk.account.extension})
            self.tally.answered += 1
            await self._talk(desk, plan, caller, outcome.get("call_id"), started)
            await self._end(call_id, "normal")
            desk.busy_until = loop.time() + self.rng.uniform(3, 10) / self.options.pace  # Wrap-up.
        except (ApiError, aiohttp.ClientError, TimeoutError) as err:
            self.tally.errors += 1
            log.warning("call %s: %s", call_id, err)

    def _caller(self, kind: CallerKind) -> Resident | None:
        if kind is CallerKind.SUBSCRIBER:
            return resident(self.options.seed, regular_caller(self.rng, self.options.size.subscribers))
        if kind is CallerKind.NEWCOMER:
            return newcomer(self.options.seed, next(self._newcomers))
        return None

    async def _end(self, call_id: str, cause: str) -> None:
        await self.pbx.post("/api/pbx/call-events", {"event": "ended", "call_id": call_id, "cause": cause})

    async def _talk(self, desk: Desk, plan: CallPlan, caller: Resident | None, log_id: object,
                    started: datetime) -> None:
        """Talk; most of the way through, book the caller's ride if they want one and nobody booked it yet."""
        await asyncio.sleep(plan.talk_s * 0.7)
        if plan.wants_ride and caller is not None:
            await self._book(desk, caller, log_id if isinstance(log_id, int) else None, started)
        await asyncio.sleep(plan.talk_s * 0.3)

    async def _book(self, desk: Desk, caller: Resident, call_log_id: int | None, started: datetime) -> None:
        record = await self._record(desk.api, caller)
        if record is None:
            return
        subscriber_id = int(record["id"])
        since = started.isoformat()
        if (await desk.api.get("/api/rides", subscriber_id=str(subscriber_id), since=since))["rides"]:
            return  # Someone at the console booked it during the call.
        pickup_address = self._pickup(record)
        if pickup_address is None:
            return
        pickup = next((p for p in caller.places if p.text == pickup_address.get("full_text")), caller.places[0])
        going_to = destination(self.rng, caller, pickup)
        wanted = self.rng.choices(("sedan", "van", "luxury"), (92, 5, 3))[0]
        body: Json = {
            "subscriber_id": subscriber_id, "pickup": {"address_id": pickup_address["id"]},
            "destination": _place_json(going_to, record), "vehicle_class": wanted,
            "passengers": self.rng.randint(4, 6) if wanted == "van" else self.rng.choices((1, 2, 3), (70, 22, 8))[0],
        }
        if call_log_id is not None:
            body["call_id"] = call_log_id
        try:
            await desk.api.post("/api/rides", body, headers={"Idempotency-Key": uuid.uuid4().hex})
        except ApiError as err:
            self.tally.booking_refused += 1
            if err.code not in EXPECTED_REFUSALS:
                log.info("booking for %s refused: %s", caller.mobile, err)
            return
        self.tally.booked += 1

    async def _record(self, api: Api, caller: Resident) -> Json | None:
        """Find the caller's record by number, as the card shows it; create one for a new caller."""
        hits = (await api.get("/api/subscribers", q=caller.mobile))["subscribers"]
        if hits:
            found: Json = (await api.get(f"/api/subscribers/{hits[0]['id']}"))["subscriber"]
            return found
        if caller.number >= 0:
            return None  # A subscriber who should be there is not (merged away, say): the operator moves on.
        home = caller.places[0]
        created = await api.post("/api/subscribers", {
            "name": caller.name, "phones": [{"number": caller.mobile, "label": "همراه"}],
            "addresses": [{"label": home.label, "text": home.text, "landmark": home.landmark,
                           "lat": home.lat, "lng": home.lng}]})
        record: Json = created["subscriber"]
        return record

    def _pickup(self, record: Json) -> Json | None:
        """Return the saved address to pick up from: mostly the first (the most used, as the card ranks them)."""
        addresses = [a for a in record.get("addresses", []) if a.get("lat") is not None]
        if not addresses:
            return None
        chosen: Json = addresses[0] if self.rng.random() < 0.7 else self.rng.choice(addresses)
        return chosen


def _place_json(place: Place, record: Json) -> Json:
    saved = next((a for a in record.get("addresses", []) if a.get("full_text") == place.text), None)
    if saved is not None:
        return {"address_id": saved["id"]}
    return {"text": place.text, "landmark": place.landmark, "lat": place.lat, "lng": place.lng}
