// The coming week: expected calls and rides for each hour, from the same weekday and hour in past weeks, next to
// the operators and drivers those hours need.

import { h } from "../dom.js";
import { number } from "../format.js";
import { addStrings, t } from "../i18n.js";
import { lineChart } from "./charts.js";
import { card, decimal, hourRange, toggles, weekdayName } from "./common.js";
import { dataTable } from "./table.js";

addStrings({
  en: {
    "reports.forecast": "Forecast", "fc.weeks": "History", "fc.weeks.n": "{n} weeks",
    "fc.demand": "Expected calls and rides per hour, the coming 7 days", "fc.staff": "Operators and drivers needed per hour",
    "fc.expected_calls": "Expected calls", "fc.expected_rides": "Expected rides", "fc.operators_needed": "Operators needed",
    "fc.drivers_needed": "Drivers needed", "fc.hour": "Hour", "fc.tip": "{when}: {series} {value}",
    "fc.note": "From the same weekday and hour in the last {n} weeks.",
  },
  fa: {
    "reports.forecast": "پیش‌بینی", "fc.weeks": "سابقه", "fc.weeks.n": "{n} هفته",
    "fc.demand": "تماس و سفر مورد انتظار در هر ساعت، ۷ روز آینده", "fc.staff": "اپراتور و رانندهٔ لازم در هر ساعت",
    "fc.expected_calls": "تماس مورد انتظار", "fc.expected_rides": "سفر مورد انتظار", "fc.operators_needed": "اپراتور لازم",
    "fc.drivers_needed": "رانندهٔ لازم", "fc.hour": "ساعت", "fc.tip": "{when}: {series} {value}",
    "fc.note": "بر پایهٔ همان روز و ساعت در {n} هفتهٔ گذشته.",
  },
});

const HISTORY = [4, 8, 12, 26];
const DEFAULT_WEEKS = 8;
const MIDDAY = 12;
const COLUMNS = [["expected_calls", decimal], ["expected_rides", decimal], ["operators_needed", number],
  ["drivers_needed", number]];
const FORMAT = Object.fromEntries(COLUMNS);

export default {
  id: "forecast",
  title: "reports.forecast",
  endpoint: "forecast",
  period: false, // the coming week, from `weeks` of history
  create(ctx, reload) {
    const weeks = toggles(t("fc.weeks"), HISTORY.map((n) => [String(n), t("fc.weeks.n", { n: number(n) })]),
      String(DEFAULT_WEEKS), reload);
    const note = h("p", { class: "muted" });
    const demand = h("div", { class: "chart-box" });
    const staff = h("div", { class: "chart-box" });
    const when = (r) => `${weekdayName(r.weekday)} ${hourRange(r.hour)}`;
    const table = dataTable({ name: "forecast", columns: [
      { key: "at", label: t("fc.hour"), cell: when },
      ...COLUMNS.map(([key, format]) => ({ key, label: t(`fc.${key}`), num: true, cell: (r) => format(r[key]) })),
    ], rowAttrs: (r) => ({ "data-at": r.at, "data-weekday": r.weekday, "data-hour": r.hour }) });
    const el = h("div", { class: "report-view" },
      h("div", { class: "row report-controls" }, h("span", { class: "muted" }, t("fc.weeks")), weeks.el, note),
      card(t("fc.demand"), demand),
      card(t("fc.staff"), staff),
      card(null, h("div", { class: "table-scroll tall" }, table.el)));

    function chart(name, label, hours, keys, integer) {
      return lineChart({ name, label, integer, width: 1280,
        xLabels: hours.map((r) => (r.hour === MIDDAY ? weekdayName(r.weekday, "short") : "")), // a day's name mid-day
        series: keys.map((key) => ({ key, label: t(`fc.${key}`), values: hours.map((r) => r[key]) })),
        format: integer ? number : (v) => decimal(v),
        tip: (i, s, v) => t("fc.tip", { when: when(hours[i]), series: s.label, value: FORMAT[s.key](v) }) });
    }
    return {
      el,
      params: () => ({ weeks: weeks.value() }),
      render(data) {
        const hours = data.hours || [];
        note.textContent = t("fc.note", { n: number(Number(weeks.value())) });
        demand.replaceChildren(chart("forecast-demand", t("fc.demand"), hours, ["expected_calls", "expected_rides"], false));
        staff.replaceChildren(chart("forecast-staff", t("fc.staff"), hours, ["operators_needed", "drivers_needed"], true));
        table.set(hours);
      },
    };
  },
};
