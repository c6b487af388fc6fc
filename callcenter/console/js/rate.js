// The page a rating link opens (/rate/<token>): which trip it is, and stars to rate it. Mobile first, in Persian
// (the default) or English; the token is the last part of the page's own address. A later rating replaces the
// earlier one, so the link may be used again until it expires.

import { get } from "./api.js";
import { clear, h, ltr } from "./dom.js";
import { dateTime, digits, setTimeZone } from "./format.js";
import { addStrings, applyDocumentLang, lang, setLang, t } from "./i18n.js";
import { mountCustomerRating, ratingErrorText } from "./rating.js";
import { mountCustomerReport } from "./customer_report.js";

addStrings({
  en: {
    "rate.brand": "Taxi", "rate.title": "Rate your trip", "rate.ride": "Ride", "rate.when": "Arrived",
    "rate.from": "From", "rate.to": "To", "rate.driver": "Driver",
  },
  fa: {
    "rate.brand": "تاکسی", "rate.title": "امتیاز به سفر", "rate.ride": "سفر", "rate.when": "زمان رسیدن",
    "rate.from": "مبدأ", "rate.to": "مقصد", "rate.driver": "راننده",
  },
});

const root = document.getElementById("rate");
const token = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");

async function boot() {
  applyDocumentLang();
  document.title = `${t("rate.title")} · ${t("rate.brand")}`;
  try {
    setTimeZone((await get("/api/console/config")).timezone);
  } catch {
    // The center's zone is only for showing the time; the page still works without it.
  }
  let view;
  try {
    view = await get(`/api/public/ratings/${encodeURIComponent(token)}`);
  } catch (err) {
    clear(root, ...frame(h("section", { class: "card" }, h("p", { class: "form-error", role: "alert" },
      ratingErrorText(err)))));
    return;
  }
  const box = h("section", { class: "card rating-card" });
  const reportBox = h("section", { class: "card report-card", hidden: true });
  clear(root, ...frame(trip(view), box, reportBox));
  mountCustomerRating(box, token, { rideId: view.ride.id, view });
  mountCustomerReport(reportBox, token, { rideId: view.ride.id });
}

function frame(...content) {
  return [
    h("header", { class: "book-top" }, h("strong", { class: "brand" }, t("rate.brand")), h("span", { class: "spacer" }),
      h("button", { type: "button", class: "lang-switch", lang: lang() === "fa" ? "en" : "fa", onclick: () => {
        setLang(lang() === "fa" ? "en" : "fa");
        boot();
      } }, t("language"))),
    h("main", { class: "book-main rate-main" }, h("h1", {}, t("rate.title")), ...content),
  ];
}

function trip({ ride, driver }) {
  const item = (label, value, cls) => [h("dt", {}, t(label)), h("dd", { class: cls }, value)];
  return h("section", { class: "card trip" },
    h("dl", {},
      item("rate.ride", ltr(`#${digits(ride.id)}`), "ride-no"),
      ride.finished_at ? item("rate.when", dateTime(ride.finished_at), "when") : null,
      item("rate.from", ride.pickup, "from"),
      ride.destination ? item("rate.to", ride.destination, "to") : null,
      driver ? item("rate.driver", driver.name, "trip-driver") : null));
}

boot();
