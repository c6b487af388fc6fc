// The evidence of a case, as the service gathers it from dispatch and the call log: the ride with its fares, its
// history and offers, a small drawing of the driver's GPS trace, the driver, the calls, the subscriber and the
// ride's rating. `evidenceView(evidence, driverName)` returns the section; it holds no state.

import { clear, h, ltr } from "../dom.js";
import { dateTime, digits, distance, duration, money, time } from "../format.js";
import { addStrings, lang, t } from "../i18n.js";
import { starsBadge } from "../rating.js";
import { statusBadge as rideStatus } from "../rides.js";
import "../board/detail.js"; // The ride's words (its actions, offers, actors) are the board's.

addStrings({
  en: {
    "evidence.title": "Evidence", "evidence.loading": "Gathering the evidence…", "evidence.none": "The case names no ride, driver or call.",
    "evidence.ride": "Ride {id}", "evidence.route": "Route", "evidence.times": "Booked {booked} · finished {finished}",
    "evidence.quote": "Fare quote", "evidence.fare": "Fare charged", "evidence.total": "Total",
    "evidence.history": "What happened", "evidence.offers": "Offers", "evidence.noOffers": "No offers were made.",
    "evidence.trace": "Driver's trace", "evidence.noTrace": "No GPS trace was recorded for this trip.",
    "evidence.traceSpan": "{count} fixes, {start} – {end}", "evidence.traceLabel": "The trip as the driver's phone recorded it",
    "evidence.start": "start", "evidence.end": "end", "evidence.pickup": "pickup", "evidence.destination": "destination",
    "evidence.driver": "Driver", "evidence.suspended": "suspended {at}: {reason}", "evidence.driverStatus.active": "active",
    "evidence.driverStatus.suspended": "suspended", "evidence.calls": "Calls",
    "evidence.call.complaint": "The case came in on this call", "evidence.call.booking": "The ride was booked on this call",
    "evidence.call.answered": "answered by {who} after {wait}", "evidence.call.missed": "not answered ({cause})",
    "evidence.call.talk": "talked {time}", "evidence.subscriber": "Customer", "evidence.rating": "Customer's rating",
    "evidence.col.at": "When", "evidence.col.what": "What", "evidence.col.who": "By", "evidence.col.note": "Note",
    "evidence.col.driver": "Driver", "evidence.col.status": "Answer", "evidence.col.distance": "Away",
  },
  fa: {
    "evidence.title": "مستندات", "evidence.loading": "در حال گردآوری مستندات…", "evidence.none": "این پرونده به سفر، راننده یا تماسی اشاره ندارد.",
    "evidence.ride": "سفر {id}", "evidence.route": "مسیر", "evidence.times": "ثبت {booked} · پایان {finished}",
    "evidence.quote": "برآورد کرایه", "evidence.fare": "کرایهٔ دریافتی", "evidence.total": "جمع",
    "evidence.history": "رویدادها", "evidence.offers": "پیشنهادها", "evidence.noOffers": "پیشنهادی داده نشد.",
    "evidence.trace": "مسیر ثبت‌شدهٔ راننده", "evidence.noTrace": "برای این سفر مسیر جی‌پی‌اس ثبت نشده است.",
    "evidence.traceSpan": "{count} نقطه، {start} تا {end}", "evidence.traceLabel": "سفر، آن‌گونه که گوشی راننده ثبت کرد",
    "evidence.start": "آغاز", "evidence.end": "پایان", "evidence.pickup": "مبدأ", "evidence.destination": "مقصد",
    "evidence.driver": "راننده", "evidence.suspended": "تعلیق از {at}: {reason}", "evidence.driverStatus.active": "فعال",
    "evidence.driverStatus.suspended": "تعلیق‌شده", "evidence.calls": "تماس‌ها",
    "evidence.call.complaint": "پرونده با این تماس ثبت شد", "evidence.call.booking": "سفر با این تماس ثبت شد",
    "evidence.call.answered": "پاسخ {who} پس از {wait}", "evidence.call.missed": "بی‌پاسخ ({cause})",
    "evidence.call.talk": "گفتگو {time}", "evidence.subscriber": "مسافر", "evidence.rating": "امتیاز مسافر",
    "evidence.col.at": "زمان", "evidence.col.what": "رویداد", "evidence.col.who": "توسط", "evidence.col.note": "توضیح",
    "evidence.col.driver": "راننده", "evidence.col.status": "پاسخ", "evidence.col.distance": "فاصله",
  },
});

const SVG = "http://www.w3.org/2000/svg";
const TRACE_W = 320;
const TRACE_H = 200;
const PAD = 14;

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) if (value !== null && value !== undefined) el.setAttribute(name, value);
  for (const child of children.flat()) if (child) el.append(child);
  return el;
}

export function evidenceView(evidence, driverName) {
  const people = [
    evidence.subscriber && subscriberCard(evidence.subscriber),
    evidence.driver && driverCard(evidence.driver),
    evidence.rating && h("div", { class: "ev-rating card" }, h("h4", {}, t("evidence.rating")),
      starsBadge(evidence.rating.value), " ", evidence.rating.comment ?? ""),
  ].filter(Boolean);
  const parts = [
    people.length ? h("div", { class: "ev-people" }, people) : null,
    evidence.ride && rideView(evidence.ride, driverName),
    evidence.calls.length ? callsView(evidence.calls) : null,
  ].filter(Boolean);
  return h("section", { class: "evidence" }, h("h3", {}, t("evidence.title")),
    parts.length ? parts : h("p", { class: "muted" }, t("evidence.none")));
}

function subscriberCard(s) {
  return h("div", { class: "ev-subscriber card" }, h("h4", {}, t("evidence.subscriber")),
    h("strong", {}, s.name), " ", s.phones.map((p) => [ltr(p, "phone"), " "]));
}

function driverCard(d) {
  const car = [d.vehicle_make, d.vehicle_model, d.vehicle_colour].filter(Boolean).join(" · ");
  return h("div", { class: "ev-driver card", "data-driver-status": d.status }, h("h4", {}, t("evidence.driver")),
    h("strong", { class: "ev-driver-name" }, d.name), " ",
    h("span", { class: `badge ${d.status === "suspended" ? "bad" : "ok"}` }, t(`evidence.driverStatus.${d.status}`)),
    h("div", { class: "muted small" }, d.plate ? [h("bdi", { dir: "ltr", class: "ltr plate" }, d.plate), " · "] : null,
      car, d.phone ? [" · ", ltr(d.phone, "phone")] : null),
    d.suspended_at ? h("div", { class: "small bad-text" },
      t("evidence.suspended", { at: dateTime(d.suspended_at), reason: d.suspended_reason ?? "" })) : null);
}

function rideView(record, driverName) {
  const { ride, events, offers, trace } = record;
  const place = (p) => (p ? p.text : "—");
  return h("div", { class: "ev-ride", "data-ride-id": ride.id },
    h("h4", {}, t("evidence.ride", { id: digits(ride.id) }), " ", rideStatus(ride.status)),
    h("p", { class: "ev-route" }, place(ride.pickup), lang() === "fa" ? " ← " : " → ", place(ride.destination)),
    h("p", { class: "muted small" }, t("evidence.times", { booked: dateTime(ride.created_at),
      finished: ride.finished_at ? dateTime(ride.finished_at) : "—" })),
    h("div", { class: "ev-columns" },
      h("div", { class: "ev-trace" }, h("h4", {}, t("evidence.trace")), traceView(trace, ride)),
      h("div", { class: "ev-fares" }, fareBlock("evidence.quote", ride.quote), fareBlock("evidence.fare", ride.fare))),
    h("div", { class: "ev-tables" },
      h("h4", {}, t("evidence.history")), historyTable(events, driverName),
      h("h4", {}, t("evidence.offers")), offersTable(offers, driverName)));
}

function fareBlock(title, fare) {
  if (!fare) return null;
  return h("div", { class: "ev-fare card" }, h("h4", {}, t(title)),
    h("table", {}, h("tbody", {},
      fare.lines.map((line) => h("tr", { class: "fare-line" }, h("td", {}, lang() === "fa" ? line.label_fa : line.label_en),
        h("td", { class: "money" }, money(line.amount_rials)))),
      h("tr", { class: "total" }, h("th", {}, t("evidence.total")), h("th", { class: "money" }, money(fare.total_rials))))),
    fare.distance_m != null ? h("p", { class: "muted small" }, distance(fare.distance_m), " · ",
      duration(fare.duration_s ?? 0)) : null);
}

function actorText(actor, driverName) {
  if (actor.kind === "driver" && actor.id != null) return driverName(actor.id);
  return [t(`board.actor.${actor.kind}`), actor.id != null ? [" ", ltr(`#${digits(actor.id)}`)] : null];
}

function historyTable(events, driverName) {
  return h("table", { class: "ev-history" },
    h("thead", {}, h("tr", {}, ["at", "what", "who", "note"].map((c) => h("th", {}, t(`evidence.col.${c}`))))),
    h("tbody", {}, events.map((e) => h("tr", { "data-step": e.action },
      h("td", {}, time(e.at)), h("td", {}, t(`board.action.${e.action}`)),
      h("td", {}, actorText(e.actor, driverName)), h("td", { class: "muted" }, e.reason ?? "")))));
}

function offersTable(offers, driverName) {
  if (!offers.length) return h("p", { class: "muted" }, t("evidence.noOffers"));
  return h("table", { class: "ev-offers" },
    h("thead", {}, h("tr", {}, ["at", "driver", "distance", "status"].map((c) => h("th", {}, t(`evidence.col.${c}`))))),
    h("tbody", {}, offers.map((o) => h("tr", { "data-offer-status": o.status },
      h("td", {}, time(o.offered_at)), h("td", {}, driverName(o.driver_id)), h("td", {}, distance(o.distance_m)),
      h("td", {}, t(`board.offer.${o.status}`))))));
}

// The trip drawn to scale: an equirectangular projection is true enough over a city, with longitude shrunk by
// the cosine of the latitude so that north and east share one scale.
export function traceView(trace, ride) {
  const ends = [["pickup", ride.pickup], ["destination", ride.destination]]
    .filter(([, p]) => p?.lat != null && p?.lng != null).map(([name, p]) => [name, [p.lat, p.lng]]);
  if (!trace.points.length) return h("p", { class: "muted ev-no-trace" }, t("evidence.noTrace"));
  const all = [...trace.points, ...ends.map(([, p]) => p)];
  const lats = all.map((p) => p[0]), lngs = all.map((p) => p[1]);
  const shrink = Math.cos((Math.min(...lats) + Math.max(...lats)) / 2 * Math.PI / 180);
  const spanX = Math.max((Math.max(...lngs) - Math.min(...lngs)) * shrink, 1e-6);
  const spanY = Math.max(Math.max(...lats) - Math.min(...lats), 1e-6);
  const scale = Math.min((TRACE_W - 2 * PAD) / spanX, (TRACE_H - 2 * PAD) / spanY);
  const offX = (TRACE_W - spanX * scale) / 2, offY = (TRACE_H - spanY * scale) / 2;
  const xy = ([lat, lng]) => [offX + (lng - Math.min(...lngs)) * shrink * scale,
    TRACE_H - offY - (lat - Math.min(...lats)) * scale];
  const path = trace.points.map((p) => xy(p).map((v) => v.toFixed(1)).join(",")).join(" ");
  const dot = (point, cls, label) => {
    const [x, y] = xy(point);
    return svg("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 5, class: cls }, svg("title", {}, label));
  };
  const drawing = svg("svg", { viewBox: `0 0 ${TRACE_W} ${TRACE_H}`, class: "trace-svg", role: "img",
    "aria-label": t("evidence.traceLabel") },
  svg("rect", { x: 0, y: 0, width: TRACE_W, height: TRACE_H, class: "trace-bg" }),
  ends.map(([name, p]) => dot(p, `trace-${name}`, t(`evidence.${name}`))),
  svg("polyline", { points: path, class: "trace-line" }),
  dot(trace.points[0], "trace-start", t("evidence.start")),
  dot(trace.points[trace.points.length - 1], "trace-end", t("evidence.end")));
  return h("figure", { class: "trace" }, drawing,
    h("figcaption", { class: "muted small" }, t("evidence.traceSpan", { count: digits(trace.count),
      start: time(trace.started_at), end: time(trace.ended_at) })));
}

function callsView(calls) {
  return h("div", { class: "ev-calls" }, h("h4", {}, t("evidence.calls")),
    h("ul", {}, calls.map((c) => {
      const rang = Date.parse(c.ringing_at);
      const answered = c.answered_at ? t("evidence.call.answered", {
        who: c.operator_name ?? c.answered_extension ?? "—", wait: duration((Date.parse(c.answered_at) - rang) / 1000) })
        : t("evidence.call.missed", { cause: c.end_cause ?? "—" });
      const talk = c.answered_at && c.ended_at
        ? t("evidence.call.talk", { time: duration((Date.parse(c.ended_at) - Date.parse(c.answered_at)) / 1000) }) : null;
      return h("li", { class: "ev-call", "data-call-id": c.id, "data-role": c.role },
        h("span", { class: "muted" }, t(`evidence.call.${c.role}`), ": "),
        ltr(c.caller_e164 ?? c.caller_raw ?? "—", "phone"), " · ", dateTime(c.ringing_at), " · ", answered,
        talk ? [" · ", talk] : null);
    })));
}

export function evidenceLoading(el) {
  clear(el, h("p", { class: "muted" }, t("evidence.loading")));
}
