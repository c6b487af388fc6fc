// The customer page (/book): a pickup and a destination (typed, and placed on the map), the fare quote, a mobile
// number to confirm with; then the ride followed live: its state, the driver, the car and its plate, the arrival.
//
// The booking answers with a tracking token: kept in this browser and in the address (#/ride/<token>, so the link
// can be shared), it is all the page needs to follow the ride. News comes over /ws/rider as small "it changed"
// events, after which the page reloads its view; while that socket is down it polls instead. Positions send no
// events, so while the car moves the view is reloaded now and then for its place and arrival time.

import { get, newKey, post } from "./api.js";
import { clear, h, ltr, openDialog } from "./dom.js";
import { digits, distance, money, setTimeZone, time } from "./format.js";
import { addStrings, applyDocumentLang, lang, setLang, t } from "./i18n.js";
import { Live } from "./live.js";
import { createMap } from "./map.js";
import { mountCustomerRating } from "./rating.js";
import { mountCustomerReport } from "./customer_report.js";
import { FINAL } from "./rides.js";

addStrings({
  en: {
    "cust.brand": "Taxi", "cust.title": "Where to?", "cust.pickup": "Pickup", "cust.destination": "Destination",
    "cust.pickup.placeholder": "Street, number, landmark", "cust.destination.placeholder": "Where are you going?",
    "cust.on_map": "On the map", "cust.marked": "Marked on the map", "cust.unmarked": "Not on the map yet",
    "cust.tap_map.pickup": "Tap the map where you are to be picked up",
    "cust.tap_map.destination": "Tap the map where you are going", "cust.my_location": "My location",
    "cust.no_location": "Your location is not available; tap the map instead.", "cust.pinned": "Marked on the map",
    "cust.class": "Car", "cust.class.sedan": "Sedan", "cust.class.van": "Van", "cust.class.luxury": "Luxury",
    "cust.quote": "Estimated fare", "cust.quote.trip": "{distance}, about {minutes} min",
    "cust.quote.needs": "Mark the pickup and the destination on the map to see the fare.",
    "cust.quote.meter": "The fare will be set by the meter.", "cust.quote.loading": "Pricing the trip…",
    "cust.quote.lines": "How the fare is made up", "cust.phone": "Your mobile number",
    "cust.phone.help": "The driver may call you on it.", "cust.name": "Your name (optional)",
    "cust.notes": "Note for the driver (optional)", "cust.confirm": "Book the taxi", "cust.booking": "Booking…",
    "cust.state.scheduled": "Booked for {time}", "cust.state.requested": "Finding you a driver…",
    "cust.state.offering": "Finding you a driver…", "cust.state.unassigned": "Still looking for a driver; the center is on it.",
    "cust.state.assigned": "Your driver is on the way", "cust.state.arrived": "Your driver is at the pickup",
    "cust.state.on_board": "On your way", "cust.state.completed": "You have arrived. Thank you!",
    "cust.state.cancelled": "The ride was cancelled", "cust.state.no_driver_found": "Sorry, no driver was found",
    "cust.state.no_show": "The driver could not find you at the pickup",
    "cust.cancelled_by.customer": "You cancelled it.", "cust.cancelled_by.operator": "The center cancelled it.",
    "cust.cancelled_by.driver": "The driver cancelled it.", "cust.cancelled_by.system": "It was cancelled.",
    "cust.step.booked": "Booked", "cust.step.assigned": "On the way", "cust.step.arrived": "Arrived",
    "cust.step.on_board": "On board", "cust.step.completed": "Done",
    "cust.eta.pickup": "Arrives in about {minutes} min, at {time}", "cust.eta.destination": "You arrive at about {time}",
    "cust.driver": "Your driver", "cust.car": "Car", "cust.colour": "Colour", "cust.plate": "Plate",
    "cust.route": "Your trip", "cust.fare": "Fare", "cust.ride_no": "Ride",
    "cust.cancel": "Cancel the ride", "cust.cancel.title": "Cancel this ride?",
    "cust.cancel.body": "The driver will be told at once.", "cust.cancel.yes": "Yes, cancel",
    "cust.cancel.no": "Keep the ride", "cust.again": "Book another ride",
    "cust.live": "Live", "cust.polling": "Updating every few seconds…", "cust.car_marker": "Your taxi",
    "cust.error.tracking_not_found": "This tracking link is not valid. Book again, or call the center.",
    "cust.error.invalid_phone": "That is not a phone number we can use; check it and try again.",
    "cust.error.mobile_required": "Enter a mobile number, such as 0912 345 6789: the driver may need to call you.",
    "cust.error.pickup_position_required": "Mark the pickup on the map (or use your location) so a driver can find you.",
    "cust.error.outside_service_area": "The pickup is outside the area we serve; move the mark, or call the center.",
    "cust.error.too_many_bookings": "Too many bookings from this number or this connection; try again later, or call the center.",
    "cust.error.too_many_quotes": "Too many fare requests; wait a moment.",
    "cust.error.active_ride_exists": "This number already has a ride under way; follow it from the page you booked it on, or call the center.",
    "cust.error.booking_refused": "This number cannot book online; please call the center.",
    "cust.error.idempotency_key_reused": "Something changed while booking; press Book again.",
    "cust.error.not_cancellable": "The ride can no longer be cancelled.",
    "cust.error.missing_field": "Fill in the pickup address.",
    "cust.error.network": "The service cannot be reached; check your connection and try again.",
    "cust.error.service_unavailable": "Something went wrong on our side; try again in a moment.",
    "cust.error.internal_error": "Something went wrong on our side; try again in a moment.",
  },
  fa: {
    "cust.brand": "تاکسی", "cust.title": "کجا می‌روید؟", "cust.pickup": "مبدأ", "cust.destination": "مقصد",
    "cust.pickup.placeholder": "خیابان، پلاک، نشانه", "cust.destination.placeholder": "به کجا می‌روید؟",
    "cust.on_map": "روی نقشه", "cust.marked": "روی نقشه علامت خورد", "cust.unmarked": "هنوز روی نقشه نیست",
    "cust.tap_map.pickup": "جای سوار شدن را روی نقشه بزنید",
    "cust.tap_map.destination": "مقصد را روی نقشه بزنید", "cust.my_location": "مکان من",
    "cust.no_location": "مکان شما در دسترس نیست؛ روی نقشه بزنید.", "cust.pinned": "علامت روی نقشه",
    "cust.class": "خودرو", "cust.class.sedan": "سواری", "cust.class.van": "ون", "cust.class.luxury": "لوکس",
    "cust.quote": "کرایهٔ تقریبی", "cust.quote.trip": "{distance}، حدود {minutes} دقیقه",
    "cust.quote.needs": "برای دیدن کرایه، مبدأ و مقصد را روی نقشه علامت بزنید.",
    "cust.quote.meter": "کرایه با تاکسی‌متر حساب می‌شود.", "cust.quote.loading": "در حال محاسبهٔ کرایه…",
    "cust.quote.lines": "اجزای کرایه", "cust.phone": "شمارهٔ همراه شما",
    "cust.phone.help": "ممکن است راننده با این شماره تماس بگیرد.", "cust.name": "نام شما (اختیاری)",
    "cust.notes": "توضیح برای راننده (اختیاری)", "cust.confirm": "درخواست تاکسی", "cust.booking": "در حال ثبت…",
    "cust.state.scheduled": "رزرو برای {time}", "cust.state.requested": "در جستجوی راننده…",
    "cust.state.offering": "در جستجوی راننده…", "cust.state.unassigned": "هنوز راننده‌ای پیدا نشده؛ مرکز پیگیری می‌کند.",
    "cust.state.assigned": "راننده در راه است", "cust.state.arrived": "راننده در مبدأ منتظر شماست",
    "cust.state.on_board": "در مسیر", "cust.state.completed": "به مقصد رسیدید. سپاس!",
    "cust.state.cancelled": "سفر لغو شد", "cust.state.no_driver_found": "متأسفیم، راننده‌ای پیدا نشد",
    "cust.state.no_show": "راننده شما را در مبدأ پیدا نکرد",
    "cust.cancelled_by.customer": "شما لغو کردید.", "cust.cancelled_by.operator": "مرکز لغو کرد.",
    "cust.cancelled_by.driver": "راننده لغو کرد.", "cust.cancelled_by.system": "سفر لغو شد.",
    "cust.step.booked": "ثبت شد", "cust.step.assigned": "در راه", "cust.step.arrived": "رسید",
    "cust.step.on_board": "سوار شدید", "cust.step.completed": "پایان",
    "cust.eta.pickup": "حدود {minutes} دقیقهٔ دیگر می‌رسد، ساعت {time}", "cust.eta.destination": "رسیدن به مقصد حدود ساعت {time}",
    "cust.driver": "راننده", "cust.car": "خودرو", "cust.colour": "رنگ", "cust.plate": "پلاک",
    "cust.route": "سفر شما", "cust.fare": "کرایه", "cust.ride_no": "سفر",
    "cust.cancel": "لغو سفر", "cust.cancel.title": "این سفر لغو شود؟",
    "cust.cancel.body": "به راننده بی‌درنگ خبر داده می‌شود.", "cust.cancel.yes": "بله، لغو شود",
    "cust.cancel.no": "سفر بماند", "cust.again": "درخواست سفر دیگر",
    "cust.live": "برخط", "cust.polling": "به‌روزرسانی هر چند ثانیه…", "cust.car_marker": "تاکسی شما",
    "cust.error.tracking_not_found": "این پیوند پیگیری معتبر نیست. دوباره درخواست دهید یا با مرکز تماس بگیرید.",
    "cust.error.invalid_phone": "این شماره قابل استفاده نیست؛ آن را بررسی کنید.",
    "cust.error.mobile_required": "شمارهٔ همراه وارد کنید (مانند ۰۹۱۲ ۳۴۵ ۶۷۸۹)؛ ممکن است راننده با شما تماس بگیرد.",
    "cust.error.pickup_position_required": "مبدأ را روی نقشه علامت بزنید (یا «مکان من») تا راننده شما را پیدا کند.",
    "cust.error.outside_service_area": "مبدأ بیرون از محدودهٔ خدمات ماست؛ علامت را جابه‌جا کنید یا با مرکز تماس بگیرید.",
    "cust.error.too_many_bookings": "درخواست‌های این شماره یا این اتصال زیاد بوده؛ بعداً دوباره بکوشید یا با مرکز تماس بگیرید.",
    "cust.error.too_many_quotes": "درخواست کرایه زیاد بوده؛ کمی صبر کنید.",
    "cust.error.active_ride_exists": "این شماره سفری در جریان دارد؛ آن را در صفحه‌ای که ثبت کردید دنبال کنید یا با مرکز تماس بگیرید.",
    "cust.error.booking_refused": "با این شماره نمی‌توان برخط درخواست داد؛ لطفاً با مرکز تماس بگیرید.",
    "cust.error.idempotency_key_reused": "هنگام ثبت چیزی تغییر کرد؛ دوباره «درخواست تاکسی» را بزنید.",
    "cust.error.not_cancellable": "این سفر دیگر لغو نمی‌شود.",
    "cust.error.missing_field": "نشانی مبدأ را بنویسید.",
    "cust.error.network": "سرویس در دسترس نیست؛ اتصال خود را بررسی کنید و دوباره بکوشید.",
    "cust.error.service_unavailable": "مشکلی در سمت ما پیش آمد؛ کمی بعد دوباره بکوشید.",
    "cust.error.internal_error": "مشکلی در سمت ما پیش آمد؛ کمی بعد دوباره بکوشید.",
  },
});

const RIDE_KEY = "taxicrm.book.ride";
const CONTACT_KEY = "taxicrm.book.contact";
const POLL_MS = 4000; // while the live connection is down
const MOVING_MS = 15000; // the car's place and arrival time while it moves
const QUOTE_DELAY_MS = 300;
const CLASSES = ["sedan", "van", "luxury"];
const STEPS = ["booked", "assigned", "arrived", "on_board", "completed"];
const STEP_OF = { scheduled: 0, requested: 0, offering: 0, unassigned: 0, assigned: 1, arrived: 2, on_board: 3, completed: 4 };
const ENDS = ["pickup", "destination"];

const root = document.getElementById("book");
let config;
let screen = null;
// What the customer has filled in: kept across a language switch and a failed attempt.
const draft = {
  pickup: { text: "", point: null }, destination: { text: "", point: null }, vehicleClass: "sedan", mode: "pickup",
  notes: "", phone: "", name: "", ...savedContact(), key: null, keyFor: null,
};

// The number and name of the last booking from this browser, offered again for the next one.
function savedContact() {
  try {
    const { phone, name } = JSON.parse(localStorage.getItem(CONTACT_KEY) || "{}");
    return { phone: String(phone ?? ""), name: String(name ?? "") };
  } catch {
    return {};
  }
}

async function boot() {
  applyDocumentLang();
  try {
    config = await get("/api/console/config");
  } catch {
    clear(root, h("p", { class: "fatal" }, t("cust.error.network")));
    return;
  }
  setTimeZone(config.timezone);
  window.addEventListener("hashchange", route);
  route();
}

function route() {
  const stored = localStorage.getItem(RIDE_KEY);
  if (!location.hash && stored) history.replaceState(null, "", `#/ride/${stored}`);
  const token = /^#\/ride\/([\w-]+)$/.exec(location.hash)?.[1];
  screen?.destroy();
  screen = token ? followScreen(token) : bookScreen();
}

function errorText(err) {
  const key = `cust.error.${err.code}`;
  const text = t(key);
  return text === key ? err.message : text;
}

function frame(...content) {
  return [
    h("header", { class: "book-top" },
      h("strong", { class: "brand" }, t("cust.brand")), h("span", { class: "spacer" }),
      h("button", { type: "button", class: "lang-switch", lang: lang() === "fa" ? "en" : "fa", onclick: () => {
        setLang(lang() === "fa" ? "en" : "fa");
        route(); // Redrawn in the other language; what was typed stays in the draft.
      } }, t("language"))),
    h("main", { class: "book-main" }, ...content),
  ];
}

// An Iranian plate ("12 ب 345 - 67") left to right. Isolating it is not enough: digits after its Persian letter
// would be laid out as Arabic numbers, right to left; each part in its own inline box keeps the plate's order.
function plate(text) {
  const parts = text.split(" ").map((part) => h("span", { class: "plate-part" }, part));
  return h("bdi", { dir: "ltr", class: "ltr plate" }, parts.flatMap((part, i) => (i ? [" ", part] : [part])));
}

function minutes(seconds) { return digits(Math.max(1, Math.round(seconds / 60))); }

function priceLines(price) {
  return h("details", { class: "price-lines" }, h("summary", {}, t("cust.quote.lines")),
    h("ul", {}, price.lines.map((line) => h("li", {},
      h("span", {}, lang() === "fa" ? line.label_fa : line.label_en), h("span", {}, money(line.amount_rials))))));
}

// ---- booking --------------------------------------------------------------------------------------------------

function bookScreen() {
  const mapBox = h("div", { class: "book-map" });
  const hint = h("div", { class: "map-hint", "aria-live": "polite" });
  const quoteBox = h("section", { class: "quote card", "aria-live": "polite" });
  const message = h("p", { class: "form-error", role: "alert" });
  const button = h("button", { type: "submit", class: "primary big confirm" }, t("cust.confirm"));
  const places = Object.fromEntries(ENDS.map((end) => [end, placeField(end)]));
  const phone = h("input", { name: "phone", type: "tel", inputmode: "tel", autocomplete: "tel", dir: "ltr",
    required: true, value: draft.phone, placeholder: "0912 345 6789", "aria-describedby": "phone-help",
    oninput: (e) => { draft.phone = e.target.value; } });
  const name = h("input", { name: "name", autocomplete: "name", value: draft.name, maxlength: 200,
    oninput: (e) => { draft.name = e.target.value; } });
  const notes = h("input", { name: "notes", value: draft.notes, maxlength: 500,
    oninput: (e) => { draft.notes = e.target.value; } });
  const classes = h("div", { class: "classes", role: "radiogroup", "aria-label": t("cust.class") },
    CLASSES.map((c) => h("button", { type: "button", role: "radio", "data-class": c,
      "aria-checked": String(draft.vehicleClass === c), onclick: () => {
        draft.vehicleClass = c;
        classes.querySelectorAll("button").forEach((b) => b.setAttribute("aria-checked", String(b.dataset.class === c)));
        requestQuote();
      } }, t(`cust.class.${c}`))));
  const form = h("form", { class: "book-form", novalidate: true, onsubmit: submit },
    h("h1", {}, t("cust.title")),
    places.pickup.el, places.destination.el,
    h("div", { class: "field" }, h("span", { class: "label" }, t("cust.class")), classes),
    quoteBox,
    h("label", {}, t("cust.phone"), phone, h("small", { id: "phone-help", class: "muted" }, t("cust.phone.help"))),
    h("label", {}, t("cust.name"), name),
    h("label", {}, t("cust.notes"), notes),
    message, button);
  clear(root, ...frame(h("div", { class: "map-wrap" }, mapBox, hint), form));

  const map = createMap(mapBox, { area: config.service_area, tilesUrl: config.map_tiles_url });
  map.onClick((lat, lng) => setPoint(draft.mode, { lat, lng }));
  let quoteTimer = 0;
  let quoteSeq = 0;
  refreshMarks();
  requestQuote();

  function placeField(end) {
    const input = h("input", { name: end, value: draft[end].text, maxlength: 500, autocomplete: "off",
      placeholder: t(`cust.${end}.placeholder`), onfocus: () => setMode(end),
      oninput: (e) => { draft[end].text = e.target.value; } });
    const status = h("small", { class: "pin-status" });
    const pick = h("button", { type: "button", class: "pick", onclick: () => setMode(end) }, t("cust.on_map"));
    const mine = end === "pickup" && navigator.geolocation
      ? h("button", { type: "button", class: "locate", onclick: locate }, "◎ ", t("cust.my_location")) : null;
    const el = h("div", { class: `place place-${end}`, "data-end": end },
      h("label", {}, t(`cust.${end}`), input), h("div", { class: "row" }, pick, mine, status));
    return { el, pick, status };
  }

  function setMode(end) {
    draft.mode = end;
    refreshMarks();
  }

  function setPoint(end, point) {
    draft[end].point = point;
    // Once the pickup is marked, the next tap is most likely the destination.
    if (end === "pickup" && !draft.destination.point) draft.mode = "destination";
    refreshMarks();
    requestQuote();
  }

  function locate() {
    navigator.geolocation.getCurrentPosition((where) => {
      const point = { lat: where.coords.latitude, lng: where.coords.longitude };
      setPoint("pickup", point);
      map.panTo(point.lat, point.lng);
    }, () => { message.textContent = t("cust.no_location"); }, { enableHighAccuracy: true, timeout: 10000 });
  }

  function refreshMarks() {
    for (const end of ENDS) {
      const { el, pick, status } = places[end];
      el.classList.toggle("picking", draft.mode === end);
      pick.setAttribute("aria-pressed", String(draft.mode === end));
      status.textContent = draft[end].point ? `✓ ${t("cust.marked")}` : t("cust.unmarked");
      status.classList.toggle("ok", Boolean(draft[end].point));
    }
    hint.textContent = t(`cust.tap_map.${draft.mode}`);
    for (const end of ENDS) {
      const point = draft[end].point;
      map.setMarkers(end, point ? [{ id: end, ...point, kind: end, label: t(`cust.${end}`) }] : []);
    }
  }

  function requestQuote() {
    clearTimeout(quoteTimer);
    const { pickup, destination } = draft;
    if (!pickup.point || !destination.point) {
      clear(quoteBox, h("p", { class: "muted" }, t("cust.quote.needs")));
      return;
    }
    clear(quoteBox, h("p", { class: "muted" }, t("cust.quote.loading")));
    const seq = ++quoteSeq;
    quoteTimer = setTimeout(async () => {
      try {
        const { quote } = await post("/api/public/fares/quote",
          { pickup: pickup.point, destination: destination.point, vehicle_class: draft.vehicleClass });
        if (seq !== quoteSeq) return;
        clear(quoteBox,
          h("div", { class: "quote-head" }, h("span", {}, t("cust.quote")),
            h("strong", { class: "quote-total" }, money(quote.total_rials))),
          h("p", { class: "muted" }, t("cust.quote.trip", { distance: distance(quote.distance_m), minutes: minutes(quote.duration_s) })),
          priceLines(quote));
      } catch (err) {
        if (seq !== quoteSeq) return;
        clear(quoteBox, h("p", { class: err.code === "no_tariff_in_force" ? "muted" : "form-error" },
          err.code === "no_tariff_in_force" ? t("cust.quote.meter") : errorText(err)));
      }
    }, QUOTE_DELAY_MS);
  }

  function place(end) {
    const { text, point } = draft[end];
    if (!text.trim() && !point) return undefined;
    return { text: text.trim() || t("cust.pinned"), ...(point || {}) };
  }

  async function submit(event) {
    event.preventDefault();
    const body = { phone: draft.phone, name: draft.name.trim() || undefined, pickup: place("pickup"),
      destination: place("destination"), vehicle_class: draft.vehicleClass, notes_for_driver: draft.notes.trim() || undefined };
    // One key per booking as asked: a retry after a lost answer finds the ride instead of booking another.
    const fingerprint = JSON.stringify(body);
    if (draft.keyFor !== fingerprint) { draft.key = newKey(); draft.keyFor = fingerprint; }
    message.textContent = "";
    button.disabled = true;
    button.textContent = t("cust.booking");
    try {
      const booked = await post("/api/public/rides", body, { idempotencyKey: draft.key });
      localStorage.setItem(RIDE_KEY, booked.token);
      localStorage.setItem(CONTACT_KEY, JSON.stringify({ phone: draft.phone, name: draft.name }));
      Object.assign(draft, { pickup: { text: "", point: null }, destination: { text: "", point: null }, notes: "",
        mode: "pickup", key: null, keyFor: null });
      location.hash = `#/ride/${booked.token}`;
    } catch (err) {
      message.textContent = errorText(err);
      // Only an answer that never came may have booked: anything the service refused, a new key may retry.
      if (err.status !== 0 && err.status < 500) draft.keyFor = null;
      button.disabled = false;
      button.textContent = t("cust.confirm");
    }
  }

  return { destroy() { clearTimeout(quoteTimer); map.destroy(); } };
}

// ---- following ------------------------------------------------------------------------------------------------

function followScreen(token) {
  const status = h("section", { class: "ride-state card", "aria-live": "polite" });
  const driverBox = h("section", { class: "driver card", hidden: true });
  const mapBox = h("div", { class: "follow-map" });
  const routeBox = h("section", { class: "route card" });
  const actions = h("div", { class: "actions" });
  const liveNote = h("p", { class: "live-note muted", "data-live": "connecting" });
  // Once the ride is over, the customer rates it here (feedback's widget, js/rating.js).
  const ratingBox = h("section", { class: "card rating", hidden: true });
  let ratingShown = false;
  // ...and may report a problem with it, however it ended (js/customer_report.js).
  const reportBox = h("section", { class: "card report", hidden: true });
  let reportShown = false;
  clear(root, ...frame(status, ratingBox, reportBox, driverBox, h("div", { class: "map-wrap" }, mapBox), routeBox, actions,
    liveNote));
  const map = createMap(mapBox, { area: config.service_area, tilesUrl: config.map_tiles_url });
  const live = new Live(`/ws/rider?token=${encodeURIComponent(token)}`);
  let view = null;
  let fittedFor = null;
  let timer = 0;
  let seq = 0;
  let stopped = false;

  live.on("ride.*", () => refresh());
  live.onResync(() => refresh());
  live.onStatus((s) => {
    liveNote.dataset.live = s;
    liveNote.textContent = s === "online" ? `● ${t("cust.live")}` : t("cust.polling");
    schedule();
  });

  async function refresh() {
    const mine = ++seq;
    try {
      const found = await get(`/api/public/rides/${encodeURIComponent(token)}`);
      if (mine !== seq || stopped) return;
      view = found;
      render();
    } catch (err) {
      if (mine !== seq || stopped) return;
      if (err.code === "tracking_not_found") {
        stop();
        if (localStorage.getItem(RIDE_KEY) === token) localStorage.removeItem(RIDE_KEY);
        clear(status, h("p", { class: "form-error" }, errorText(err)));
        clear(actions, againButton());
        return;
      }
    }
    schedule();
  }

  // Poll while the socket is down; while the car moves, reload now and then for its place and arrival time.
  function schedule() {
    clearTimeout(timer);
    if (stopped || (view && FINAL.has(view.ride.status))) return;
    const wait = live.status !== "online" ? POLL_MS : view?.driver?.position ? MOVING_MS : 0;
    if (wait) timer = setTimeout(refresh, wait);
  }

  function stop() {
    stopped = true;
    clearTimeout(timer);
    live.stop();
  }

  function render() {
    const { ride, driver, arrival } = view;
    const step = STEP_OF[ride.status];
    clear(status,
      h("p", { class: "ride-no muted" }, t("cust.ride_no"), " ", ltr(`#${digits(ride.id)}`)),
      h("h1", { class: "headline", "data-ride-status": ride.status },
        t(`cust.state.${ride.status}`, { time: time(ride.pickup_at) })),
      ride.cancelled_by ? h("p", { class: "muted" }, t(`cust.cancelled_by.${ride.cancelled_by}`)) : null,
      arrival ? h("p", { class: "eta", "data-to": arrival.to },
        t(`cust.eta.${arrival.to}`, { minutes: minutes(arrival.seconds), time: time(arrival.at) })) : null,
      step === undefined ? null : h("ol", { class: "steps" }, STEPS.map((name, i) =>
        h("li", { class: i < step ? "done" : i === step ? "current" : "", "aria-current": i === step ? "step" : null },
          t(`cust.step.${name}`)))));
    driverBox.hidden = !driver;
    if (driver) {
      const car = [driver.vehicle_make, driver.vehicle_model].filter(Boolean).join(" ");
      clear(driverBox,
        h("div", { class: "driver-head" }, h("span", { class: "muted" }, t("cust.driver")),
          h("strong", { class: "driver-name" }, driver.name)),
        h("dl", { class: "car" },
          car ? [h("dt", {}, t("cust.car")), h("dd", { class: "car-model" }, car)] : null,
          driver.vehicle_colour ? [h("dt", {}, t("cust.colour")), h("dd", { class: "car-colour" }, driver.vehicle_colour)] : null,
          driver.plate ? [h("dt", {}, t("cust.plate")), h("dd", {}, plate(driver.plate))] : null));
    }
    const price = ride.fare || ride.quote;
    clear(routeBox, h("h2", {}, t("cust.route")),
      h("ol", { class: "legs" }, ENDS.map((end) => ride[end] &&
        h("li", { class: `leg leg-${end}` }, h("span", { class: "muted" }, t(`cust.${end}`)), " ", ride[end].text))),
      price ? h("div", { class: "quote-head" }, h("span", {}, t(ride.fare ? "cust.fare" : "cust.quote")),
        h("strong", { class: "quote-total" }, money(price.total_rials))) : null,
      price ? priceLines(price) : null);
    clear(actions,
      ride.can_cancel ? h("button", { type: "button", class: "danger big cancel", onclick: askCancel }, t("cust.cancel")) : null,
      FINAL.has(ride.status) ? againButton() : null);
    const car = driver?.position;
    map.setMarkers("route", ENDS.filter((end) => ride[end]?.lat != null).map((end) =>
      ({ id: end, lat: ride[end].lat, lng: ride[end].lng, kind: end, label: t(`cust.${end}`) })));
    map.setMarkers("car", car ? [{ id: "car", lat: car.lat, lng: car.lng, kind: "car", label: t("cust.car_marker") }] : []);
    // Framed again only when the ride moves on, so a customer's own zoom is not undone by every reload.
    if (fittedFor !== ride.status) {
      fittedFor = ride.status;
      const toward = ride.status === "on_board" ? ride.destination : ride.pickup;
      map.fit([car, toward, ...(car ? [] : [ride.destination])].filter((p) => p?.lat != null));
    }
    liveNote.hidden = FINAL.has(ride.status);
    if (ride.status === "completed" && !ratingShown) {
      ratingShown = true;
      mountCustomerRating(ratingBox, token, { rideId: ride.id });
    }
    if (FINAL.has(ride.status) && !reportShown) {
      reportShown = true;
      mountCustomerReport(reportBox, token, { rideId: ride.id });
    }
    if (FINAL.has(ride.status)) stop();
  }

  function askCancel() {
    const yes = h("button", { type: "button", class: "danger big", onclick: async () => {
      yes.disabled = true;
      try {
        view = await post(`/api/public/rides/${encodeURIComponent(token)}/cancel`, {});
        render();
        close();
      } catch (err) {
        clear(body, h("p", { class: "form-error", role: "alert" }, errorText(err)));
        yes.disabled = false;
      }
    } }, t("cust.cancel.yes"));
    const body = h("p", {}, t("cust.cancel.body"));
    const close = openDialog(t("cust.cancel.title"), h("div", { class: "cancel-dialog" }, body,
      h("div", { class: "row" }, yes, h("button", { type: "button", class: "big", onclick: () => close() }, t("cust.cancel.no")))));
  }

  function againButton() {
    return h("button", { type: "button", class: "primary big again", onclick: () => {
      localStorage.removeItem(RIDE_KEY);
      location.hash = "#/";
    } }, t("cust.again"));
  }

  refresh();
  live.start();
  return { destroy() { stop(); map.destroy(); } };
}

boot();
