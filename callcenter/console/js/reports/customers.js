// Customers: monthly cohorts and how many of each ride again month by month; regulars who stopped, with the last
// thing that happened to them; RFM segments (recency, frequency, money) and what each is worth; the customers at
// risk, each a link to their record; the loyalty tiers.

import { h } from "../dom.js";
import { calendarMonthYear, dateTime, digits, money, number } from "../format.js";
import { addStrings, t } from "../i18n.js";
import { barChart, cohortTriangle } from "./charts.js";
import { card, count, known, pct } from "./common.js";
import { dayIso } from "./period.js";
import { dataTable } from "./table.js";

addStrings({
  en: {
    "reports.customers": "Customers", "cust.cohorts": "Monthly cohorts: the share of each month's new customers who rode again",
    "cust.cohort": "First ride", "cust.size": "Customers", "cust.cohort.tip": "{cohort}, month {month}: {active} of {size} rode ({share})",
    "cust.rfm": "Segments by recency, frequency and money", "cust.rfm.chart": "Estimated yearly value by segment",
    "cust.segment": "Segment", "cust.customers": "Customers", "cust.revenue_rials": "Revenue", "cust.value_rials": "Yearly value (est.)",
    "cust.rfm.tip": "{segment}: {customers} customers, {revenue} in the period, about {value} a year",
    "cust.at_risk": "At risk", "cust.name": "Customer", "cust.recency_days": "Days since last ride", "cust.rides": "Rides",
    "cust.churned": "Regulars who stopped riding", "cust.last_ride_at": "Last ride", "cust.last_event": "Last thing that happened",
    "cust.tiers": "Loyalty tiers", "cust.tier": "Tier",
    "cust.segment.champions": "Champions", "cust.segment.loyal": "Loyal", "cust.segment.potential": "Potential loyalists",
    "cust.segment.new": "New", "cust.segment.at_risk": "At risk", "cust.segment.hibernating": "Hibernating",
    "cust.segment.lost": "Lost",
    "cust.event.complaint": "Complaint", "cust.event.no_driver": "No driver found", "cust.event.cancelled": "Cancelled",
    "cust.event.ride": "A ride", "cust.csv": "CSV",
    "cust.tier.gold": "Gold", "cust.tier.silver": "Silver", "cust.tier.bronze": "Bronze", "cust.tier.none": "No tier",
  },
  fa: {
    "reports.customers": "مشتریان", "cust.cohorts": "گروه‌های ماهانه: سهم مشتریان تازهٔ هر ماه که دوباره سفر کردند",
    "cust.cohort": "نخستین سفر", "cust.size": "مشتری", "cust.cohort.tip": "{cohort}، ماه {month}: {active} از {size} سفر کردند ({share})",
    "cust.rfm": "بخش‌بندی بر پایهٔ تازگی، دفعات و مبلغ", "cust.rfm.chart": "ارزش سالانهٔ برآوردی هر بخش",
    "cust.segment": "بخش", "cust.customers": "مشتری", "cust.revenue_rials": "درآمد", "cust.value_rials": "ارزش سالانه (برآورد)",
    "cust.rfm.tip": "{segment}: {customers} مشتری، {revenue} در این بازه، حدود {value} در سال",
    "cust.at_risk": "در خطر ریزش", "cust.name": "مشتری", "cust.recency_days": "روز از آخرین سفر", "cust.rides": "سفر",
    "cust.churned": "مشتریان ثابتی که دیگر سفر نمی‌کنند", "cust.last_ride_at": "آخرین سفر", "cust.last_event": "آخرین رویداد",
    "cust.tiers": "سطح‌های وفاداری", "cust.tier": "سطح",
    "cust.segment.champions": "قهرمانان", "cust.segment.loyal": "وفادار", "cust.segment.potential": "وفادار آینده",
    "cust.segment.new": "تازه", "cust.segment.at_risk": "در خطر", "cust.segment.hibernating": "خفته",
    "cust.segment.lost": "ازدست‌رفته",
    "cust.event.complaint": "شکایت", "cust.event.no_driver": "راننده پیدا نشد", "cust.event.cancelled": "لغو",
    "cust.event.ride": "سفر", "cust.csv": "CSV",
    "cust.tier.gold": "طلایی", "cust.tier.silver": "نقره‌ای", "cust.tier.bronze": "برنزی", "cust.tier.none": "بدون سطح",
  },
});

// A cohort is a month of the center's calendar (the report's `calendar`: Jalali by default), named by its first day.
const cohortLabel = (calendar) => (cohort) => calendarMonthYear(dayIso(cohort.first_day), calendar);

const segment = (key) => known(`cust.segment.${key}`, key);
const subscriberLink = (row) => h("a", { href: `#/subscribers/${row.subscriber_id}`, "data-subscriber-id": row.subscriber_id },
  row.name || digits(`#${row.subscriber_id}`));

export default {
  id: "customers",
  title: "reports.customers",
  endpoint: "customers",
  create(ctx, reload, csv) {
    // The page's CSV button holds the cohorts; each other table has its own (the API's `table`).
    const links = new Map(["rfm", "loyalty_tiers", "at_risk", "churned_regulars"].map((table) => [table,
      h("a", { class: "button csv-table", download: "", "data-csv-table": table }, t("cust.csv"))]));
    const titled = (title, table, ...content) => card(null,
      h("div", { class: "row card-head" }, h("h3", {}, title), h("span", { class: "spacer" }), links.get(table)), ...content);
    const cohorts = h("div", { class: "chart-box" });
    const rfmChart = h("div", { class: "chart-box" });
    const rfm = dataTable({ name: "rfm", columns: [
      { key: "segment", label: t("cust.segment"), cell: (r) => segment(r.segment) },
      { key: "customers", label: t("cust.customers"), num: true, value: (r) => r.customers, cell: (r) => count(r.customers) },
      { key: "revenue_rials", label: t("cust.revenue_rials"), num: true, value: (r) => r.revenue_rials, cell: (r) => money(r.revenue_rials) },
      { key: "value_rials", label: t("cust.value_rials"), num: true, value: (r) => r.value_rials, cell: (r) => money(r.value_rials) },
    ], rowAttrs: (r) => ({ "data-segment": r.segment }) });
    const atRisk = dataTable({ name: "at-risk", sort: { key: "revenue_rials", dir: -1 }, columns: [
      { key: "name", label: t("cust.name"), value: (r) => r.name, cell: subscriberLink },
      { key: "recency_days", label: t("cust.recency_days"), num: true, value: (r) => r.recency_days, cell: (r) => count(r.recency_days) },
      { key: "rides", label: t("cust.rides"), num: true, value: (r) => r.rides, cell: (r) => count(r.rides) },
      { key: "revenue_rials", label: t("cust.revenue_rials"), num: true, value: (r) => r.revenue_rials, cell: (r) => money(r.revenue_rials) },
    ], rowAttrs: (r) => ({ "data-subscriber-id": r.subscriber_id }) });
    const churned = dataTable({ name: "churned", sort: { key: "rides", dir: -1 }, columns: [
      { key: "name", label: t("cust.name"), value: (r) => r.name, cell: subscriberLink },
      { key: "rides", label: t("cust.rides"), num: true, value: (r) => r.rides, cell: (r) => count(r.rides) },
      { key: "last_ride_at", label: t("cust.last_ride_at"), value: (r) => r.last_ride_at, cell: (r) => dateTime(r.last_ride_at) },
      { key: "last_event", label: t("cust.last_event"), value: (r) => r.last_event?.at, cell: lastEvent },
    ], rowAttrs: (r) => ({ "data-subscriber-id": r.subscriber_id }) });
    const tiers = dataTable({ name: "tiers", columns: [
      { key: "tier", label: t("cust.tier"), cell: (r) => known(`cust.tier.${r.tier}`, r.tier) },
      { key: "customers", label: t("cust.customers"), num: true, cell: (r) => count(r.customers) },
      { key: "rides", label: t("cust.rides"), num: true, cell: (r) => count(r.rides) },
      { key: "revenue_rials", label: t("cust.revenue_rials"), num: true, cell: (r) => money(r.revenue_rials) },
    ], rowAttrs: (r) => ({ "data-tier": r.tier }) });
    const el = h("div", { class: "report-view" },
      card(t("cust.cohorts"), cohorts),
      h("div", { class: "report-columns" }, titled(t("cust.rfm"), "rfm", rfmChart, rfm.el),
        titled(t("cust.tiers"), "loyalty_tiers", tiers.el)),
      h("div", { class: "report-columns" },
        titled(t("cust.at_risk"), "at_risk", h("div", { class: "table-scroll" }, atRisk.el)),
        titled(t("cust.churned"), "churned_regulars", h("div", { class: "table-scroll" }, churned.el))));

    return {
      el,
      params: () => ({}),
      render(data) {
        links.forEach((link, table) => { link.href = csv({ table }); });
        cohorts.replaceChildren(cohortTriangle({ name: "cohorts", label: t("cust.cohorts"), cohorts: data.cohorts || [],
          head: { cohort: t("cust.cohort"), size: t("cust.size") }, cohortLabel: cohortLabel(data.calendar),
          format: pct,
          tip: (c, month, active) => t("cust.cohort.tip", { cohort: cohortLabel(data.calendar)(c), month: number(month),
            active: number(active), size: number(c.size), share: pct(c.size ? active / c.size : null) }) }));
        const segments = data.rfm || [];
        rfmChart.replaceChildren(barChart({ name: "rfm", label: t("cust.rfm.chart"), format: money,
          items: segments.map((s) => ({ key: s.segment, label: segment(s.segment), value: s.value_rials, row: s })),
          tip: ({ row }) => t("cust.rfm.tip", { segment: segment(row.segment), customers: number(row.customers),
            revenue: money(row.revenue_rials), value: money(row.value_rials) }) }));
        rfm.set(segments);
        atRisk.set(data.at_risk);
        churned.set(data.churned_regulars);
        tiers.set(data.loyalty_tiers);
      },
    };
  },
};

function lastEvent(row) {
  const event = row.last_event;
  if (!event) return "—";
  return h("span", { "data-event": event.kind }, h("strong", {}, known(`cust.event.${event.kind}`, event.kind)), " ",
    h("span", { class: "muted" }, dateTime(event.at)), event.detail ? [" — ", event.detail] : null);
}
