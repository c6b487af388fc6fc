// A date-and-time field in the console's calendar: Solar Hijri months with weeks from Saturday in Persian,
// Gregorian months with weeks from Monday in English, always in the center's time zone. The browser's own
// date input only knows the Gregorian calendar, so the month grid is drawn here from Intl's calendars.

import { h } from "./dom.js";
import { digits, fromLocalInput, localInputValue, timeZone, weekStart } from "./format.js";
import { lang } from "./i18n.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const MONTHS_SHOWN = 2;

function calendarLocale() { return lang() === "fa" ? "fa-IR-u-ca-persian-nu-latn" : "en-GB-u-ca-gregory-nu-latn"; }

// The calendar day (year, month, day in the console's calendar) and weekday of an instant in the center's zone.
function dayOf(instant) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat(calendarLocale(), { timeZone: timeZone(), year: "numeric",
    month: "numeric", day: "numeric", weekday: "short" }).formatToParts(instant).map((p) => [p.type, p.value]));
  const weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(new Intl.DateTimeFormat("en-US",
    { timeZone: timeZone(), weekday: "short" }).format(instant));
  return { year: Number.parseInt(parts.year, 10), month: Number(parts.month), day: Number(parts.day), weekday };
}

function monthName(instant) {
  const locale = lang() === "fa" ? "fa-IR-u-ca-persian" : "en-GB";
  return new Intl.DateTimeFormat(locale, { timeZone: timeZone(), month: "long", year: "numeric" }).format(instant);
}

// The week's day names, narrow, from the week's first day in the console's language.
export function weekdayNames() {
  // 2023-01-01 was a Sunday; take the seven days from the week's first.
  const first = weekStart();
  return Array.from({ length: 7 }, (_, i) => new Intl.DateTimeFormat(lang() === "fa" ? "fa-IR" : "en-GB",
    { weekday: "narrow", timeZone: "UTC" }).format(new Date(Date.UTC(2023, 0, 1 + ((first + i) % 7)))));
}

// Month grids from today: each a title and its days as instants at noon in the center's zone, weeks padded.
export function monthGrids(now = new Date(), months = MONTHS_SHOWN) {
  const noon = (d) => new Date(fromLocalInput(`${localInputValue(d).slice(0, 10)}T12:00`));
  const grids = [];
  let day = noon(now);
  // Back to the first of this month, then forward month by month.
  while (dayOf(day).day !== 1) day = noon(new Date(day.getTime() - DAY_MS));
  for (let m = 0; m < months; m++) {
    const month = dayOf(day).month;
    const days = [];
    while (dayOf(day).month === month) {
      days.push(day);
      day = noon(new Date(day.getTime() + DAY_MS + 2 * 60 * 60 * 1000)); // a DST-proof step into the next day
    }
    const lead = (dayOf(days[0]).weekday - weekStart() + 7) % 7;
    grids.push({ title: monthName(days[0]), lead, days });
  }
  return grids;
}

// Build the field: {el, value() -> ISO instant, set(date)}. `onChange` is called whenever the choice changes.
export function dateTimeField({ initial, onChange = () => {}, name = "pickup_at" }) {
  let chosen = localInputValue(initial); // "YYYY-MM-DDTHH:MM" on the center's wall clock
  const today = localInputValue(new Date()).slice(0, 10);
  const time = h("input", { type: "time", name: `${name}_time`, value: chosen.slice(11), dir: "ltr" });
  const summary = h("output", { class: "date-summary", name: `${name}_summary` });
  const grids = h("div", { class: "month-grids" });

  function render() {
    grids.replaceChildren(...monthGrids().map((grid) => h("table", { class: "month" },
      h("caption", {}, grid.title),
      h("thead", {}, h("tr", {}, weekdayNames().map((n) => h("th", {}, n)))),
      h("tbody", {}, weeks(grid).map((week) => h("tr", {}, week.map((d) => {
        if (!d) return h("td", {});
        const iso = localInputValue(d).slice(0, 10);
        return h("td", {}, h("button", {
          type: "button", class: `day ${iso === chosen.slice(0, 10) ? "chosen" : ""} ${iso === today ? "today" : ""}`,
          disabled: iso < today, "data-date": iso,
          onclick: () => { chosen = `${iso}T${time.value || "00:00"}`; render(); onChange(); },
        }, digits(dayOf(d).day)));
      })))))));
    const instant = new Date(fromLocalInput(chosen));
    summary.textContent = new Intl.DateTimeFormat(lang() === "fa" ? "fa-IR-u-ca-persian" : "en-GB", {
      timeZone: timeZone(), weekday: "long", year: "numeric", month: "long", day: "numeric", hour: "2-digit",
      minute: "2-digit", hourCycle: "h23" }).format(instant);
  }
  time.addEventListener("change", () => { chosen = `${chosen.slice(0, 10)}T${time.value || "00:00"}`; render(); onChange(); });
  render();
  return {
    el: h("div", { class: "date-time-field" }, grids, h("div", { class: "row" }, time, summary)),
    value: () => fromLocalInput(chosen),
    focus: () => time.focus(),
  };
}

// A month grid's days in rows of seven, padded with nulls before the first and after the last.
export function weeks(grid) {
  const cells = [...Array(grid.lead).fill(null), ...grid.days];
  while (cells.length % 7) cells.push(null);
  return Array.from({ length: cells.length / 7 }, (_, i) => cells.slice(i * 7, i * 7 + 7));
}
