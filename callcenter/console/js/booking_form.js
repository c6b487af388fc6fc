// The booking form a caller's card turns into: pickup and destination (saved, or typed), passengers, vehicle
// class, notes for the driver, now or later, the fare quote with its breakdown, and the confirmations the
// service asks for (a caller with a ride under way, a blocked caller). Enter books; Esc goes back to the card.
//
// One idempotency key per form: however often Enter is pressed or a request retried, one ride is booked.

import { newKey, post } from "./api.js";
import { clear, h, ltr, toast } from "./dom.js";
import { dateTimeField } from "./date_picker.js";
import { asciiDigits, digits, distance, money, number } from "./format.js";
import { addStrings, lang, t } from "./i18n.js";

addStrings({
  en: {
    "book.title": "New ride", "book.for": "For", "book.pickup": "Pickup", "book.destination": "Destination",
    "book.none": "— not known —", "book.new_address": "A new address…", "book.text": "Address",
    "book.landmark": "Landmark / description for the driver", "book.passengers": "Passengers",
    "book.class": "Vehicle", "book.notes": "Notes for the driver", "book.when": "When", "book.now": "Now",
    "book.later": "Later", "book.pickup_at": "Pickup time", "book.quote": "Fare quote",
    "book.quote_needs_points": "A quote needs a pickup and a destination on the map.",
    "book.confirm": "Book the ride", "book.keys": "Enter book · 1–9 in Destination picks a saved one · Esc back",
    "book.confirm_duplicate": "Press Enter again to book another ride anyway.",
    "book.confirm_blocked": "This caller is blocked. Press Enter again to book anyway.",
    "book.booked": "Ride #{id} booked.", "book.walk_in_name": "Passenger's name", "book.walk_in_phone": "Phone",
    "book.pick_on_map": "Pick on map", "book.picked": "on the map", "book.estimate": "{distance}, about {minutes} min",
    "class.sedan": "Sedan", "class.van": "Van", "class.luxury": "Luxury",
  },
  fa: {
    "book.title": "سفر جدید", "book.for": "برای", "book.pickup": "مبدأ", "book.destination": "مقصد",
    "book.none": "— نامشخص —", "book.new_address": "نشانی جدید…", "book.text": "نشانی",
    "book.landmark": "نشانه / توضیح برای راننده", "book.passengers": "مسافران",
    "book.class": "خودرو", "book.notes": "توضیح برای راننده", "book.when": "زمان", "book.now": "اکنون",
    "book.later": "بعداً", "book.pickup_at": "زمان سوار شدن", "book.quote": "برآورد کرایه",
    "book.quote_needs_points": "برآورد کرایه به مبدأ و مقصد روی نقشه نیاز دارد.",
    "book.confirm": "ثبت سفر", "book.keys": "Enter ثبت · ۱–۹ در مقصد نشانی ذخیره‌شده · Esc بازگشت",
    "book.confirm_duplicate": "برای ثبت سفر دیگر، دوباره Enter بزنید.",
    "book.confirm_blocked": "این تماس‌گیرنده مسدود است. برای ثبت، دوباره Enter بزنید.",
    "book.booked": "سفر #{id} ثبت شد.", "book.walk_in_name": "نام مسافر", "book.walk_in_phone": "تلفن",
    "book.pick_on_map": "انتخاب روی نقشه", "book.picked": "روی نقشه", "book.estimate": "{distance}، حدود {minutes} دقیقه",
    "class.sedan": "سواری", "class.van": "ون", "class.luxury": "لوکس",
  },
});

const VEHICLE_CLASSES = ["sedan", "van", "luxury"];
const NEW = "new";

export function bookingForm({ ctx, card, choice = {}, onClose }) {
  const subscriber = card?.subscriber ?? null;
  const saved = subscriber?.addresses ?? [];
  const key = newKey();
  let confirmDuplicate = false;
  let confirmBlocked = false;

  const pickup = placeField("pickup", saved, choice.newAddress ? NEW : choice.pickup?.id ?? saved[0]?.id ?? NEW, false);
  const destination = placeField("destination", saved, "", true);
  const walkInName = h("input", { name: "walk_in_name", value: choice.walkInName || card?.call?.caller_name || "" });
  const walkInPhone = h("input", { name: "walk_in_phone", dir: "ltr", value: card?.caller?.e164 || "" });
  const passengers = h("input", { name: "passengers", type: "number", min: 1, max: 8, value: 1, dir: "ltr" });
  const vehicle = h("select", { name: "vehicle_class" },
    VEHICLE_CLASSES.map((c) => h("option", { value: c }, t(`class.${c}`))));
  const notes = h("input", { name: "notes_for_driver", maxlength: 500 });
  const when = h("select", { name: "when" }, h("option", { value: "now" }, t("book.now")),
    h("option", { value: "later" }, t("book.later")));
  const pickupAt = dateTimeField({ initial: new Date(Date.now() + 30 * 60 * 1000), onChange: () => refreshQuote() });
  const pickupAtBox = h("fieldset", { class: "pickup-at", hidden: true }, h("legend", {}, t("book.pickup_at")), pickupAt.el);
  const quote = h("div", { class: "quote", "aria-live": "polite" });
  const message = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, t("book.confirm"));

  const form = h("form", { class: "booking-form card", novalidate: true, onsubmit: (event) => { event.preventDefault(); book(); } },
    h("div", { class: "row" }, h("h2", {}, t("book.title")), h("span", { style: { flex: 1 } }),
      subscriber ? h("span", {}, t("book.for"), " ", h("strong", {}, subscriber.name)) : null),
    subscriber ? null : h("div", { class: "row" }, h("label", {}, t("book.walk_in_name"), walkInName),
      h("label", {}, t("book.walk_in_phone"), walkInPhone)),
    pickup.el, destination.el,
    h("div", { class: "row" }, h("label", {}, t("book.passengers"), passengers), h("label", {}, t("book.class"), vehicle),
      h("label", { class: "grow" }, t("book.notes"), notes),
      h("label", {}, t("book.when"), when)),
    pickupAtBox,
    h("section", {}, h("h3", {}, t("book.quote")), quote),
    message,
    h("div", { class: "row" }, submit, h("button", { type: "button", onclick: () => onClose() }, t("cancel")),
      h("span", { class: "muted keys" }, t("book.keys"))));

  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      onClose();
    } else if (event.key === "Enter" && event.target instanceof HTMLSelectElement) {
      event.preventDefault(); // A select swallows Enter; here it means "book".
      book();
    }
  });
  when.addEventListener("change", () => {
    pickupAtBox.hidden = when.value !== "later";
    if (!pickupAtBox.hidden) pickupAt.focus();
  });
  for (const input of [vehicle, when]) input.addEventListener("change", () => refreshQuote());
  pickup.onChange = destination.onChange = () => { confirmDuplicate = confirmBlocked = false; refreshQuote(); };
  refreshQuote();

  let quoteSeq = 0;
  async function refreshQuote() {
    const from = pickup.position(), to = destination.position();
    if (!from || !to) {
      clear(quote, h("p", { class: "muted" }, t("book.quote_needs_points")));
      return;
    }
    const seq = ++quoteSeq;
    try {
      const { quote: q } = await post("/api/fares/quote", { pickup: from, destination: to, vehicle_class: vehicle.value,
        at: when.value === "later" ? pickupAt.value() : undefined });
      if (seq !== quoteSeq) return;
      clear(quote, h("table", { class: "fare-lines" }, q.lines.map((line) => h("tr", {},
        h("td", {}, lang() === "fa" ? line.label_fa : line.label_en), h("td", { class: "amount" }, money(line.amount_rials)))),
      h("tr", { class: "total" }, h("th", {}, t("book.quote")), h("th", { class: "amount total-amount" }, money(q.total_rials)))),
      h("p", { class: "muted" }, t("book.estimate", { distance: distance(q.distance_m), minutes: number(Math.max(1, Math.round(q.duration_s / 60))) })));
    } catch (err) {
      if (seq === quoteSeq) clear(quote, h("p", { class: "form-error" }, err.message));
    }
  }

  async function book() {
    message.textContent = "";
    const body = {
      pickup: pickup.value(), destination: destination.value() ?? undefined,
      passengers: Number(asciiDigits(passengers.value)) || 1, vehicle_class: vehicle.value,
      notes_for_driver: notes.value.trim() || undefined, call_id: card?.call?.id,
      pickup_at: when.value === "later" ? pickupAt.value() : undefined,
      confirm_duplicate: confirmDuplicate, confirm_blocked: confirmBlocked,
      ...(subscriber ? { subscriber_id: subscriber.id }
        : { walk_in_name: walkInName.value.trim(), walk_in_phone: asciiDigits(walkInPhone.value.trim()) }),
    };
    if (!body.pickup) {
      message.textContent = t("book.text");
      return;
    }
    submit.disabled = true;
    try {
      const { ride } = await post("/api/rides", body, { idempotencyKey: key });
      toast(t("book.booked", { id: digits(ride.id) }), "ok");
      if (card) {
        card.booked = [...(card.booked || []), ride];
        card.active_rides = [...(card.active_rides || []).filter((r) => r.id !== ride.id), ride];
      }
      onClose(ride);
    } catch (err) {
      if (err.code === "active_ride_exists") { confirmDuplicate = true; message.textContent = `${err.message} ${t("book.confirm_duplicate")}`; }
      else if (err.code === "subscriber_blocked") { confirmBlocked = true; message.textContent = `${err.message} ${t("book.confirm_blocked")}`; }
      else message.textContent = err.message;
      submit.disabled = false;
      submit.focus();
    }
  }

  return {
    el: form,
    focus() {
      const target = choice.newAddress || saved.length === 0 ? pickup.textInput
        : subscriber ? destination.select : walkInName.value ? pickup.select : walkInName;
      queueMicrotask(() => target.focus());
    },
  };
}

// A pickup or destination: a saved address (chosen by its number), a new typed one (optionally placed on the
// map), or for the destination, none.
function placeField(name, saved, initial, optional) {
  const select = h("select", { name: `${name}_choice` },
    optional ? h("option", { value: "" }, t("book.none")) : null,
    saved.map((a, i) => h("option", { value: a.id }, `${digits(i + 1)} · ${a.label ? `${a.label} — ` : ""}${a.full_text}`)),
    h("option", { value: NEW }, t("book.new_address")));
  select.value = String(initial);
  const textInput = h("input", { name: `${name}_text`, maxlength: 500 });
  const landmark = h("input", { name: `${name}_landmark`, maxlength: 300 });
  const picked = h("span", { class: "muted picked" });
  let point = null;
  const mapButton = h("button", { type: "button", class: "pick-on-map", onclick: () => pickOnMap() }, t("book.pick_on_map"));
  const typed = h("div", { class: "row new-place" }, h("label", { class: "grow" }, t("book.text"), textInput),
    h("label", { class: "grow" }, t("book.landmark"), landmark), mapButton, picked);
  const field = {
    el: h("fieldset", { class: `place place-${name}` }, h("legend", {}, t(`book.${name}`)), select, typed),
    select, textInput, onChange: () => {},
    value() {
      if (select.value === "") return null;
      if (select.value === NEW) {
        if (!textInput.value.trim()) return optional ? null : undefined;
        return { text: textInput.value.trim(), landmark: landmark.value.trim() || undefined,
          ...(point ? { lat: point.lat, lng: point.lng } : {}) };
      }
      return { address_id: Number(select.value) };
    },
    position() {
      if (select.value === NEW) return point;
      const a = saved.find((s) => String(s.id) === select.value);
      return a && a.lat !== null && a.lat !== undefined ? { lat: a.lat, lng: a.lng } : null;
    },
  };
  const sync = () => { typed.hidden = select.value !== NEW; field.onChange(); };
  select.addEventListener("change", () => { sync(); if (select.value === NEW) textInput.focus(); });
  select.addEventListener("keydown", (event) => {
    const digit = asciiDigits(event.key);
    if (!/^[0-9]$/.test(digit)) return;
    const index = Number(digit);
    if (index === 0 && optional) select.value = "";
    else if (saved[index - 1]) select.value = String(saved[index - 1].id);
    else return;
    event.preventDefault();
    sync();
  });
  textInput.addEventListener("change", () => field.onChange());
  sync();

  async function pickOnMap() {
    const { pickPlace } = await import("./place_picker.js");
    const chosen = await pickPlace(point);
    if (!chosen) return;
    point = chosen;
    picked.replaceChildren(ltr(`${chosen.lat.toFixed(5)}, ${chosen.lng.toFixed(5)}`), " ", t("book.picked"));
    field.onChange();
  }
  return field;
}
