// What the console says about a ride wherever it shows one: its status in words and colour, its live timer.

import { h, ltr } from "./dom.js";
import { addStrings, t } from "./i18n.js";

addStrings({
  en: {
    "status.scheduled": "Pre-booked", "status.requested": "Requested", "status.offering": "Offering",
    "status.unassigned": "Unassigned", "status.assigned": "Driver on the way", "status.arrived": "Driver arrived",
    "status.on_board": "On board", "status.completed": "Completed", "status.cancelled": "Cancelled",
    "status.no_driver_found": "No driver found", "status.no_show": "No-show",
  },
  fa: {
    "status.scheduled": "رزرو شده", "status.requested": "درخواست شده", "status.offering": "در حال پیشنهاد",
    "status.unassigned": "بدون راننده", "status.assigned": "راننده در راه", "status.arrived": "راننده رسید",
    "status.on_board": "مسافر سوار است", "status.completed": "پایان یافته", "status.cancelled": "لغو شده",
    "status.no_driver_found": "راننده‌ای پیدا نشد", "status.no_show": "مسافر نیامد",
  },
});

export const ACTIVE = new Set(["scheduled", "requested", "offering", "unassigned", "assigned", "arrived", "on_board"]);
export const FINAL = new Set(["completed", "cancelled", "no_driver_found", "no_show"]);

// Which stage of a ride its timer measures, and from when.
export function timerStart(ride) {
  switch (ride.status) {
    case "requested": case "offering": case "unassigned": return ride.created_at;
    case "assigned": return ride.assigned_at;
    case "arrived": return ride.arrived_at;
    case "on_board": return ride.picked_up_at;
    default: return null;
  }
}

export function statusBadge(status) {
  return h("span", { class: `status status-${status}`, "data-status": status }, t(`status.${status}`));
}

export function rideLabel(ride) {
  return ltr(`#${ride.id}`, "ride-id");
}
