// Stars: a ride's rating from 1 to 5 with an optional comment, the same widget on the customer page (/book), the
// rating link's page (/rate/<token>) and in the console.
//
// `starInput()` is a radio group of five stars: arrows move (in the reading direction), 1–5 (in any digit set)
// choose, Enter submits the form around it. `mountCustomerRating(box, token, {rideId})` is the customer's whole
// rating box: it asks the service what the token's ride is and how it was rated, and rates it (a later rating
// replaces the earlier one).

import { ApiError, get, put } from "./api.js";
import { clear, h, loadCss } from "./dom.js";
import { asciiDigits, digits } from "./format.js";
import { addStrings, lang, t } from "./i18n.js";

const MAX_COMMENT = 1000;

addStrings({
  en: {
    "rating.stars": "Your rating", "rating.star": "{n} of 5: {word}", "rating.word.1": "Very bad",
    "rating.word.2": "Bad", "rating.word.3": "OK", "rating.word.4": "Good", "rating.word.5": "Excellent",
    "rating.ask": "How was your trip?", "rating.comment": "Anything to add? (optional)",
    "rating.submit": "Send rating", "rating.sending": "Sending…", "rating.change": "Change my rating",
    "rating.thanks": "Thank you! Your rating helps us serve you better.", "rating.yours": "You rated this trip",
    "rating.choose": "Choose from 1 to 5 stars.",
    "rating.error.rating_link_invalid": "This link is not valid. The center can send you a new one.",
    "rating.error.rating_link_expired": "This link has expired. The center can send you a new one.",
    "rating.error.ride_not_completed": "The trip is not over yet: rate it once you have arrived.",
    "rating.error.not_your_ride": "This link is for another trip.",
    "rating.error.rating_out_of_range": "Choose from 1 to 5 stars.",
    "rating.error.network": "The service cannot be reached; check your connection and try again.",
  },
  fa: {
    "rating.stars": "امتیاز شما", "rating.star": "{n} از ۵: {word}", "rating.word.1": "خیلی بد",
    "rating.word.2": "بد", "rating.word.3": "متوسط", "rating.word.4": "خوب", "rating.word.5": "عالی",
    "rating.ask": "سفرتان چطور بود؟", "rating.comment": "نکتهٔ دیگری دارید؟ (اختیاری)",
    "rating.submit": "ثبت امتیاز", "rating.sending": "در حال ثبت…", "rating.change": "تغییر امتیاز",
    "rating.thanks": "سپاسگزاریم! امتیاز شما به ما کمک می‌کند بهتر خدمت کنیم.", "rating.yours": "امتیاز شما به این سفر",
    "rating.choose": "از ۱ تا ۵ ستاره انتخاب کنید.",
    "rating.error.rating_link_invalid": "این پیوند معتبر نیست. مرکز می‌تواند پیوند تازه‌ای بفرستد.",
    "rating.error.rating_link_expired": "مهلت این پیوند تمام شده است. مرکز می‌تواند پیوند تازه‌ای بفرستد.",
    "rating.error.ride_not_completed": "سفر هنوز تمام نشده؛ پس از رسیدن امتیاز دهید.",
    "rating.error.not_your_ride": "این پیوند برای سفر دیگری است.",
    "rating.error.rating_out_of_range": "از ۱ تا ۵ ستاره انتخاب کنید.",
    "rating.error.network": "سرویس در دسترس نیست؛ اتصال خود را بررسی کنید و دوباره بکوشید.",
  },
});

export function ratingErrorText(err) {
  if (err instanceof ApiError && err.status === 0) return t("rating.error.network");
  const key = `rating.error.${err.code}`;
  const text = t(key);
  return text === key ? err.message : text;
}

// Five stars as text, for lists: "★★★★☆".
export function starsText(value) {
  return "★".repeat(value) + "☆".repeat(5 - value);
}

export function starsBadge(value) {
  return h("span", { class: "stars-shown", title: `${digits(value)}/${digits(5)}`, "aria-label": t("rating.star",
    { n: digits(value), word: t(`rating.word.${value}`) }) }, starsText(value));
}

export function starInput({ value = 0, onChange } = {}) {
  loadCss("/console/css/rating.css");
  let current = value;
  const buttons = [1, 2, 3, 4, 5].map((n) => h("button", { type: "button", role: "radio", class: "star",
    "data-value": n, "aria-label": t("rating.star", { n: digits(n), word: t(`rating.word.${n}`) }),
    onclick: () => choose(n) }, "★"));
  const word = h("span", { class: "star-word", "aria-hidden": "true" });
  const el = h("div", { class: "stars", role: "radiogroup", "aria-label": t("rating.stars") },
    h("span", { class: "star-row" }, buttons), word);
  el.addEventListener("keydown", (event) => {
    const next = lang() === "fa" ? "ArrowLeft" : "ArrowRight";
    const back = lang() === "fa" ? "ArrowRight" : "ArrowLeft";
    const typed = Number(asciiDigits(event.key));
    let wanted = null;
    if (typed >= 1 && typed <= 5) wanted = typed;
    else if (event.key === next || event.key === "ArrowUp") wanted = Math.min(5, (current || 0) + 1);
    else if (event.key === back || event.key === "ArrowDown") wanted = Math.max(1, (current || 2) - 1);
    if (wanted !== null) {
      event.preventDefault();
      choose(wanted);
    }
  });

  function choose(n) {
    current = n;
    paint();
    buttons[n - 1].focus();
    onChange?.(n);
  }

  function paint() {
    buttons.forEach((button, i) => {
      button.classList.toggle("on", i < current);
      button.setAttribute("aria-checked", String(i + 1 === current));
      // One tab stop for the group: the chosen star, or the first.
      button.tabIndex = (current ? i + 1 === current : i === 0) ? 0 : -1;
    });
    word.textContent = current ? t(`rating.word.${current}`) : "";
  }

  paint();
  return { el, get value() { return current; }, focus: () => buttons[Math.max(0, current - 1)].focus() };
}

// The customer's rating box for the ride a token names (a tracking token or a rating link's).
export async function mountCustomerRating(box, token, { rideId, view } = {}) {
  loadCss("/console/css/rating.css");
  box.classList.add("rating-box");
  const url = `/api/public/ratings/${encodeURIComponent(token)}`;
  let known = view;
  if (!known) {
    try {
      known = await get(url);
    } catch (err) {
      clear(box, h("p", { class: "form-error", role: "alert" }, ratingErrorText(err)));
      return;
    }
  }
  if (!known.can_rate) { box.hidden = true; return; }
  box.hidden = false;
  if (known.rating) showRated(known.rating); else showForm(null);

  function showRated(rating, thanked = false) {
    clear(box,
      h("h2", {}, t("rating.yours")),
      h("p", { class: "rated", "data-value": rating.value }, starsBadge(rating.value), " ",
        h("span", { class: "star-word" }, t(`rating.word.${rating.value}`))),
      rating.comment ? h("p", { class: "rated-comment" }, rating.comment) : null,
      thanked ? h("p", { class: "thanks", role: "status" }, t("rating.thanks")) : null,
      h("button", { type: "button", class: "change-rating", onclick: () => showForm(rating) }, t("rating.change")));
  }

  function showForm(earlier) {
    const stars = starInput({ value: earlier?.value ?? 0, onChange: () => { message.textContent = ""; } });
    const comment = h("textarea", { name: "comment", rows: 3, maxlength: MAX_COMMENT }, earlier?.comment ?? "");
    const message = h("p", { class: "form-error", role: "alert" });
    const submit = h("button", { type: "submit", class: "primary big send-rating" }, t("rating.submit"));
    const form = h("form", { class: "rating-form", novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      if (!stars.value) { message.textContent = t("rating.choose"); stars.focus(); return; }
      submit.disabled = true;
      submit.textContent = t("rating.sending");
      try {
        const { rating } = await put(url, { ride_id: rideId ?? known.ride.id, value: stars.value,
          comment: comment.value.trim() || null });
        showRated(rating, true);
      } catch (err) {
        message.textContent = ratingErrorText(err);
        submit.disabled = false;
        submit.textContent = t("rating.submit");
      }
    } },
    h("h2", {}, t("rating.ask")), stars.el,
    h("label", {}, t("rating.comment"), comment), message, submit);
    clear(box, form);
  }
}
