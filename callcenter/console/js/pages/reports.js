// The supervisor's reports (#/reports/<view>): peak hours, complaints, drivers, operators, areas, customers and the
// forecast. Above every view: the period (days on the center's calendar) and the CSV of the view's main table,
// which is the same API call with format=csv. Each view lives in js/reports/ and is built the first time it is
// shown; a view reloads when its period or its own choices change, and after a resync if it is on screen.

import { ApiError, get, query } from "../api.js";
import { h, loadCss } from "../dom.js";
import { dateTime } from "../format.js";
import { addStrings, t } from "../i18n.js";
import areas from "../reports/areas.js";
import { known } from "../reports/common.js";
import complaints from "../reports/complaints.js";
import customers from "../reports/customers.js";
import drivers from "../reports/drivers.js";
import forecast from "../reports/forecast.js";
import operators from "../reports/operators.js";
import peakHours from "../reports/peak_hours.js";
import { periodPicker } from "../reports/period.js";

addStrings({
  en: {
    "reports.views": "Reports", "reports.csv": "Export CSV", "reports.as_of": "Figures up to {when}",
    "reports.generated": "made {when}", "reports.failed": "The report could not be loaded: {message}",
    "reports.error.inverted_range": "The start of the period is after its end.",
    "reports.error.range_too_long": "The period is too long: choose at most 400 days.",
    "reports.error.invalid_date": "A date of the period is not valid.",
  },
  fa: {
    "reports.views": "گزارش‌ها", "reports.csv": "خروجی CSV", "reports.as_of": "ارقام تا {when}",
    "reports.generated": "ساخته‌شده {when}", "reports.failed": "گزارش بار نشد: {message}",
    "reports.error.inverted_range": "آغاز بازه پس از پایان آن است.",
    "reports.error.range_too_long": "بازه بیش از اندازه بلند است: حداکثر ۴۰۰ روز انتخاب کنید.",
    "reports.error.invalid_date": "یکی از تاریخ‌های بازه درست نیست.",
  },
});

const VIEWS = [peakHours, complaints, drivers, operators, areas, customers, forecast];

function problem(err) {
  if (err instanceof ApiError && err.status === 0) return t("error.network");
  return t("reports.failed", { message: known(`reports.error.${err.code}`, err.message) });
}

export default {
  id: "reports",
  title: "nav.reports",
  roles: ["supervisor", "admin"],
  mount(el, ctx) {
    loadCss("/console/css/reports.css");
    const views = new Map(); // view id -> {view, instance, loaded: the URL last rendered}
    let current = null;
    let asked = 0;
    const period = periodPicker({ onChange: () => load() });
    const csv = h("a", { class: "button csv", "data-action": "csv", download: "" }, t("reports.csv"));
    const freshness = h("span", { class: "muted report-freshness" });
    const status = h("p", { class: "form-error report-status", role: "alert" });
    const tabs = h("nav", { class: "report-tabs", "aria-label": t("reports.views") },
      VIEWS.map((v) => h("a", { href: `#/reports/${v.id}`, "data-view": v.id }, t(v.title))));
    const body = h("div", { class: "report-body" });
    el.append(tabs, h("div", { class: "row report-bar" }, period.el, h("span", { class: "spacer" }), freshness, csv),
      status, body);

    function url(entry, format, extra = {}) {
      const range = entry.view.period === false ? {} : period.value();
      return `/api/reports/${entry.view.endpoint}${query({ ...range, ...entry.instance.params(), ...extra, format })}`;
    }

    // Load the view on show unless it already shows this URL's answer; answers to older questions are dropped.
    async function load() {
      const entry = current;
      if (!entry) return;
      const href = url(entry);
      csv.href = url(entry, "csv");
      period.el.hidden = entry.view.period === false;
      freshness.textContent = entry.freshness;
      if (entry.loaded === href || entry.loading === href) return;
      const ask = ++asked;
      entry.loading = href;
      body.classList.add("loading");
      status.textContent = "";
      try {
        const data = await get(href);
        if (ask !== asked) return;
        await entry.instance.render(data);
        entry.loaded = href;
        entry.freshness = [data.rollup_as_of ? t("reports.as_of", { when: dateTime(data.rollup_as_of) }) : "",
          data.generated_at ? t("reports.generated", { when: dateTime(data.generated_at) }) : ""].filter(Boolean).join(" · ");
        freshness.textContent = entry.freshness;
      } catch (err) {
        if (ask === asked) status.textContent = problem(err);
      } finally {
        if (entry.loading === href) entry.loading = null;
        if (ask === asked) body.classList.remove("loading");
      }
    }

    function open(view) {
      if (!views.has(view.id)) {
        const entry = { view, instance: null, loaded: null, loading: null, freshness: "" };
        // A view may offer CSVs of its other tables: `csv({table})` is the export link for the period shown.
        entry.instance = view.create(ctx, () => load(), (extra) => url(entry, "csv", extra));
        entry.instance.el.dataset.view = view.id;
        body.append(entry.instance.el);
        views.set(view.id, entry);
      }
      current = views.get(view.id);
      for (const entry of views.values()) entry.instance.el.hidden = entry !== current;
      tabs.querySelectorAll("a").forEach((a) => {
        if (a.dataset.view === view.id) a.setAttribute("aria-current", "page");
        else a.removeAttribute("aria-current");
      });
      load();
    }

    return {
      refresh() {
        for (const entry of views.values()) entry.loaded = null;
        if (!el.hidden) load();
      },
      show([id] = []) {
        open(VIEWS.find((v) => v.id === id) || VIEWS[0]);
      },
    };
  },
};
