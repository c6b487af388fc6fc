// How numbers, money, times and dates look in the chosen language, always in the center's time zone.
// Persian: Persian digits, the Solar Hijri (Jalali) calendar, weeks from Saturday. English: Gregorian, Monday.

import { lang } from "./i18n.js";

let zone = "Asia/Tehran";
export function setTimeZone(tz) { zone = tz || zone; }
export function timeZone() { return zone; }

const PERSIAN = "۰۱۲۳۴۵۶۷۸۹";
const ARABIC = "٠١٢٣٤٥٦٧٨٩";

function locale() { return lang() === "fa" ? "fa-IR-u-ca-persian-nu-arabext" : "en-GB"; }

// Show digits in the language's own digit set.
export function digits(value) {
  const text = String(value ?? "");
  return lang() === "fa" ? text.replace(/[0-9]/g, (d) => PERSIAN[d]) : text;
}

// Read what a user typed in any digit set as ASCII digits.
export function asciiDigits(text) {
  return String(text ?? "").replace(/[۰-۹]/g, (d) => PERSIAN.indexOf(d)).replace(/[٠-٩]/g, (d) => ARABIC.indexOf(d));
}

export function number(n) { return new Intl.NumberFormat(locale()).format(n); }

export function money(rials) {
  if (rials === null || rials === undefined) return "—";
  return `${number(rials)} ${lang() === "fa" ? "ریال" : "IRR"}`;
}

const formats = new Map();
function fmt(options) {
  const key = `${locale()}|${zone}|${JSON.stringify(options)}`;
  if (!formats.has(key)) formats.set(key, new Intl.DateTimeFormat(locale(), { timeZone: zone, ...options }));
  return formats.get(key);
}

export function time(iso) { return iso ? fmt({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(iso)) : "—"; }
export function date(iso) { return iso ? fmt({ year: "numeric", month: "long", day: "numeric" }).format(new Date(iso)) : "—"; }
export function dateTime(iso) {
  return iso ? fmt({ year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    hourCycle: "h23" }).format(new Date(iso)) : "—";
}
// "10 Azar" / "1 Dec" for chart axes, and "Azar 1405" / "December 2026" for months.
export function shortDate(iso) { return iso ? fmt({ month: "short", day: "numeric" }).format(new Date(iso)) : "—"; }
// A month and year in the center's calendar ("jalali" or "gregorian") whatever the console's language: the months
// reports count customers in are the center's, not the reader's.
export function calendarMonthYear(iso, calendar) {
  const ca = calendar === "jalali" ? "persian" : "gregory";
  const named = lang() === "fa" ? `fa-IR-u-ca-${ca}-nu-arabext` : `en-GB-u-ca-${ca}`;
  return new Intl.DateTimeFormat(named, { timeZone: zone, year: "numeric", month: "long" }).format(new Date(iso));
}
export function weekday(iso) { return fmt({ weekday: "long" }).format(new Date(iso)); }

// The first day of the week: Saturday (6) in Persian, Monday (1) in English; as Date.getDay() numbers.
export function weekStart() { return lang() === "fa" ? 6 : 1; }

// "4:05" for a timer; hours appear only when needed.
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return digits(hh ? `${hh}:${two(mm)}:${two(ss)}` : `${mm}:${two(ss)}`);
}

export function distance(metres) {
  if (metres === null || metres === undefined) return "—";
  return metres < 1000 ? `${number(Math.round(metres))} ${lang() === "fa" ? "متر" : "m"}`
    : `${number(Math.round(metres / 100) / 10)} ${lang() === "fa" ? "کیلومتر" : "km"}`;
}

// A value for <input type="datetime-local"> in the center's zone, and back to an ISO instant.
export function localInputValue(d) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(d).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}
export function fromLocalInput(value) {
  // Find the UTC instant whose wall-clock time in the center's zone is `value` (two passes settle DST edges).
  const wanted = Date.parse(`${value}:00Z`);
  let guess = wanted;
  for (let i = 0; i < 2; i++) guess += wanted - Date.parse(`${localInputValue(new Date(guess))}:00Z`);
  return new Date(guess).toISOString();
}
