// What the report views share: weekday and hour labels in the reader's order, percentages, cards, toggles and
// summary figures. The API numbers weekdays from Saturday (0) to Friday (6).

import { h } from "../dom.js";
import { digits, number, weekStart } from "../format.js";
import { addStrings, lang, t } from "../i18n.js";

addStrings({
  en: { "reports.more": "and {n} more" },
  fa: { "reports.more": "و {n} مورد دیگر" },
});

const SATURDAY = Date.UTC(2023, 0, 7); // 7 January 2023 was a Saturday
const DAY_MS = 24 * 60 * 60 * 1000;
const names = new Map();

// The name of an API weekday (0 = Saturday) in the console's language.
export function weekdayName(weekday, style = "long") {
  const key = `${lang()}|${style}|${weekday}`;
  if (!names.has(key)) {
    names.set(key, new Intl.DateTimeFormat(lang() === "fa" ? "fa-IR" : "en-GB", { weekday: style, timeZone: "UTC" })
      .format(new Date(SATURDAY + weekday * DAY_MS)));
  }
  return names.get(key);
}

// The API's weekdays in the reader's order: Saturday first in Persian, Monday first in English.
export function weekdayOrder() {
  const first = (weekStart() + 1) % 7; // Date.getDay() numbers Saturday 6, the API 0
  return Array.from({ length: 7 }, (_, i) => (first + i) % 7);
}

export const HOURS = Array.from({ length: 24 }, (_, hour) => hour);
const two = (n) => String(n).padStart(2, "0");
export function hourLabel(hour) { return digits(two(hour)); }
export function hourRange(hour) { return digits(`${two(hour)}:00–${two((hour + 1) % 24)}:00`); }

export function count(n) { return n === null || n === undefined ? "—" : number(n); }
export function pct(ratio) {
  if (ratio === null || ratio === undefined) return "—";
  return `${number(Math.round(ratio * 1000) / 10)}${lang() === "fa" ? "٪" : "%"}`;
}
export function decimal(n, places = 1) {
  return n === null || n === undefined ? "—" : number(Math.round(n * 10 ** places) / 10 ** places);
}

// A translated text for a code the server sends, or the server's own label when the console has none.
export function known(key, fallback) {
  const text = t(key);
  return text === key ? fallback : text;
}

export function card(title, ...children) {
  return h("section", { class: "card report-card" }, title ? h("h3", {}, title) : null, ...children);
}

// A row of buttons of which one is chosen (aria-pressed); `onChange(value)` runs when the choice changes.
export function toggles(name, options, current, onChange) {
  let value = current;
  const buttons = options.map(([key, label]) => h("button", { type: "button", "data-value": key,
    "aria-pressed": String(key === value), onclick: () => set(key, true) }, label));
  const el = h("div", { class: "toggles", role: "group", "data-toggle": name, "aria-label": name }, buttons);
  function set(key, byUser = false) {
    if (key === value) return;
    value = key;
    buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.value === key)));
    if (byUser) onChange(key);
  }
  return { el, value: () => value, set };
}

// Headline figures: [{key, label, value}], each a big number with its label under it.
export function figures(items) {
  return h("div", { class: "report-figures" }, items.map(({ key, label, value }) =>
    h("div", { class: "figure", "data-figure": key }, h("strong", { class: "n" }, value), h("span", {}, label))));
}

// The first `limit` items, and how many were left out.
export function firstOf(items, limit) {
  return { shown: items.slice(0, limit), rest: Math.max(0, items.length - limit) };
}
export function moreNote(rest) {
  return rest ? h("p", { class: "muted" }, t("reports.more", { n: number(rest) })) : null;
}
