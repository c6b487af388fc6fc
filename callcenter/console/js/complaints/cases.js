// What the console says about a case wherever it shows one: its status, priority and kind in words and colour,
// where its SLA clocks stand (recomputed as time passes from their deadlines), and which steps the workflow allows.
// The workflow table mirrors feedback/complaints.py; the service has the last word on every step.

import { h, ltr } from "../dom.js";
import { digits, duration } from "../format.js";
import { addStrings, t } from "../i18n.js";

export const STATUSES = ["new", "assigned", "pending", "resolved", "rejected", "duplicate"];
export const OPEN = new Set(["new", "assigned", "pending"]);
export const PRIORITIES = ["urgent", "high", "normal", "low"];
export const HANDLERS = new Set(["supervisor", "admin"]);
const CLOSE = ["resolved", "rejected", "duplicate"];
export const TRANSITIONS = {
  new: ["assigned", "pending", ...CLOSE], assigned: ["pending", ...CLOSE], pending: ["assigned", ...CLOSE],
  resolved: ["pending"], rejected: ["pending"], duplicate: ["pending"],
};
export const OUTCOMES = { complaint: ["no_action", "warning", "refund", "driver_suspended"],
  praise: ["commended", "no_action"] };

addStrings({
  en: {
    "case.status.new": "New", "case.status.assigned": "Assigned", "case.status.pending": "Pending",
    "case.status.resolved": "Resolved", "case.status.rejected": "Rejected", "case.status.duplicate": "Duplicate",
    "case.priority.urgent": "Urgent", "case.priority.high": "High", "case.priority.normal": "Normal",
    "case.priority.low": "Low", "case.kind.complaint": "Complaint", "case.kind.praise": "Praise",
    "case.outcome.no_action": "No action", "case.outcome.warning": "Warning",
    "case.outcome.refund": "Refund / fare adjustment", "case.outcome.driver_suspended": "Driver suspended",
    "case.outcome.commended": "Commended", "case.channel.phone": "Phone", "case.channel.customer_page": "Customer page",
    "case.channel.social_media": "Social media", "case.channel.other": "Other",
    "case.clock.first_response": "First response", "case.clock.resolution": "Resolution",
    "case.sla.dueIn": "due in {time}", "case.sla.overdueBy": "overdue by {time}", "case.sla.met": "met",
    "case.sla.breached": "met late", "case.sla.none": "no clock", "case.overdue": "Overdue",
    "case.days": "{d} d {h} h", "case.number": "Case {id}",
  },
  fa: {
    "case.status.new": "تازه", "case.status.assigned": "واگذارشده", "case.status.pending": "در انتظار",
    "case.status.resolved": "رسیدگی‌شده", "case.status.rejected": "ردشده", "case.status.duplicate": "تکراری",
    "case.priority.urgent": "فوری", "case.priority.high": "زیاد", "case.priority.normal": "عادی",
    "case.priority.low": "کم", "case.kind.complaint": "شکایت", "case.kind.praise": "قدردانی",
    "case.outcome.no_action": "بدون اقدام", "case.outcome.warning": "تذکر",
    "case.outcome.refund": "بازپرداخت / اصلاح کرایه", "case.outcome.driver_suspended": "تعلیق راننده",
    "case.outcome.commended": "تشویق", "case.channel.phone": "تلفن", "case.channel.customer_page": "صفحهٔ مشتری",
    "case.channel.social_media": "شبکه‌های اجتماعی", "case.channel.other": "سایر",
    "case.clock.first_response": "نخستین پاسخ", "case.clock.resolution": "رسیدگی",
    "case.sla.dueIn": "{time} مانده", "case.sla.overdueBy": "{time} دیرکرد", "case.sla.met": "به‌موقع",
    "case.sla.breached": "با تأخیر", "case.sla.none": "بی‌مهلت", "case.overdue": "دیرکرد",
    "case.days": "{d} روز و {h} ساعت", "case.number": "پرونده {id}",
  },
});

export function caseNumber(id) {
  return ltr(`#${digits(id)}`, "case-id");
}

export function statusBadge(status) {
  return h("span", { class: `case-status case-status-${status}`, "data-status": status }, t(`case.status.${status}`));
}

export function priorityBadge(priority) {
  return h("span", { class: `case-priority case-priority-${priority}` }, t(`case.priority.${priority}`));
}

export function kindBadge(kind) {
  return h("span", { class: `case-kind case-kind-${kind}`, "data-kind": kind }, kind === "praise" ? "♥ " : "! ",
    t(`case.kind.${kind}`));
}

// Where a clock stands at `now` (ms): running, overdue, met or breached; null for no clock.
export function clockState(clock, now) {
  if (!clock) return null;
  if (clock.met_at) return Date.parse(clock.met_at) > Date.parse(clock.due_at) ? "breached" : "met";
  return now > Date.parse(clock.due_at) ? "overdue" : "running";
}

export function isOverdue(complaint, now) {
  const clocks = [complaint.sla?.first_response, complaint.sla?.resolution];
  return OPEN.has(complaint.status) && clocks.some((clock) => clockState(clock, now) === "overdue");
}

// The clock an open case is racing now: its first response until met, then its resolution.
export function activeClock(complaint) {
  if (!OPEN.has(complaint.status)) return null;
  for (const name of ["first_response", "resolution"]) {
    const clock = complaint.sla?.[name];
    if (clock && !clock.met_at) return { name, clock };
  }
  return null;
}

// "3:04:05", or "2 d 4 h" past a day.
export function span(seconds) {
  const s = Math.abs(seconds);
  if (s < 86400) return duration(s);
  return t("case.days", { d: digits(Math.floor(s / 86400)), h: digits(Math.floor((s % 86400) / 3600)) });
}

// A clock in words at `now`: "due in 1:20:00", "overdue by 5:00", "met", "met late".
export function clockText(clock, now) {
  const state = clockState(clock, now);
  if (state === null) return { state: "none", text: t("case.sla.none") };
  if (state === "met" || state === "breached") return { state, text: t(`case.sla.${state}`) };
  const left = (Date.parse(clock.due_at) - now) / 1000;
  return { state, text: t(left >= 0 ? "case.sla.dueIn" : "case.sla.overdueBy", { time: span(left) }) };
}

export function categoryName(complaint, language) {
  return complaint.category_names?.[language] || complaint.category_names?.en || complaint.category;
}
