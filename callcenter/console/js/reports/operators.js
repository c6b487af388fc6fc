// Operators: calls handled, average handling time, bookings and bookings per call, complaints about them.

import { h } from "../dom.js";
import { duration } from "../format.js";
import { addStrings, t } from "../i18n.js";
import { barChart } from "./charts.js";
import { card, count, decimal, toggles } from "./common.js";
import { dataTable } from "./table.js";

addStrings({
  en: {
    "reports.operators": "Operators", "ops.name": "Operator", "ops.calls_handled": "Calls handled",
    "ops.avg_handle_s": "Average handling time", "ops.bookings": "Bookings", "ops.bookings_per_call": "Bookings per call",
    "ops.complaints": "Complaints", "ops.chart": "{measure} by operator", "ops.measure": "Measure",
  },
  fa: {
    "reports.operators": "اپراتورها", "ops.name": "اپراتور", "ops.calls_handled": "تماس‌های پاسخ‌داده",
    "ops.avg_handle_s": "میانگین زمان مکالمه", "ops.bookings": "سفرهای ثبت‌شده", "ops.bookings_per_call": "سفر در هر تماس",
    "ops.complaints": "شکایت", "ops.chart": "{measure} به تفکیک اپراتور", "ops.measure": "سنجه",
  },
});

const seconds = (s) => (s === null || s === undefined ? "—" : duration(s));
const COLUMNS = [
  ["calls_handled", count], ["avg_handle_s", seconds], ["bookings", count],
  ["bookings_per_call", (v) => decimal(v, 2)], ["complaints", count],
];
const FORMAT = Object.fromEntries(COLUMNS);

export default {
  id: "operators",
  title: "reports.operators",
  endpoint: "operators",
  create() {
    let rows = [];
    const measure = toggles(t("ops.measure"), COLUMNS.map(([key]) => [key, t(`ops.${key}`)]), "calls_handled",
      () => drawChart());
    const chart = h("div", { class: "chart-box" });
    const table = dataTable({ name: "operators", sort: { key: "calls_handled", dir: -1 }, columns: [
      { key: "name", label: t("ops.name"), value: (r) => r.name },
      ...COLUMNS.map(([key, format]) => ({ key, label: t(`ops.${key}`), num: true, value: (r) => r[key],
        cell: (r) => format(r[key]) })),
    ], rowAttrs: (r) => ({ "data-operator-id": r.operator_id }) });
    const el = h("div", { class: "report-view" },
      h("div", { class: "row report-controls" }, measure.el),
      card(null, chart),
      card(null, h("div", { class: "table-scroll" }, table.el)));

    function drawChart() {
      const key = measure.value();
      const ranked = [...rows].sort((a, b) => (b[key] ?? -Infinity) - (a[key] ?? -Infinity));
      chart.replaceChildren(barChart({ name: "operators", label: t("ops.chart", { measure: t(`ops.${key}`) }),
        items: ranked.map((r) => ({ key: r.operator_id, label: r.name, value: r[key] })), format: FORMAT[key] }));
    }
    return {
      el,
      params: () => ({}),
      render(data) {
        rows = data.rows || [];
        table.set(rows);
        drawChart();
      },
    };
  },
};
