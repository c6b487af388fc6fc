// The board's rules, with no DOM: which lane a ride sits in, how it sorts there, and how late its timer is.

import { FINAL, timerStart } from "../rides.js";

// The lanes in the order the board shows them; `statuses` are the ride statuses each one holds.
export const LANES = [
  { id: "unassigned", statuses: ["unassigned"] },
  { id: "waiting", statuses: ["requested", "offering"] },
  { id: "on_the_way", statuses: ["assigned"] },
  { id: "arrived", statuses: ["arrived"] },
  { id: "on_board", statuses: ["on_board"] },
  { id: "prebooked", statuses: ["scheduled"] },
  { id: "finished", statuses: [...FINAL] },
];
const LANE_OF = new Map(LANES.flatMap((lane) => lane.statuses.map((s) => [s, lane.id])));

// Seconds after which a stage's timer turns amber, then red: a dispatcher's sense of "too long" for each.
export const AGE_LIMITS = {
  requested: [60, 180],
  offering: [60, 180],
  unassigned: [0, 120], // Nobody is coming: amber at once, red after two minutes.
  assigned: [8 * 60, 15 * 60],
  arrived: [3 * 60, 7 * 60],
  on_board: [45 * 60, 90 * 60],
};

// What can be done to a ride in each status (the service has the last word).
export const ASSIGNABLE = new Set(["requested", "offering", "unassigned"]);
export const RETRYABLE = new Set(["unassigned", "scheduled"]);
// Cancelled, or re-routed, until the passenger is aboard.
export const CHANGEABLE = new Set(["scheduled", "requested", "offering", "unassigned", "assigned", "arrived"]);

// How many finished rides stay on the board, and for how long after they finish.
export const FINISHED_KEPT = 8;
export const FINISHED_FOR_MS = 15 * 60 * 1000;
// Pre-bookings further ahead than this are left to the ride search, not the live board.
export const PREBOOKED_HORIZON_MS = 24 * 3600 * 1000;

export const laneOf = (ride) => LANE_OF.get(ride.status) ?? null;

// Whether the board should show this ride now.
export function isOnBoard(ride, nowMs) {
  if (FINAL.has(ride.status)) return nowMs - Date.parse(finishedAt(ride)) < FINISHED_FOR_MS;
  if (ride.status === "scheduled") return Date.parse(ride.pickup_at || ride.due_at) - nowMs < PREBOOKED_HORIZON_MS;
  return laneOf(ride) !== null;
}

export function finishedAt(ride) {
  return ride.finished_at || ride.updated_at;
}

// When a pre-booking goes to dispatch: its pickup time less the center's lead.
export function releaseAt(ride, leadMinutes) {
  const pickup = ride.pickup_at || ride.due_at;
  return new Date(Date.parse(pickup) - leadMinutes * 60_000).toISOString();
}

// Seconds the ride has spent in its current stage, or null for a stage without a timer.
export function elapsedSeconds(ride, nowMs) {
  const start = timerStart(ride);
  return start ? Math.max(0, (nowMs - Date.parse(start)) / 1000) : null;
}

// "ok", "warn" or "bad" for the timer's colour.
export function ageClass(ride, nowMs) {
  const limits = AGE_LIMITS[ride.status];
  const seconds = elapsedSeconds(ride, nowMs);
  if (!limits || seconds === null) return "none";
  return seconds >= limits[1] ? "bad" : seconds >= limits[0] ? "warn" : "ok";
}

// Within a lane the one waiting longest comes first; pre-bookings by pickup time; finished ones newest first.
export function sortKey(ride) {
  if (FINAL.has(ride.status)) return -Date.parse(finishedAt(ride));
  if (ride.status === "scheduled") return Date.parse(ride.pickup_at || ride.due_at);
  return Date.parse(timerStart(ride) || ride.created_at);
}

// Keep the newest FINISHED_KEPT finished rides; return the ids of the others, which leave the board.
export function finishedToDrop(rides) {
  return rides.filter((r) => FINAL.has(r.status)).sort((a, b) => sortKey(a) - sortKey(b))
    .slice(FINISHED_KEPT).map((r) => r.id);
}
