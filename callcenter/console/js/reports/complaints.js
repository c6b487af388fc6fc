// Complaints: how many and how many per 1,000 completed rides, by category, driver, operator, area or week; the
// weekly trend; the cases still open and overdue; how long resolving takes.

import { get } from "../api.js";
import { h } from "../dom.js";
import { number, shortDate } from "../format.js";
import { addStrings, lang, t } from "../i18n.js";
import { barChart, lineChart } from "./charts.js";
import { card, count, decimal, figures, firstOf, moreNote, toggles } from "./common.js";
import { dayIso, showDay } from "./period.js";
import { dataTable } from "./table.js";

addStrings({
  en: {
    "reports.complaints": "Complaints", "compl.by": "Group by", "compl.by.category": "Category",
    "compl.by.driver": "Driver", "compl.by.operator": "Operator", "compl.by.area": "Area", "compl.by.period": "Week",
    "compl.complaints": "Complaints", "compl.praise": "Praise", "compl.completed_rides": "Completed rides",
    "compl.rate": "Per 1,000 rides", "compl.open": "Open cases", "compl.overdue": "Overdue",
    "compl.resolve_median": "Median time to resolve", "compl.resolve_p90": "9 in 10 resolved within",
    "compl.resolved": "Resolved in the period", "compl.hours": "{n} h", "compl.chart": "Complaints per 1,000 completed rides by {by}",
    "compl.trend": "Weekly trend: complaints per 1,000 completed rides", "compl.week_of": "Week of {day}",
    "compl.tip": "{label}: {complaints} complaints, {praise} praise, {rides} completed rides — {rate} per 1,000",
    "compl.trend.tip": "Week of {day}: {complaints} complaints in {rides} completed rides — {rate} per 1,000",
  },
  fa: {
    "reports.complaints": "شکایت‌ها", "compl.by": "دسته‌بندی بر پایهٔ", "compl.by.category": "موضوع",
    "compl.by.driver": "راننده", "compl.by.operator": "اپراتور", "compl.by.area": "منطقه", "compl.by.period": "هفته",
    "compl.complaints": "شکایت", "compl.praise": "تشویق", "compl.completed_rides": "سفر انجام‌شده",
    "compl.rate": "در هر ۱۰۰۰ سفر", "compl.open": "پرونده‌های باز", "compl.overdue": "دیرکرد",
    "compl.resolve_median": "میانهٔ زمان رسیدگی", "compl.resolve_p90": "۹ از ۱۰ پرونده رسیدگی‌شده تا",
    "compl.resolved": "رسیدگی‌شده در این بازه", "compl.hours": "{n} ساعت", "compl.chart": "شکایت در هر ۱۰۰۰ سفر انجام‌شده بر پایهٔ {by}",
    "compl.trend": "روند هفتگی: شکایت در هر ۱۰۰۰ سفر انجام‌شده", "compl.week_of": "هفتهٔ {day}",
    "compl.tip": "{label}: {complaints} شکایت، {praise} تشویق، {rides} سفر انجام‌شده — {rate} در هر ۱۰۰۰",
    "compl.trend.tip": "هفتهٔ {day}: {complaints} شکایت در {rides} سفر انجام‌شده — {rate} در هر ۱۰۰۰",
  },
});

const GROUPS = ["category", "driver", "operator", "area", "period"];
const BARS = 20;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

// The taxonomy's names in both languages, read once a page load (the report's labels come in one language).
let categoryNames = null;
function loadCategoryNames() {
  categoryNames ??= get("/api/complaint-categories")
    .then((r) => new Map(r.categories.map((c) => [c.code, c.names])))
    .catch(() => { categoryNames = null; return new Map(); });
  return categoryNames;
}

export default {
  id: "complaints",
  title: "reports.complaints",
  endpoint: "complaints",
  create(ctx, reload) {
    let names = new Map();
    const by = toggles(t("compl.by"), GROUPS.map((g) => [g, t(`compl.by.${g}`)]), "category", reload);
    const summary = h("div");
    const chart = h("div", { class: "chart-box" });
    const trend = h("div", { class: "chart-box" });
    const label = (row) => {
      if (by.value() === "category") return names.get(row.key)?.[lang()] || row.label;
      if (by.value() === "period" && DAY.test(String(row.key))) return t("compl.week_of", { day: showDay(row.key) });
      return row.label ?? String(row.key);
    };
    const table = dataTable({ name: "complaints", sort: { key: "complaints", dir: -1 }, columns: [
      { key: "label", label: () => t(`compl.by.${by.value()}`), value: (r) => label(r) },
      { key: "complaints", label: t("compl.complaints"), num: true, value: (r) => r.complaints, cell: (r) => count(r.complaints) },
      { key: "praise", label: t("compl.praise"), num: true, value: (r) => r.praise, cell: (r) => count(r.praise) },
      { key: "completed_rides", label: t("compl.completed_rides"), num: true, value: (r) => r.completed_rides,
        cell: (r) => count(r.completed_rides) },
      { key: "rate_per_1000", label: t("compl.rate"), num: true, value: (r) => r.rate_per_1000,
        cell: (r) => decimal(r.rate_per_1000) },
    ], rowAttrs: (r) => ({ "data-key": r.key }) });
    const rest = h("div");
    const el = h("div", { class: "report-view" },
      h("div", { class: "row report-controls" }, by.el),
      summary,
      h("div", { class: "report-columns" }, card(null, chart, rest), card(null, trend)),
      card(null, h("div", { class: "table-scroll" }, table.el)));
    const hours = (n) => (n === null || n === undefined ? "—" : t("compl.hours", { n: decimal(n) }));

    return {
      el,
      params: () => ({ by: by.value() }),
      async render(data) {
        if (by.value() === "category") names = await loadCategoryNames();
        const resolve = data.resolve_hours || {};
        summary.replaceChildren(figures([
          { key: "open", label: t("compl.open"), value: count(data.open) },
          { key: "overdue", label: t("compl.overdue"), value: count(data.overdue) },
          { key: "resolved", label: t("compl.resolved"), value: count(resolve.count) },
          { key: "resolve_median", label: t("compl.resolve_median"), value: hours(resolve.median) },
          { key: "resolve_p90", label: t("compl.resolve_p90"), value: hours(resolve.p90) },
        ]));
        const rows = data.rows || [];
        const ranked = [...rows].sort((a, b) => (b.rate_per_1000 ?? -1) - (a.rate_per_1000 ?? -1) || b.complaints - a.complaints);
        const { shown, rest: more } = firstOf(ranked, BARS);
        chart.replaceChildren(barChart({ name: "complaints", label: t("compl.chart", { by: t(`compl.by.${by.value()}`) }),
          items: shown.map((r) => ({ key: r.key, label: label(r), value: r.rate_per_1000, row: r })),
          format: (v) => decimal(v),
          tip: ({ row }) => t("compl.tip", { label: label(row), complaints: number(row.complaints),
            praise: number(row.praise), rides: number(row.completed_rides), rate: decimal(row.rate_per_1000) }) }));
        rest.replaceChildren(moreNote(more) || "");
        const weeks = data.trend || [];
        trend.replaceChildren(lineChart({ name: "complaints-trend", label: t("compl.trend"),
          xLabels: weeks.map((w) => shortDate(dayIso(w.week_start))),
          series: [{ key: "rate", label: t("compl.rate"), values: weeks.map((w) => w.rate_per_1000) }],
          format: (v) => decimal(v),
          tip: (i) => t("compl.trend.tip", { day: showDay(weeks[i].week_start), complaints: number(weeks[i].complaints),
            rides: number(weeks[i].completed_rides), rate: decimal(weeks[i].rate_per_1000) }) }));
        table.set(rows);
      },
    };
  },
};
