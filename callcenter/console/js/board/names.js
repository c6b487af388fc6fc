// Who a ride is for and who drives it: names the ride itself does not carry, looked up once and kept.
//
// Rides name their subscriber and driver by id. Subscribers are fetched one by one (a few at a time) the first
// time the board sees them; the fleet (every driver, so a new id means a new driver) comes in one request, asked
// again when a ride names a driver not seen yet, at most every DRIVERS_EVERY_MS. `onChange` is told when names
// arrive, so rows showing ids can be redrawn.

import { get } from "../api.js";

const PARALLEL = 4;
const DRIVERS_EVERY_MS = 1000;

export class Names {
  constructor(onChange) {
    this.onChange = onChange;
    this.subscribers = new Map(); // id -> record
    this.asked = new Set(); // subscriber ids queued, being fetched, or failed (until `retryFailed`)
    this.drivers = new Map(); // id -> {name, plate}
    this.failed = new Set();
    this.queue = [];
    this.running = 0;
    this.driversAskedAt = 0;
    this.driversLoading = null;
    this.driversLater = null;
    this.driversAgain = false;
  }

  subscriber(id) { return id == null ? null : this.subscribers.get(id) ?? null; }
  driver(id) { return id == null ? null : this.drivers.get(id) ?? null; }

  // Look up whatever these rides name that is not known yet.
  want(rides) {
    let unknownDriver = false;
    for (const ride of rides) {
      const id = ride.subscriber_id;
      if (id != null && !this.subscribers.has(id) && !this.asked.has(id)) {
        this.asked.add(id);
        this.queue.push(id);
      }
      for (const id of [ride.driver_id, ride.offered_to]) if (id != null && !this.drivers.has(id)) unknownDriver = true;
    }
    this.pump();
    if (unknownDriver) this.loadDrivers();
  }

  // The fleet again: now if allowed, else once the pause since the last load is over.
  loadDrivers(force = false) {
    const wait = this.driversAskedAt + DRIVERS_EVERY_MS - Date.now();
    if (this.driversLoading) { this.driversAgain = true; return; }
    if (!force && wait > 0) {
      this.driversLater ??= setTimeout(() => { this.driversLater = null; this.loadDrivers(true); }, wait);
      return;
    }
    this.driversAskedAt = Date.now();
    this.driversLoading = get("/api/drivers/live").then(({ drivers }) => {
      for (const d of drivers) this.drivers.set(d.driver_id, { name: d.name, plate: d.plate });
      this.onChange({ drivers: true });
    }).catch(() => {}).finally(() => {
      this.driversLoading = null;
      if (this.driversAgain) { this.driversAgain = false; this.loadDrivers(); }
    });
  }

  // A subscriber's whole record, fetched now if need be (the route dialog wants the saved addresses).
  async subscriberRecord(id) {
    const known = this.subscriber(id);
    if (known) return known;
    const { subscriber } = await get(`/api/subscribers/${id}`);
    this.subscribers.set(id, subscriber);
    return subscriber;
  }

  pump() {
    while (this.running < PARALLEL && this.queue.length) {
      const id = this.queue.shift();
      this.running++;
      get(`/api/subscribers/${id}`)
        .then(({ subscriber }) => {
          this.subscribers.set(id, subscriber);
          this.onChange({ subscriber: id });
        })
        .catch(() => this.failed.add(id)) // The row keeps showing the id; the next refresh tries again.
        .finally(() => { this.running--; this.pump(); });
    }
  }

  // Forget failed look-ups so that the next `want` asks again.
  retryFailed() {
    for (const id of this.failed) this.asked.delete(id);
    this.failed.clear();
  }
}
