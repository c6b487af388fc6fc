// Drivers: offers taken and left, rides completed, revenue and the center's commission, rating and complaint rate;
// the best marked so good work can be rewarded, the worst so it can be looked into.

import { h } from "../dom.js";
import { money, number } from "../format.js";
import { addStrings, t } from "../i18n.js";
import { barChart } from "./charts.js";
import { card, count, decimal, firstOf, moreNote, pct, toggles } from "./common.js";
import { dataTable } from "./table.js";

addStrings({
  en: {
    "reports.drivers": "Drivers", "drv.name": "Driver", "drv.offered": "Offered", "drv.accepted": "Accepted",
    "drv.declined": "Declined", "drv.ignored": "Ignored", "drv.completed": "Completed", "drv.acceptance_rate": "Acceptance",
    "drv.revenue_rials": "Revenue", "drv.commission_rials": "Commission", "drv.avg_rating": "Rating",
    "drv.ratings": "Ratings", "drv.complaints": "Complaints", "drv.complaint_rate_per_1000": "Complaints per 1,000",
    "drv.best": "Best", "drv.worst": "Needs attention", "drv.best.title": "Best this period — to reward",
    "drv.worst.title": "Needs attention", "drv.chart": "{measure} by driver", "drv.measure": "Measure",
    "drv.rating_of": "{rating} ({n} ratings)",
  },
  fa: {
    "reports.drivers": "رانندگان", "drv.name": "راننده", "drv.offered": "پیشنهاد", "drv.accepted": "پذیرفته",
    "drv.declined": "ردشده", "drv.ignored": "بی‌پاسخ", "drv.completed": "انجام‌شده", "drv.acceptance_rate": "نرخ پذیرش",
    "drv.revenue_rials": "درآمد", "drv.commission_rials": "کمیسیون", "drv.avg_rating": "امتیاز",
    "drv.ratings": "امتیازها", "drv.complaints": "شکایت", "drv.complaint_rate_per_1000": "شکایت در هر ۱۰۰۰",
    "drv.best": "برتر", "drv.worst": "نیازمند توجه", "drv.best.title": "برترین‌های این بازه — برای تشویق",
    "drv.worst.title": "نیازمند توجه", "drv.chart": "{measure} به تفکیک راننده", "drv.measure": "سنجه",
    "drv.rating_of": "{rating} ({n} امتیاز)",
  },
});

const BARS = 20;
const rating = (r) => (r.avg_rating === null || r.avg_rating === undefined ? "—"
  : t("drv.rating_of", { rating: decimal(r.avg_rating), n: number(r.ratings) }));
// Each column: how it sorts and how it reads; the chart can show any with `chart: true`.
const COLUMNS = [
  { key: "offered", format: count, chart: true }, { key: "accepted", format: count }, { key: "declined", format: count },
  { key: "ignored", format: count }, { key: "completed", format: count, chart: true },
  { key: "acceptance_rate", format: pct, chart: true }, { key: "revenue_rials", format: money, chart: true },
  { key: "commission_rials", format: money }, { key: "avg_rating", format: decimal, cell: rating, chart: true },
  { key: "complaints", format: count }, { key: "complaint_rate_per_1000", format: decimal, chart: true },
];
const FORMAT = Object.fromEntries(COLUMNS.map((c) => [c.key, c.format]));

export default {
  id: "drivers",
  title: "reports.drivers",
  endpoint: "drivers",
  create() {
    let data = null;
    const mark = (id) => (data?.best?.includes(id) ? "best" : data?.worst?.includes(id) ? "worst" : undefined);
    const measure = toggles(t("drv.measure"), COLUMNS.filter((c) => c.chart).map((c) => [c.key, t(`drv.${c.key}`)]),
      "completed", () => drawChart());
    const table = dataTable({ name: "drivers", sort: { key: "completed", dir: -1 }, columns: [
      { key: "name", label: t("drv.name"), value: (r) => r.name, cell: (r) => [r.name, badge(mark(r.driver_id))] },
      ...COLUMNS.map((c) => ({ key: c.key, label: t(`drv.${c.key}`), num: true, value: (r) => r[c.key],
        cell: c.cell || ((r) => c.format(r[c.key])) })),
    ], rowAttrs: (r) => ({ "data-driver-id": r.driver_id, class: mark(r.driver_id) || "" }) });
    const chart = h("div", { class: "chart-box" });
    const more = h("div");
    const best = h("ol", { class: "report-list best" });
    const worst = h("ol", { class: "report-list worst" });
    const el = h("div", { class: "report-view" },
      h("div", { class: "report-columns" }, card(t("drv.best.title"), best), card(t("drv.worst.title"), worst)),
      h("div", { class: "row report-controls" }, measure.el),
      card(null, chart, more),
      card(null, h("div", { class: "table-scroll" }, table.el)));

    function drawChart() {
      const key = measure.value();
      const ranked = [...(data?.rows || [])].sort((a, b) => (b[key] ?? -Infinity) - (a[key] ?? -Infinity));
      const { shown, rest } = firstOf(ranked, BARS);
      chart.replaceChildren(barChart({ name: "drivers", label: t("drv.chart", { measure: t(`drv.${key}`) }),
        items: shown.map((r) => ({ key: r.driver_id, label: r.name, value: r[key], mark: mark(r.driver_id) })),
        format: FORMAT[key] }));
      more.replaceChildren(moreNote(rest) || "");
    }
    function list(target, ids) {
      const rows = new Map((data.rows || []).map((r) => [r.driver_id, r]));
      target.replaceChildren(...(ids.length ? ids.map((id) => rows.get(id)).filter(Boolean).map((r) =>
        h("li", { "data-driver-id": r.driver_id }, h("strong", {}, r.name), " ",
          h("span", { class: "muted" }, `${t("drv.completed")} ${count(r.completed)} · ${t("drv.acceptance_rate")} `
            + `${pct(r.acceptance_rate)} · ${t("drv.avg_rating")} ${decimal(r.avg_rating)}`))) : [h("li", { class: "muted" }, t("reports.none"))]));
    }
    return {
      el,
      params: () => ({}),
      render(answer) {
        data = answer;
        table.set(data.rows);
        list(best, data.best || []);
        list(worst, data.worst || []);
        drawChart();
      },
    };
  },
};

function badge(kind) {
  return kind ? [" ", h("span", { class: `badge mark-${kind}`, "data-mark": kind },
    kind === "best" ? "★ " : "▼ ", t(`drv.${kind}`))] : null;
}
