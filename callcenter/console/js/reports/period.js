// The period a report covers: two days on the center's calendar (Jalali in Persian, weeks from Saturday; Gregorian
// in English, weeks from Monday), each picked from a month grid, and quick ranges. Days are "YYYY-MM-DD" strings
// of the center's wall clock, as the report API takes them; `to` is included.
//
// In a grid the arrow keys move by a day (mirrored in Persian, where the week runs right to left) or a week,
// Page Up / Page Down by a month, Enter picks, Escape closes.

import { monthGrids, weekdayNames, weeks } from "../date_picker.js";
import { h } from "../dom.js";
import { date, digits, fromLocalInput, localInputValue, timeZone } from "../format.js";
import { addStrings, lang, t } from "../i18n.js";

addStrings({
  en: {
    "period.from": "From", "period.to": "To", "period.quick": "Quick ranges", "period.7d": "Last 7 days",
    "period.28d": "Last 28 days", "period.90d": "Last 90 days", "period.month": "This month", "period.year": "Last year",
    "period.prev": "Previous month", "period.next": "Next month", "period.pick": "Pick a day",
  },
  fa: {
    "period.from": "از", "period.to": "تا", "period.quick": "بازه‌های آماده", "period.7d": "۷ روز گذشته",
    "period.28d": "۲۸ روز گذشته", "period.90d": "۹۰ روز گذشته", "period.month": "این ماه", "period.year": "یک سال گذشته",
    "period.prev": "ماه قبل", "period.next": "ماه بعد", "period.pick": "انتخاب روز",
  },
});

const DAY_MS = 24 * 60 * 60 * 1000;

function today() { return localInputValue(new Date()).slice(0, 10); }
function addDays(day, n) { return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10); }
const noon = (day) => new Date(fromLocalInput(`${day}T12:00`));
const dayOfInstant = (instant) => localInputValue(instant).slice(0, 10);

// A day as an instant (its noon in the center's zone), for format.js; and as the reader's calendar names it:
// "10 آذر 1405" in Persian, "1 December 2026" in English.
export function dayIso(day) { return noon(day).toISOString(); }
export function showDay(day) { return date(dayIso(day)); }

// The first day of the day's month in the console's calendar (a Jalali month in Persian).
function monthStart(day) {
  if (lang() !== "fa") return `${day.slice(0, 8)}01`;
  const dayOfMonth = Number(new Intl.DateTimeFormat("fa-IR-u-ca-persian-nu-latn", { timeZone: timeZone(), day: "numeric" })
    .format(noon(day)));
  return addDays(day, 1 - dayOfMonth);
}

// Quick ranges, each ending today.
const QUICK = {
  "7d": (end) => addDays(end, -6),
  "28d": (end) => addDays(end, -27),
  "90d": (end) => addDays(end, -89),
  month: (end) => monthStart(end),
  year: (end) => addDays(end, -364),
};
const DEFAULT_RANGE = "28d";

function quickRange(key) {
  const end = today();
  return { from: QUICK[key](end), to: end };
}

// The picker: {el, value() -> {from, to}}; `onChange({from, to})` runs after each change.
export function periodPicker({ onChange }) {
  let range = quickRange(DEFAULT_RANGE);
  const quick = Object.keys(QUICK).map((key) => h("button", { type: "button", "data-range": key,
    onclick: () => set(quickRange(key)) }, t(`period.${key}`)));
  const fields = {
    from: dayField("from", () => range.from, (day) => set({ from: day, to: day > range.to ? day : range.to })),
    to: dayField("to", () => range.to, (day) => set({ from: day < range.from ? day : range.from, to: day })),
  };
  const el = h("div", { class: "report-period", role: "group", "aria-label": `${t("period.from")} – ${t("period.to")}` },
    fields.from.el, fields.to.el,
    h("div", { class: "toggles quick", role: "group", "aria-label": t("period.quick") }, quick));

  function set(next) {
    const changed = next.from !== range.from || next.to !== range.to;
    range = next;
    draw();
    if (changed) onChange({ ...range });
  }
  function draw() {
    fields.from.draw();
    fields.to.draw();
    quick.forEach((b) => {
      const r = quickRange(b.dataset.range);
      b.setAttribute("aria-pressed", String(r.from === range.from && r.to === range.to));
    });
  }
  draw();
  return { el, value: () => ({ ...range }) };
}

// One day: a button showing it, opening a month grid under it.
function dayField(name, current, pick) {
  const shown = h("span", { class: "day-text" });
  const button = h("button", { type: "button", class: "day-field", name: `period-${name}`, "aria-haspopup": "dialog",
    "aria-expanded": "false", onclick: () => (pop.hidden ? open() : close()) }, shown);
  const pop = h("div", { class: "calendar-pop", role: "dialog", "aria-label": t("period.pick"), hidden: true });
  const el = h("div", { class: "period-field", "data-field": name }, h("span", { class: "period-label" },
    t(`period.${name}`)), button, pop);
  let month = null; // a day in the month on show

  function open() {
    month = current();
    pop.hidden = false;
    button.setAttribute("aria-expanded", "true");
    grid(current());
    document.addEventListener("pointerdown", outside, true);
  }
  function close(refocus = false) {
    pop.hidden = true;
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("pointerdown", outside, true);
    if (refocus) button.focus();
  }
  function outside(event) { if (!el.contains(event.target)) close(); }

  function grid(focusDay) {
    const [monthGrid] = monthGrids(noon(month), 1);
    const first = dayOfInstant(monthGrid.days[0]), last = dayOfInstant(monthGrid.days.at(-1));
    const end = today();
    const step = (day, which) => {
      month = day;
      grid(null);
      const again = pop.querySelector(`.${which}`);
      (again.disabled ? pop.querySelector("[data-date]") : again).focus(); // keep the focus in the grid
    };
    pop.replaceChildren(
      h("div", { class: "row calendar-head" },
        h("button", { type: "button", class: "prev", "aria-label": t("period.prev"), title: t("period.prev"),
          onclick: () => step(addDays(first, -1), "prev") }, lang() === "fa" ? "›" : "‹"),
        h("strong", {}, monthGrid.title),
        h("button", { type: "button", class: "next", "aria-label": t("period.next"), title: t("period.next"),
          disabled: last >= end, onclick: () => step(addDays(last, 1), "next") }, lang() === "fa" ? "‹" : "›")),
      h("table", { class: "month" },
        h("thead", {}, h("tr", {}, weekdayNames().map((n) => h("th", {}, n)))),
        h("tbody", {}, weeks(monthGrid).map((week) => h("tr", {}, week.map((instant) => {
          if (!instant) return h("td", {});
          const day = dayOfInstant(instant);
          return h("td", {}, h("button", { type: "button", "data-date": day, disabled: day > end,
            class: `day${day === current() ? " chosen" : ""}${day === end ? " today" : ""}`,
            "aria-label": showDay(day), "aria-pressed": String(day === current()),
            onclick: () => { pick(day); close(true); } }, digits(dayNumber(instant))));
        }))))));
    if (focusDay) pop.querySelector(`[data-date="${focusDay}"]`)?.focus();
  }

  pop.addEventListener("keydown", (event) => {
    const focused = document.activeElement?.dataset?.date;
    const back = lang() === "fa" ? 1 : -1; // ArrowLeft goes back a day in English, on a day in Persian
    const move = { ArrowLeft: back, ArrowRight: -back, ArrowUp: -7, ArrowDown: 7 }[event.key];
    if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); close(true); return; }
    if (!focused) return;
    let day = null;
    if (move) day = addDays(focused, move);
    else if (event.key === "PageUp") day = addDays(focused, -30);
    else if (event.key === "PageDown") day = addDays(focused, 30);
    if (!day) return;
    event.preventDefault();
    if (day > today()) day = today();
    const button = pop.querySelector(`[data-date="${day}"]`);
    if (button) button.focus();
    else { month = day; grid(day); }
  });

  return { el, draw() { shown.textContent = showDay(current()); } };
}

function dayNumber(instant) {
  return new Intl.DateTimeFormat(lang() === "fa" ? "fa-IR-u-ca-persian-nu-latn" : "en-GB-u-ca-gregory-nu-latn",
    { timeZone: timeZone(), day: "numeric" }).format(instant);
}
