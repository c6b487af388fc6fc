// A completed ride's rating in the console: what the customer gave (and every earlier rating), a rating entered on
// a follow-up call, and a link to rate the ride that the center sends by SMS.
//
// `openRideRating(ride, {callId, subscriberId})` shows the dialog; it resolves with the rating entered, or null.
// In the dialog: 1–5 choose the stars, Ctrl+Enter saves, Esc closes.

import { ApiError, get, post, put } from "./api.js";
import { clear, h, loadCss, ltr, openDialog, toast } from "./dom.js";
import { dateTime, digits } from "./format.js";
import { addStrings, lang, t } from "./i18n.js";
import { starInput, starsBadge } from "./rating.js";

addStrings({
  en: {
    "rrating.title": "Rating of ride {id}", "rrating.none": "Not rated yet.", "rrating.history": "Earlier ratings",
    "rrating.enter": "Rating given on the phone", "rrating.comment": "What the customer said (optional)",
    "rrating.save": "Save rating", "rrating.keys": "1–5 stars · Ctrl+Enter save · Esc close",
    "rrating.saved": "Rating saved.", "rrating.choose": "Choose from 1 to 5 stars.",
    "rrating.link": "Send a rating link", "rrating.linkMade": "Link to send by SMS (valid until {date})",
    "rrating.copy": "Copy the SMS", "rrating.copied": "Copied.", "rrating.col.at": "When",
    "rrating.col.stars": "Stars", "rrating.col.comment": "Comment", "rrating.col.via": "Given",
    "rrating.via.customer_page": "on the tracking page", "rrating.via.link": "by the link",
    "rrating.via.operator": "on the phone, to {name}",
  },
  fa: {
    "rrating.title": "امتیاز سفر {id}", "rrating.none": "هنوز امتیازی داده نشده.", "rrating.history": "امتیازهای پیشین",
    "rrating.enter": "امتیاز داده‌شده در تماس", "rrating.comment": "سخن مسافر (اختیاری)",
    "rrating.save": "ثبت امتیاز", "rrating.keys": "۱ تا ۵ ستاره · Ctrl+Enter ثبت · Esc بستن",
    "rrating.saved": "امتیاز ثبت شد.", "rrating.choose": "از ۱ تا ۵ ستاره انتخاب کنید.",
    "rrating.link": "فرستادن پیوند امتیازدهی", "rrating.linkMade": "پیوند برای پیامک (معتبر تا {date})",
    "rrating.copy": "رونوشت پیامک", "rrating.copied": "رونوشت برداشته شد.", "rrating.col.at": "زمان",
    "rrating.col.stars": "ستاره", "rrating.col.comment": "توضیح", "rrating.col.via": "راه ثبت",
    "rrating.via.customer_page": "در صفحهٔ پیگیری", "rrating.via.link": "با پیوند",
    "rrating.via.operator": "تلفنی، به {name}",
  },
});

function errorText(err) {
  return err instanceof ApiError && err.status === 0 ? t("error.network") : err.message;
}

function via(rating) {
  return t(`rrating.via.${rating.channel}`, { name: rating.entered_by_name ?? "" });
}

export async function openRideRating(ride, { callId, subscriberId } = {}) {
  loadCss("/console/css/rating.css");
  let shown;
  try {
    shown = await get(`/api/ratings/${ride.id}`);
  } catch (err) {
    toast(errorText(err), "error");
    return null;
  }
  return new Promise((resolve) => {
    let saved = null;
    const current = h("div", { class: "rating-current" });
    const stars = starInput({ value: 0, onChange: () => { message.textContent = ""; } });
    const comment = h("textarea", { name: "comment", rows: 3, maxlength: 1000 });
    const message = h("p", { class: "form-error", role: "alert" });
    const submit = h("button", { type: "submit", class: "primary" }, t("rrating.save"));
    const linkBox = h("div", { class: "rating-link" });
    const linkButton = h("button", { type: "button", class: "make-link", onclick: makeLink }, t("rrating.link"));

    function paint() {
      const rating = shown.rating;
      clear(current, rating
        ? h("p", { class: "rated", "data-value": rating.value }, starsBadge(rating.value), " ",
          rating.comment ? h("span", {}, "«", rating.comment, "»") : null, " ",
          h("span", { class: "muted small" }, via(rating), " · ", dateTime(rating.rated_at)))
        : h("p", { class: "muted" }, t("rrating.none")),
      shown.history.length > 1 ? h("details", { class: "rating-history" },
        h("summary", {}, t("rrating.history"), " (", digits(shown.history.length - 1), ")"),
        h("table", {}, h("thead", {}, h("tr", {}, ["at", "stars", "comment", "via"].map((c) =>
          h("th", {}, t(`rrating.col.${c}`))))),
        h("tbody", {}, shown.history.filter((r) => !r.is_current).map((r) => h("tr", {},
          h("td", {}, dateTime(r.rated_at)), h("td", {}, starsBadge(r.value)), h("td", {}, r.comment ?? ""),
          h("td", {}, via(r))))))) : null);
    }

    async function send(event) {
      event.preventDefault();
      if (!stars.value) { message.textContent = t("rrating.choose"); stars.focus(); return; }
      submit.disabled = true;
      try {
        const { rating } = await put(`/api/ratings/${ride.id}`, { value: stars.value,
          comment: comment.value.trim() || null, call_id: callId ?? null, subscriber_id: subscriberId ?? null });
        saved = rating;
        close();
        toast(t("rrating.saved"), "ok");
      } catch (err) {
        message.textContent = errorText(err);
        submit.disabled = false;
      }
    }

    async function makeLink() {
      linkButton.disabled = true;
      try {
        const link = await post(`/api/ratings/${ride.id}/link`, {});
        const sms = link.sms[lang()];
        const field = h("textarea", { class: "sms-text", rows: 3, readonly: true, dir: "auto" }, sms);
        clear(linkBox, h("label", {}, t("rrating.linkMade", { date: dateTime(link.expires_at) }), field),
          h("p", { class: "small" }, ltr(link.url, "link-url")),
          h("button", { type: "button", onclick: async () => {
            field.select();
            try { await navigator.clipboard.writeText(sms); toast(t("rrating.copied"), "ok"); } catch { /* selected */ }
          } }, t("rrating.copy")));
        field.select();
      } catch (err) {
        clear(linkBox, h("p", { class: "form-error" }, errorText(err)));
        linkButton.disabled = false;
      }
    }

    const form = h("form", { class: "ride-rating-form", novalidate: true, onsubmit: send, onkeydown: (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
    } },
    h("h3", {}, t("rrating.enter")), stars.el,
    h("label", {}, t("rrating.comment"), comment), message,
    h("div", { class: "row" }, submit, h("button", { type: "button", onclick: () => close() }, t("cancel")),
      h("span", { class: "muted keys" }, t("rrating.keys"))));
    const body = h("div", { class: "ride-rating" }, current, form, h("hr"), h("div", { class: "row" }, linkButton),
      linkBox);
    paint();
    const close = openDialog(t("rrating.title", { id: digits(ride.id) }), body, { onClose: () => resolve(saved) });
    stars.focus();
  });
}
