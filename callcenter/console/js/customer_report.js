// "Report a problem": the customer's own reports about the ride a token names (a tracking token or a rating
// link's), on the customer page (/book) once the ride is over and on the rating page (/rate/<token>). A report
// opens a case the center follows up; the customer sees each one's number, to quote on the phone, and where it
// stands. Praise comes as a rating, so only complaint categories are offered.

import { ApiError, get, post } from "./api.js";
import { clear, h, loadCss } from "./dom.js";
import { digits } from "./format.js";
import { addStrings, lang, t } from "./i18n.js";
import { ratingErrorText } from "./rating.js";

const MAX_DESCRIPTION = 4000;

addStrings({
  en: {
    "report.title": "Something went wrong?", "report.open": "Report a problem",
    "report.what": "What happened", "report.choose": "Choose…", "report.describe": "Tell us more",
    "report.send": "Send report", "report.number": "Report {id}",
    "report.thanks": "Thank you. We recorded your report as number {id}; the center will follow it up.",
    "report.enough": "You have sent the reports this trip takes; please call the center for anything more.",
    "report.needCategory": "Choose what happened.", "report.needText": "Tell us what happened.",
    "report.state.new": "received", "report.state.assigned": "being handled", "report.state.pending": "being handled",
    "report.state.resolved": "resolved", "report.state.rejected": "closed", "report.state.duplicate": "closed",
    "report.error.too_many_reports": "You have sent the reports this trip takes; please call the center for anything more.",
  },
  fa: {
    "report.title": "مشکلی پیش آمد؟", "report.open": "گزارش مشکل",
    "report.what": "چه پیش آمد", "report.choose": "انتخاب کنید…", "report.describe": "بیشتر بگویید",
    "report.send": "ثبت گزارش", "report.number": "گزارش {id}",
    "report.thanks": "سپاسگزاریم. گزارش شما با شمارهٔ {id} ثبت شد و مرکز پیگیری می‌کند.",
    "report.enough": "گزارش‌های این سفر ثبت شده است؛ برای موارد بیشتر با مرکز تماس بگیرید.",
    "report.needCategory": "انتخاب کنید چه پیش آمد.", "report.needText": "بنویسید چه پیش آمد.",
    "report.state.new": "دریافت شد", "report.state.assigned": "در دست پیگیری", "report.state.pending": "در دست پیگیری",
    "report.state.resolved": "رسیدگی شد", "report.state.rejected": "بسته شد", "report.state.duplicate": "بسته شد",
    "report.error.too_many_reports": "گزارش‌های این سفر ثبت شده است؛ برای موارد بیشتر با مرکز تماس بگیرید.",
  },
});

function errorText(err) {
  const key = err instanceof ApiError ? `report.error.${err.code}` : "";
  return key && t(key) !== key ? t(key) : ratingErrorText(err);
}

const name = (category) => category.names?.[lang()] || category.names?.en || category.code;

// Fill `box` with the reports box for the ride `token` names; it stays hidden if the token names no ride.
export async function mountCustomerReport(box, token, { rideId } = {}) {
  loadCss("/console/css/rating.css");
  const url = `/api/public/complaints/${encodeURIComponent(token)}`;
  let known;
  try {
    known = await get(url);
  } catch {
    box.hidden = true; // the page already says what is wrong with its token
    return;
  }
  box.hidden = false;
  box.classList.add("report-box");
  show();

  function show(thanked = null) {
    clear(box,
      h("h2", {}, t("report.title")),
      known.reports.length ? h("ul", { class: "reports" }, known.reports.map((r) =>
        h("li", { class: "report", "data-report-id": r.id, "data-status": r.status },
          h("strong", {}, t("report.number", { id: digits(r.id) })), " · ", name({ code: r.category,
            names: r.category_names }), " · ", h("span", { class: "report-state" }, t(`report.state.${r.status}`))))) : null,
      thanked ? h("p", { class: "thanks", role: "status" }, t("report.thanks", { id: digits(thanked.id) })) : null,
      known.can_report ? h("button", { type: "button", class: "open-report", onclick: showForm }, t("report.open"))
        : h("p", { class: "muted report-enough" }, t("report.enough")));
  }

  function showForm() {
    const category = h("select", { name: "report-category" }, h("option", { value: "" }, t("report.choose")),
      known.categories.map((c) => h("option", { value: c.code }, name(c))));
    const text = h("textarea", { name: "report-description", rows: 4, maxlength: MAX_DESCRIPTION });
    const message = h("p", { class: "form-error", role: "alert" });
    const submit = h("button", { type: "submit", class: "primary big send-report" }, t("report.send"));
    const form = h("form", { class: "report-form", novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      if (!category.value) { message.textContent = t("report.needCategory"); category.focus(); return; }
      if (!text.value.trim()) { message.textContent = t("report.needText"); text.focus(); return; }
      submit.disabled = true;
      try {
        const { report } = await post(url, { ride_id: rideId ?? known.ride_id, category: category.value,
          description: text.value.trim() });
        known = await get(url).catch(() => ({ ...known, reports: [...known.reports, report] }));
        show(report);
      } catch (err) {
        message.textContent = errorText(err);
        submit.disabled = false;
      }
    } },
    h("h2", {}, t("report.title")),
    h("label", {}, t("report.what"), category), h("label", {}, t("report.describe"), text), message,
    h("div", { class: "row" }, submit, h("button", { type: "button", class: "big", onclick: () => show() }, t("cancel"))));
    clear(box, form);
    category.focus();
  }
}
