// Peak hours: a weekday × hour heatmap of calls and rides side by side (one measure at a time), the busiest hours
// ranked, and how many operators each hour needs to answer in time (Erlang C, from the API).

import { h } from "../dom.js";
import { asciiDigits, duration, number } from "../format.js";
import { addStrings, t } from "../i18n.js";
import { heatmap } from "./charts.js";
import { HOURS, card, count, hourLabel, hourRange, pct, toggles, weekdayName, weekdayOrder } from "./common.js";
import { dataTable } from "./table.js";

addStrings({
  en: {
    "reports.peak_hours": "Peak hours", "peak.measure": "Measure", "peak.heatmap": "{measure} by weekday and hour",
    "peak.calls_offered": "Calls offered", "peak.calls_answered": "Answered", "peak.calls_abandoned": "Abandoned",
    "peak.service_level": "Service level", "peak.rides_booked": "Rides booked", "peak.rides_completed": "Completed",
    "peak.rides_cancelled": "Cancelled", "peak.rides_no_driver": "No driver found",
    "peak.median_assign_s": "Median time to assign", "peak.avg_handle_s": "Average handling time",
    "peak.answered_within_sl": "Answered in time",
    "peak.sl_seconds": "Answered within (s)", "peak.sl_target": "Target (%)",
    "peak.busiest": "Busiest hours", "peak.rank": "#", "peak.weekday": "Day", "peak.hour": "Hour",
    "peak.staffing": "Operators needed per hour", "peak.staffing.note": "To answer {target} of calls within {seconds} s, from the average calls per week in each hour over {weeks} weeks.",
    "peak.staffing.tip": "{day} {hour}: {operators} operators for {calls} calls an hour, {handle} each",
    "peak.all": "Every hour in numbers", "peak.tip": "{day} {hour}: {value}",
  },
  fa: {
    "reports.peak_hours": "ساعت‌های اوج", "peak.measure": "سنجه", "peak.heatmap": "{measure} بر پایهٔ روز و ساعت",
    "peak.calls_offered": "تماس‌های ورودی", "peak.calls_answered": "پاسخ‌داده", "peak.calls_abandoned": "رهاشده",
    "peak.service_level": "سطح خدمت", "peak.rides_booked": "سفرهای ثبت‌شده", "peak.rides_completed": "انجام‌شده",
    "peak.rides_cancelled": "لغوشده", "peak.rides_no_driver": "بدون راننده",
    "peak.median_assign_s": "میانهٔ زمان تخصیص", "peak.avg_handle_s": "میانگین زمان مکالمه",
    "peak.answered_within_sl": "پاسخ به‌موقع",
    "peak.sl_seconds": "پاسخ تا (ثانیه)", "peak.sl_target": "هدف (درصد)",
    "peak.busiest": "شلوغ‌ترین ساعت‌ها", "peak.rank": "رتبه", "peak.weekday": "روز", "peak.hour": "ساعت",
    "peak.staffing": "اپراتور لازم در هر ساعت", "peak.staffing.note": "برای پاسخ به {target} تماس‌ها تا {seconds} ثانیه، بر پایهٔ میانگین تماس هفتگی هر ساعت در {weeks} هفته.",
    "peak.staffing.tip": "{day} {hour}: {operators} اپراتور برای {calls} تماس در ساعت، هر کدام {handle}",
    "peak.all": "همهٔ ساعت‌ها به عدد", "peak.tip": "{day} {hour}: {value}",
  },
});

const ZERO = { calls_offered: 0, calls_answered: 0, calls_abandoned: 0, answered_within_sl: 0, service_level: null,
  avg_handle_s: null, rides_booked: 0, rides_completed: 0, rides_cancelled: 0, rides_no_driver: 0, median_assign_s: null };
const seconds = (s) => (s === null || s === undefined ? "—" : duration(s));
// The measures the heatmap can show, each with how its values read.
const MEASURES = [
  ["calls_offered", count], ["calls_answered", count], ["calls_abandoned", count], ["service_level", pct],
  ["rides_booked", count], ["rides_completed", count], ["rides_cancelled", count], ["rides_no_driver", count],
  ["median_assign_s", seconds],
];
const FORMAT = Object.fromEntries([...MEASURES, ["answered_within_sl", count], ["avg_handle_s", seconds]]);
const DEFAULT_SL = { seconds: 20, target: 80 };

export default {
  id: "peak-hours",
  title: "reports.peak_hours",
  endpoint: "peak-hours",
  create(ctx, reload) {
    let data = null;
    const measure = toggles(t("peak.measure"), MEASURES.map(([key]) => [key, t(`peak.${key}`)]), "calls_offered",
      () => draw());
    const slSeconds = h("input", { type: "text", inputmode: "numeric", name: "sl_seconds", size: 3, dir: "ltr",
      value: number(DEFAULT_SL.seconds), onchange: reload });
    const slTarget = h("input", { type: "text", inputmode: "numeric", name: "sl_target", size: 3, dir: "ltr",
      value: number(DEFAULT_SL.target), onchange: reload });
    const chart = h("div", { class: "chart-box" });
    const busiest = dataTable({ name: "busiest", columns: [
      { key: "rank", label: t("peak.rank"), num: true, cell: (r) => number(r.rank) },
      { key: "weekday", label: t("peak.weekday"), cell: (r) => weekdayName(r.weekday) },
      { key: "hour", label: t("peak.hour"), cell: (r) => hourRange(r.hour) },
      { key: "calls_offered", label: t("peak.calls_offered"), num: true, cell: (r) => count(r.calls_offered) },
      { key: "rides_booked", label: t("peak.rides_booked"), num: true, cell: (r) => count(r.rides_booked) },
    ], rowAttrs: (r) => ({ "data-weekday": r.weekday, "data-hour": r.hour }) });
    const staffingNote = h("p", { class: "muted" });
    const staffing = h("div", { class: "table-scroll" });
    const every = dataTable({ name: "hours", sort: { key: "slot", dir: 1 }, columns: [
      { key: "slot", label: t("peak.weekday"), value: (c) => weekdayOrder().indexOf(c.weekday) * 24 + c.hour,
        cell: (c) => `${weekdayName(c.weekday, "short")} ${hourRange(c.hour)}` },
      ...Object.keys(FORMAT).map((key) => ({ key, label: t(`peak.${key}`), num: true, value: (c) => c[key],
        cell: (c) => FORMAT[key](c[key]) })),
    ], rowAttrs: (c) => ({ "data-weekday": c.weekday, "data-hour": c.hour }) });
    const el = h("div", { class: "report-view" },
      h("div", { class: "row report-controls" }, measure.el,
        h("label", { class: "inline" }, t("peak.sl_seconds"), slSeconds),
        h("label", { class: "inline" }, t("peak.sl_target"), slTarget)),
      card(null, chart),
      h("div", { class: "report-columns" },
        card(t("peak.busiest"), busiest.el),
        card(t("peak.staffing"), staffingNote, staffing)),
      h("details", { class: "card report-card" }, h("summary", {}, t("peak.all")), h("div", { class: "table-scroll" }, every.el)));

    function cellsByKey() {
      const cells = new Map((data?.cells || []).map((c) => [`${c.weekday}:${c.hour}`, c]));
      return (weekday, hour) => cells.get(`${weekday}:${hour}`) || { ...ZERO, weekday, hour };
    }
    function draw() {
      if (!data) return;
      const at = cellsByKey();
      const key = measure.value();
      const format = FORMAT[key];
      chart.replaceChildren(heatmap({
        name: "peak-hours", label: t("peak.heatmap", { measure: t(`peak.${key}`) }),
        rows: weekdayOrder().map((w) => ({ key: w, label: weekdayName(w, "short") })),
        cols: HOURS.map((hour) => ({ key: hour, label: hourLabel(hour) })),
        value: (w, hour) => at(w, hour)[key], format, max: key === "service_level" ? 1 : null,
        tip: (r, c, v) => t("peak.tip", { day: weekdayName(r.key), hour: hourRange(c.key), value: format(v) }),
        cellAttrs: (w, hour) => ({ "data-weekday": w, "data-hour": hour }),
      }));
    }
    function drawStaffing() {
      const need = new Map((data.staffing || []).map((s) => [`${s.weekday}:${s.hour}`, s]));
      staffingNote.textContent = t("peak.staffing.note", { target: pct(params().sl_target),
        seconds: number(Number(params().sl_seconds)), weeks: number(data.weeks ?? 0) });
      staffing.replaceChildren(h("table", { class: "report-table staffing", "data-table": "staffing" },
        h("thead", {}, h("tr", {}, h("th", {}, t("peak.weekday")), HOURS.map((hour) => h("th", { class: "num" }, hourLabel(hour))))),
        h("tbody", {}, weekdayOrder().map((w) => h("tr", { "data-weekday": w }, h("th", { scope: "row" }, weekdayName(w, "short")),
          HOURS.map((hour) => {
            const s = need.get(`${w}:${hour}`);
            return h("td", { class: `num${s?.operators_needed ? "" : " muted"}`, "data-hour": hour,
              title: s ? t("peak.staffing.tip", { day: weekdayName(w), hour: hourRange(hour),
                operators: number(s.operators_needed), calls: number(Math.round(s.calls_per_hour * 10) / 10),
                handle: seconds(s.avg_handle_s) }) : null }, number(s?.operators_needed ?? 0));
          }))))));
    }
    // What the supervisor typed, in any digits; the API answers a value it cannot use with a clear error.
    function params() {
      const target = Number.parseFloat(asciiDigits(slTarget.value));
      return { sl_seconds: asciiDigits(slSeconds.value).trim(),
        sl_target: Number.isFinite(target) ? target / 100 : asciiDigits(slTarget.value).trim() };
    }
    return {
      el,
      params,
      render(answer) {
        data = answer;
        draw();
        busiest.set((data.busiest || []).map((b, i) => ({ ...b, rank: i + 1 })));
        drawStaffing();
        const at = cellsByKey();
        every.set(weekdayOrder().flatMap((w) => HOURS.map((hour) => at(w, hour))));
      },
    };
  },
};
