// One ride in full, in a dialog over the board: what it is, its fare, what can be done to it, its history of
// events and the offers made for it (with the searches behind them). It follows the ride live while open.

import { get } from "../api.js";
import { clear, h, ltr, openDialog, toast } from "../dom.js";
import { dateTime, digits, distance, duration, money, time } from "../format.js";
import { addStrings, lang, t } from "../i18n.js";
import { statusBadge } from "../rides.js";
import { assignRide, cancelRide, changeRoute, retryRide, rideIdText } from "./actions.js";
import { ASSIGNABLE, CHANGEABLE, RETRYABLE } from "./lanes.js";

addStrings({
  en: {
    "board.detail.title": "Ride {id}", "board.detail.pickup": "Pickup", "board.detail.destination": "Destination",
    "board.detail.customer": "Customer", "board.detail.driver": "Driver", "board.detail.offeredTo": "Offered to",
    "board.detail.passengers": "Passengers", "board.detail.car": "Car", "board.detail.notes": "Notes for the driver",
    "board.detail.booked": "Booked", "board.detail.pickupAt": "Pickup time",
    "board.detail.cancelReason": "Cancelled because", "board.detail.quote": "Fare quote",
    "board.detail.fare": "Fare charged", "board.detail.locked": "the quote is the price", "board.detail.total": "Total",
    "board.detail.trip": "{distance}, about {minutes} min", "board.detail.history": "History",
    "board.detail.offers": "Offers", "board.detail.noOffers": "No offers yet.", "board.detail.searches": "Searches",
    "board.detail.searchLine": "{time}: {count} drivers within {radius}", "board.detail.complaint": "Open complaint",
    "board.detail.complaintMissing": "Complaints cannot be opened yet.", "board.detail.rate": "Rating",
    "board.detail.col.at": "When", "board.detail.col.what": "What", "board.detail.col.who": "By",
    "board.detail.col.note": "Note", "board.detail.col.rank": "Rank", "board.detail.col.via": "How",
    "board.detail.col.answered": "Answered after", "board.detail.col.offered": "Offered",
    "board.basis.locked_quote": "the quote", "board.basis.meter": "the meter",
    "board.action.book": "booked", "board.action.change_route": "route changed",
    "board.action.release": "released to dispatch", "board.action.offer": "offered", "board.action.accept": "accepted",
    "board.action.assign": "assigned by hand", "board.action.mark_unassigned": "to the unassigned list",
    "board.action.mark_no_driver_found": "closed: no driver found", "board.action.arrive": "driver arrived",
    "board.action.pick_up": "passenger on board", "board.action.complete": "completed",
    "board.action.cancel": "cancelled", "board.action.no_show": "no-show",
    "board.actor.operator": "operator", "board.actor.driver": "driver", "board.actor.customer": "customer",
    "board.actor.system": "dispatcher",
    "board.offer.pending": "waiting", "board.offer.accepted": "accepted", "board.offer.declined": "declined",
    "board.offer.expired": "timed out", "board.offer.lost": "app went offline", "board.offer.withdrawn": "withdrawn",
    "board.via.nearest": "nearest", "board.via.zone_queue": "rank queue", "board.via.manual": "by hand",
  },
  fa: {
    "board.detail.title": "سفر {id}", "board.detail.pickup": "مبدأ", "board.detail.destination": "مقصد",
    "board.detail.customer": "مسافر", "board.detail.driver": "راننده", "board.detail.offeredTo": "پیشنهاد به",
    "board.detail.passengers": "تعداد مسافر", "board.detail.car": "خودرو", "board.detail.notes": "یادداشت برای راننده",
    "board.detail.booked": "ثبت", "board.detail.pickupAt": "زمان سوار شدن",
    "board.detail.cancelReason": "دلیل لغو", "board.detail.quote": "برآورد کرایه",
    "board.detail.fare": "کرایهٔ دریافتی", "board.detail.locked": "برآورد همان کرایه است", "board.detail.total": "جمع",
    "board.detail.trip": "{distance}، حدود {minutes} دقیقه", "board.detail.history": "سابقه",
    "board.detail.offers": "پیشنهادها", "board.detail.noOffers": "هنوز پیشنهادی نشده.", "board.detail.searches": "جستجوها",
    "board.detail.searchLine": "{time}: {count} راننده در {radius}", "board.detail.complaint": "ثبت شکایت",
    "board.detail.complaintMissing": "ثبت شکایت هنوز ممکن نیست.", "board.detail.rate": "امتیاز",
    "board.detail.col.at": "زمان", "board.detail.col.what": "رویداد", "board.detail.col.who": "توسط",
    "board.detail.col.note": "توضیح", "board.detail.col.rank": "رتبه", "board.detail.col.via": "روش",
    "board.detail.col.answered": "پاسخ پس از", "board.detail.col.offered": "پیشنهاد",
    "board.basis.locked_quote": "برآورد", "board.basis.meter": "کیلومترشمار",
    "board.action.book": "ثبت شد", "board.action.change_route": "تغییر مسیر",
    "board.action.release": "اعزام رزرو", "board.action.offer": "پیشنهاد شد", "board.action.accept": "پذیرفته شد",
    "board.action.assign": "واگذاری دستی", "board.action.mark_unassigned": "به فهرست بدون راننده",
    "board.action.mark_no_driver_found": "بسته شد: راننده‌ای نبود", "board.action.arrive": "راننده رسید",
    "board.action.pick_up": "مسافر سوار شد", "board.action.complete": "پایان سفر",
    "board.action.cancel": "لغو شد", "board.action.no_show": "مسافر نیامد",
    "board.actor.operator": "اپراتور", "board.actor.driver": "راننده", "board.actor.customer": "مسافر",
    "board.actor.system": "سامانه",
    "board.offer.pending": "در انتظار", "board.offer.accepted": "پذیرفت", "board.offer.declined": "رد کرد",
    "board.offer.expired": "مهلت تمام شد", "board.offer.lost": "برنامه قطع شد", "board.offer.withdrawn": "پس گرفته شد",
    "board.via.nearest": "نزدیک‌ترین", "board.via.zone_queue": "صف ایستگاه", "board.via.manual": "دستی",
  },
});

// Open ride `rideId` over the board. `board` lends {names, ride(id), upsert(ride), describe(ride), driverName(id),
// paintTimer(el, ride), onDetailClosed(panel)}: its copy of the ride and how it words people and timers.
// Returns the panel: {rideId, reload, tick, close, closed}.
export function openRideDetail(rideId, board) {
  const body = h("div", { class: "board-dialog ride-detail", "data-ride-id": rideId },
    h("p", { class: "muted" }, t("loading")));
  let record = null;
  let loading = null;
  let again = false;
  const panel = { rideId, reload, tick, close: null, closed: false };
  panel.close = openDialog(t("board.detail.title", { id: digits(rideId) }), body, { wide: true,
    onClose: () => { panel.closed = true; board.onDetailClosed?.(panel); } });

  async function reload() {
    // One load at a time; events arriving meanwhile ask for one more after it.
    if (loading) { again = true; return loading; }
    loading = (async () => {
      try {
        const [full, matching] = await Promise.all([get(`/api/rides/${rideId}`),
          get(`/api/rides/${rideId}/offers`)]);
        record = { ...full, matching };
        board.upsert(full.ride);
        if (!panel.closed) render();
      } catch (err) {
        if (!panel.closed) clear(body, h("p", { class: "form-error" }, err.message));
      }
    })();
    await loading;
    loading = null;
    if (again) { again = false; return reload(); }
    return undefined;
  }

  function current() {
    const live = board.ride(rideId);
    return live && (!record || live.version >= record.ride.version) ? live : record.ride;
  }

  function tick() {
    const timer = body.querySelector(".ride-timer");
    if (timer && record) board.paintTimer(timer, current());
  }

  function render() {
    const ride = current();
    const focused = document.activeElement?.dataset?.action;
    clear(body,
      h("div", { class: "row detail-head" }, rideIdText(ride.id), statusBadge(ride.status),
        h("span", { class: "ride-timer" }), h("span", { style: { flex: 1 } }), actions(ride)),
      facts(ride),
      fares(ride),
      h("h3", {}, t("board.detail.history")), history(record.events),
      h("h3", {}, t("board.detail.offers")), offers(record.matching.offers),
      searches(record.matching.searches));
    tick();
    (focused && body.querySelector(`[data-action="${focused}"]`))?.focus();
  }

  function actions(ride) {
    // The changed ride goes to the board, which reloads this detail when the version moved.
    const act = (name, label, run, cls = "") => h("button", { type: "button", class: cls, "data-action": name,
      onclick: async () => { const changed = await run(); if (changed) board.upsert(changed); } }, t(label));
    const status = ride.status;
    return h("div", { class: "row detail-actions" },
      ASSIGNABLE.has(status) && act("assign", "board.assign", () => assignRide(ride), "primary"),
      RETRYABLE.has(status) && act("retry", status === "scheduled" ? "board.release" : "board.retry",
        () => retryRide(ride)),
      CHANGEABLE.has(status) && act("route", "board.route", () => changeRoute(ride, board.names)),
      CHANGEABLE.has(status) && act("cancel", "board.cancelRide", () => cancelRide(ride), "danger"),
      status === "completed" && act("rate", "board.detail.rate", () => openRatingFor(ride)),
      act("complaint", "board.detail.complaint", () => openComplaintFor(ride)));
  }

  function facts(ride) {
    const item = (label, ...value) => [h("dt", {}, t(label)), h("dd", {}, ...value)];
    const place = (p) => (p ? [p.text, p.landmark && h("span", { class: "muted" }, ` · ${p.landmark}`)] : "—");
    const who = board.describe(ride);
    return h("dl", { class: "facts" },
      item("board.detail.pickup", place(ride.pickup)),
      item("board.detail.destination", place(ride.destination)),
      item("board.detail.customer", who.customer),
      who.driver && item("board.detail.driver", who.driver),
      ride.status === "offering" && ride.offered_to != null
        && item("board.detail.offeredTo", board.driverName(ride.offered_to)),
      item("board.detail.passengers", digits(ride.passengers)),
      item("board.detail.car", t(`board.class.${ride.vehicle_class}`)),
      ride.notes_for_driver && item("board.detail.notes", ride.notes_for_driver),
      item("board.detail.booked", dateTime(ride.created_at)),
      ride.pickup_at && item("board.detail.pickupAt", dateTime(ride.pickup_at)),
      ride.cancel_reason && item("board.detail.cancelReason", ride.cancel_reason));
  }

  function fares(ride) {
    const block = (title, fare, note) => fare && h("div", { class: "fare card" },
      h("h3", {}, t(title), note && h("span", { class: "muted small" }, ` · ${note}`)),
      h("table", {}, h("tbody", {},
        fare.lines.map((line) => h("tr", {}, h("td", {}, lang() === "fa" ? line.label_fa : line.label_en),
          h("td", { class: "money" }, money(line.amount_rials)))),
        h("tr", { class: "total" }, h("th", {}, t("board.detail.total")),
          h("th", { class: "money" }, money(fare.total_rials))))),
      fare.distance_m != null && h("p", { class: "muted small" }, t("board.detail.trip",
        { distance: distance(fare.distance_m), minutes: digits(Math.round(fare.duration_s / 60)) })));
    if (!ride.quote && !ride.fare) return null;
    return h("div", { class: "row fares" },
      block("board.detail.quote", ride.quote, ride.quote_locked ? t("board.detail.locked") : null),
      block("board.detail.fare", ride.fare, ride.fare_basis ? t(`board.basis.${ride.fare_basis}`) : null));
  }

  function actorText(actor) {
    if (actor.kind === "driver" && actor.id != null) return board.driverName(actor.id);
    return [t(`board.actor.${actor.kind}`), actor.id != null ? [" ", ltr(`#${digits(actor.id)}`)] : null];
  }

  function history(steps) {
    return h("table", { class: "history" },
      h("thead", {}, h("tr", {}, ["at", "what", "who", "note"].map((c) => h("th", {}, t(`board.detail.col.${c}`))))),
      h("tbody", {}, steps.map((step) => h("tr", { "data-step": step.action },
        h("td", {}, time(step.at)),
        h("td", {}, t(`board.action.${step.action}`), " ", statusBadge(step.to_status)),
        h("td", {}, actorText(step.actor), step.driver_id != null && step.actor.kind !== "driver"
          ? [" → ", board.driverName(step.driver_id)] : null),
        h("td", { class: "muted" }, step.reason || routeChange(step.details))))));
  }

  function routeChange(details) {
    if (!details?.before || !details?.after) return "";
    const parts = [];
    for (const end of ["pickup", "destination"]) {
      const before = details.before[end]?.text ?? "—", after = details.after[end]?.text ?? "—";
      if (before !== after) parts.push(`${t(`board.detail.${end}`)}: ${before} → ${after}`);
    }
    return parts.join(" · ");
  }

  function offers(list) {
    if (!list.length) return h("p", { class: "muted" }, t("board.detail.noOffers"));
    const heads = ["detail.col.offered", "col.driver", "detail.col.rank", "col.distance", "detail.col.via", "col.status",
      "detail.col.answered", "detail.col.note"];
    const answeredAfter = (o) => (o.answered_at ? duration((Date.parse(o.answered_at) - Date.parse(o.offered_at)) / 1000)
      : "—");
    return h("table", { class: "offers" },
      h("thead", {}, h("tr", {}, heads.map((key) => h("th", {}, t(`board.${key}`))))),
      h("tbody", {}, list.map((o) => h("tr", { "data-offer-status": o.status },
        h("td", {}, time(o.offered_at)), h("td", {}, board.driverName(o.driver_id)), h("td", {}, digits(o.rank)),
        h("td", {}, distance(o.distance_m)), h("td", {}, t(`board.via.${o.via}`)),
        h("td", {}, t(`board.offer.${o.status}`)), h("td", {}, answeredAfter(o)),
        h("td", { class: "muted" }, o.reason || "")))));
  }

  function searches(list) {
    if (!list.length) return null;
    // Each driver a search looked at: their place in the offer order, or why they were passed over.
    const decision = (d) => [board.driverName(d.driver_id), " ",
      d.skip_reason ? t(`board.why.${d.skip_reason}`) : `${digits(d.rank)}.`,
      d.distance_m != null ? ` (${distance(d.distance_m)})` : ""];
    return h("details", { class: "searches" },
      h("summary", {}, t("board.detail.searches"), " (", digits(list.length), ")"),
      h("ul", {}, list.map((s) => h("li", {},
        t("board.detail.searchLine", { time: time(s.searched_at), count: digits(s.decisions.length),
          radius: distance(s.radius_m) }),
        h("ul", { class: "muted" }, s.decisions.map((d) => h("li", {}, decision(d))))))));
  }

  reload();
  return panel;
}

// The complaint form belongs to the feedback part of the console; it is loaded only when asked for.
async function openComplaintFor(ride) {
  let module;
  try {
    module = await import("../complaint.js");
  } catch {
    toast(t("board.detail.complaintMissing"), "error");
    return null;
  }
  module.openComplaint({ rideId: ride.id, subscriberId: ride.subscriber_id });
  return null;
}

// A completed ride's rating (entered on a follow-up call, or a link to send) belongs to feedback too.
async function openRatingFor(ride) {
  try {
    const { openRideRating } = await import("../ride_rating.js");
    openRideRating(ride, { subscriberId: ride.subscriber_id });
  } catch (err) {
    toast(err.message, "error");
  }
  return null;
}
