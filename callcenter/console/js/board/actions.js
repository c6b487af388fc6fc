// What a dispatcher does to a ride from the board: assign a driver by hand, send it to drivers again, cancel it,
// change its pickup or destination. Each asks the API and resolves with the changed ride (or null if dismissed);
// the board also hears the change on the live connection.

import { get, patch, post } from "../api.js";
import { clear, h, ltr, openDialog, toast } from "../dom.js";
import { asciiDigits, digits, distance, time } from "../format.js";
import { addStrings, t } from "../i18n.js";

addStrings({
  en: {
    "board.assign": "Assign", "board.assign.title": "Assign a driver to ride {id}",
    "board.assign.nearby": "Available drivers near the pickup, nearest first",
    "board.assign.none": "No driver is near the pickup right now.",
    "board.assign.noPosition": "The pickup has no position on the map, so nearby drivers cannot be found.",
    "board.assign.byNumber": "Driver number", "board.assign.reason": "Note for the history (optional)",
    "board.assign.done": "Ride {id} assigned to {driver}.", "board.assign.refresh": "Look again",
    "board.assign.keys": "Press 1–9 to assign the driver on that line.",
    "board.col.driver": "Driver", "board.col.distance": "Distance", "board.col.status": "Status",
    "board.col.class": "Car", "board.col.seen": "Last seen", "board.col.note": "Note",
    "board.retry": "Retry", "board.release": "Dispatch now", "board.retry.done": "Ride {id} is being offered again.",
    "board.cancelRide": "Cancel ride", "board.cancel.title": "Cancel ride {id}", "board.cancel.reason": "Reason",
    "board.cancel.confirm": "Cancel the ride", "board.cancel.done": "Ride {id} cancelled.",
    "board.cancel.needReason": "Say why the ride is cancelled.",
    "board.cancel.r.customer": "The customer cancelled", "board.cancel.r.duplicate": "Booked twice",
    "board.cancel.r.noDriver": "No driver available", "board.cancel.r.unreachable": "The customer cannot be reached",
    "board.route": "Change route", "board.route.title": "Change the route of ride {id}",
    "board.route.pickup": "Pickup", "board.route.destination": "Destination", "board.route.saved": "Saved address",
    "board.route.typed": "— typed address —", "board.route.text": "Address", "board.route.landmark": "Landmark",
    "board.route.lat": "Latitude", "board.route.lng": "Longitude", "board.route.save": "Save the route",
    "board.route.nothing": "Nothing was changed.", "board.route.done": "The route of ride {id} was changed.",
    "board.route.bothCoords": "Give both latitude and longitude, or neither.",
    "board.class.sedan": "sedan", "board.class.van": "van", "board.class.luxury": "luxury",
    "board.driver.available": "available", "board.driver.busy": "busy", "board.driver.on_break": "on a break",
    "board.driver.offline": "offline", "board.driver.unreachable": "unreachable",
    "board.why.suspended": "suspended", "board.why.wrong_class": "other car class",
    "board.why.not_available": "not available",
    "board.why.on_a_ride": "on a ride", "board.why.on_another_offer": "holding another offer",
    "board.why.stale_position": "position out of date", "board.why.declined_before": "declined this ride",
    "board.why.already_offered": "already offered it", "board.why.too_far": "far away",
  },
  fa: {
    "board.assign": "واگذاری", "board.assign.title": "واگذاری سفر {id} به راننده",
    "board.assign.nearby": "رانندگان نزدیک مبدأ، نزدیک‌ترین اول",
    "board.assign.none": "اکنون راننده‌ای نزدیک مبدأ نیست.",
    "board.assign.noPosition": "مبدأ روی نقشه مشخص نیست؛ رانندگان نزدیک پیدا نمی‌شوند.",
    "board.assign.byNumber": "شمارهٔ راننده", "board.assign.reason": "یادداشت برای سابقه (اختیاری)",
    "board.assign.done": "سفر {id} به {driver} واگذار شد.", "board.assign.refresh": "جستجوی دوباره",
    "board.assign.keys": "با کلید ۱ تا ۹ سفر را به رانندهٔ همان ردیف بدهید.",
    "board.col.driver": "راننده", "board.col.distance": "فاصله", "board.col.status": "وضعیت",
    "board.col.class": "خودرو", "board.col.seen": "آخرین حضور", "board.col.note": "توضیح",
    "board.retry": "تلاش دوباره", "board.release": "اعزام همین حالا",
    "board.retry.done": "سفر {id} دوباره به رانندگان پیشنهاد می‌شود.",
    "board.cancelRide": "لغو سفر", "board.cancel.title": "لغو سفر {id}", "board.cancel.reason": "دلیل",
    "board.cancel.confirm": "سفر لغو شود", "board.cancel.done": "سفر {id} لغو شد.",
    "board.cancel.needReason": "دلیل لغو سفر را بنویسید.",
    "board.cancel.r.customer": "مسافر منصرف شد", "board.cancel.r.duplicate": "دو بار ثبت شده",
    "board.cancel.r.noDriver": "راننده‌ای نبود", "board.cancel.r.unreachable": "دسترسی به مسافر ممکن نیست",
    "board.route": "تغییر مسیر", "board.route.title": "تغییر مسیر سفر {id}",
    "board.route.pickup": "مبدأ", "board.route.destination": "مقصد", "board.route.saved": "نشانی ذخیره‌شده",
    "board.route.typed": "— نشانی تایپی —", "board.route.text": "نشانی", "board.route.landmark": "نشانه",
    "board.route.lat": "عرض جغرافیایی", "board.route.lng": "طول جغرافیایی", "board.route.save": "ذخیرهٔ مسیر",
    "board.route.nothing": "چیزی تغییر نکرد.", "board.route.done": "مسیر سفر {id} تغییر کرد.",
    "board.route.bothCoords": "عرض و طول جغرافیایی را با هم بدهید، یا هیچ‌کدام.",
    "board.class.sedan": "سواری", "board.class.van": "ون", "board.class.luxury": "تشریفات",
    "board.driver.available": "آماده", "board.driver.busy": "مشغول", "board.driver.on_break": "در استراحت",
    "board.driver.offline": "خاموش", "board.driver.unreachable": "بی‌پاسخ",
    "board.why.suspended": "تعلیق شده", "board.why.wrong_class": "خودروی دیگر", "board.why.not_available": "آماده نیست",
    "board.why.on_a_ride": "در سفر", "board.why.on_another_offer": "پیشنهاد دیگری دارد",
    "board.why.stale_position": "موقعیت قدیمی", "board.why.declined_before": "این سفر را رد کرده",
    "board.why.already_offered": "قبلاً پیشنهاد شده", "board.why.too_far": "دور است",
  },
});

// The server refuses these drivers; anyone else the dispatcher may choose, knowing why matching did not.
const REFUSED = new Set(["suspended", "on_a_ride"]);

export const rideIdText = (id) => ltr(`#${digits(id)}`, "ride-id");

function errorLine() {
  return h("p", { class: "form-error", role: "alert" });
}

// Choose one of the drivers near the pickup (or type a driver's number) and give them the ride.
export function assignRide(ride) {
  return new Promise((resolve) => {
    let done = null;
    const message = errorLine();
    const list = h("div", { class: "nearby-list" }, h("p", { class: "muted" }, t("loading")));
    const reason = h("input", { name: "reason", maxlength: 500, autocomplete: "off" });
    const number = h("input", { name: "driver_id", inputmode: "numeric", dir: "ltr", size: 8, autocomplete: "off" });
    let buttons = [];

    async function assign(driverId, label) {
      message.textContent = "";
      try {
        const body = { driver_id: driverId };
        if (reason.value.trim()) body.reason = reason.value.trim();
        done = (await post(`/api/rides/${ride.id}/assign`, body)).ride;
        toast(t("board.assign.done", { id: digits(ride.id), driver: label }), "ok");
        close();
      } catch (err) {
        message.textContent = err.message;
      }
    }

    async function load() {
      clear(list, h("p", { class: "muted" }, t("loading")));
      try {
        const { drivers } = await get(`/api/rides/${ride.id}/nearby-drivers`);
        buttons = [];
        const rows = drivers.map((d, index) => {
          const label = `${d.name} (#${d.driver_id})`;
          const button = h("button", { type: "button", class: d.can_take ? "primary assign-driver" : "assign-driver",
            disabled: REFUSED.has(d.why_not), "data-driver-id": d.driver_id,
            onclick: () => assign(d.driver_id, label) },
          t("board.assign"), index < 9 ? h("kbd", {}, digits(index + 1)) : null);
          buttons.push(button);
          return h("tr", { class: d.can_take ? "can-take" : "cannot-take", "data-driver-id": d.driver_id },
            h("td", {}, d.name, " ", ltr(`#${digits(d.driver_id)}`, "muted")),
            h("td", { class: "distance" }, distance(d.distance_m)),
            h("td", {}, t(`board.driver.${d.status}`)),
            h("td", {}, t(`board.class.${d.vehicle_class}`)),
            h("td", {}, time(d.last_seen)),
            h("td", { class: "muted" }, d.why_not ? t(`board.why.${d.why_not}`) : ""),
            h("td", {}, button));
        });
        const none = ride.pickup.lat == null ? "board.assign.noPosition" : "board.assign.none";
        clear(list, rows.length ? h("table", { class: "nearby" },
          h("thead", {}, h("tr", {}, ["driver", "distance", "status", "class", "seen", "note"].map((c) =>
            h("th", {}, t(`board.col.${c}`))), h("th", {}))),
          h("tbody", {}, rows)) : h("p", { class: "muted empty-nearby" }, t(none)));
        (buttons.find((b) => !b.disabled) || number).focus();
      } catch (err) {
        clear(list, h("p", { class: "form-error" }, err.message));
      }
    }

    const onKey = (event) => {
      if (event.target instanceof HTMLInputElement || !/^[1-9]$/.test(asciiDigits(event.key))) return;
      const button = buttons[Number(asciiDigits(event.key)) - 1];
      if (button && !button.disabled) { event.preventDefault(); button.click(); }
    };
    const content = h("div", { class: "board-dialog assign-dialog", onkeydown: onKey },
      h("p", {}, rideIdText(ride.id), " · ", ride.pickup.text),
      h("div", { class: "row" }, h("h3", {}, t("board.assign.nearby")), h("span", { style: { flex: 1 } }),
        h("button", { type: "button", onclick: load }, t("board.assign.refresh"))),
      list,
      h("p", { class: "muted small" }, t("board.assign.keys")),
      h("form", { class: "row by-number", onsubmit: (event) => {
        event.preventDefault();
        const id = Number(asciiDigits(number.value.trim()));
        if (Number.isInteger(id) && id > 0) assign(id, `#${id}`);
      } }, h("label", {}, t("board.assign.byNumber"), number),
      h("label", { class: "grow" }, t("board.assign.reason"), reason),
      h("button", { type: "submit" }, t("board.assign"))),
      message);
    const close = openDialog(t("board.assign.title", { id: digits(ride.id) }), content,
      { wide: true, onClose: () => resolve(done) });
    load();
  });
}

// Send an unassigned ride to drivers again now, or a pre-booking to dispatch early.
export async function retryRide(ride) {
  try {
    const { ride: changed } = await post(`/api/rides/${ride.id}/retry`);
    toast(t("board.retry.done", { id: digits(ride.id) }), "ok");
    return changed;
  } catch (err) {
    toast(err.message, "error");
    return null;
  }
}

const QUICK_REASONS = ["customer", "duplicate", "noDriver", "unreachable"];

// Cancel a ride, saying why (the reason is kept in its history and told to the driver).
export function cancelRide(ride) {
  return new Promise((resolve) => {
    let done = null;
    const message = errorLine();
    const reason = h("textarea", { name: "reason", rows: 2, maxlength: 500, required: true });
    const form = h("form", { class: "board-dialog cancel-dialog", novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      const text = reason.value.trim();
      if (!text) { message.textContent = t("board.cancel.needReason"); reason.focus(); return; }
      try {
        done = (await post(`/api/rides/${ride.id}/cancel`, { reason: text })).ride;
        toast(t("board.cancel.done", { id: digits(ride.id) }), "ok");
        close();
      } catch (err) {
        message.textContent = err.message;
      }
    } },
    h("p", {}, rideIdText(ride.id), " · ", ride.pickup.text),
    h("div", { class: "row quick-reasons" }, QUICK_REASONS.map((key) => h("button", { type: "button", class: "chip",
      onclick: () => { reason.value = t(`board.cancel.r.${key}`); reason.focus(); } }, t(`board.cancel.r.${key}`)))),
    h("label", {}, t("board.cancel.reason"), reason),
    message,
    h("div", { class: "row" }, h("button", { type: "submit", class: "danger" }, t("board.cancel.confirm"))));
    const close = openDialog(t("board.cancel.title", { id: digits(ride.id) }), form, { onClose: () => resolve(done) });
    reason.focus();
  });
}

// One end of the route as a form: a saved address of the subscriber, or typed text with an optional position.
function placeFields(name, place, addresses) {
  const text = h("input", { name: `${name}.text`, value: place?.text || "", maxlength: 300, autocomplete: "off" });
  const landmark = h("input", { name: `${name}.landmark`, value: place?.landmark || "", maxlength: 200,
    autocomplete: "off" });
  const coord = (which) => h("input", { name: `${name}.${which}`, value: place?.[which] ?? "", inputmode: "decimal",
    dir: "ltr", size: 10, autocomplete: "off" });
  const lat = coord("lat"), lng = coord("lng");
  const saved = addresses.length ? h("select", { name: `${name}.address`, onchange: () => {
    const chosen = addresses.find((a) => String(a.id) === saved.value);
    if (!chosen) return;
    text.value = chosen.full_text;
    landmark.value = chosen.landmark || "";
    lat.value = chosen.lat ?? "";
    lng.value = chosen.lng ?? "";
  } }, h("option", { value: "" }, t("board.route.typed")),
  addresses.map((a) => h("option", { value: a.id, selected: a.id === place?.address_id }, `${a.label}: ${a.full_text}`)))
    : null;
  const fieldset = h("fieldset", { class: `place-fields place-${name}` }, h("legend", {}, t(`board.route.${name}`)),
    saved && h("label", {}, t("board.route.saved"), saved),
    h("label", {}, t("board.route.text"), text), h("label", {}, t("board.route.landmark"), landmark),
    h("div", { class: "row" }, h("label", {}, t("board.route.lat"), lat), h("label", {}, t("board.route.lng"), lng)));

  // The place as the API wants it, or undefined when it is as it was.
  function value() {
    // Persian digits and the Persian decimal separator are read as well.
    const number = (input) => (input.value.trim() === "" ? null
      : Number(asciiDigits(input.value.trim()).replace("٫", ".")));
    const asked = { text: text.value.trim(), landmark: landmark.value.trim() || null, lat: number(lat),
      lng: number(lng) };
    if ((asked.lat === null) !== (asked.lng === null) || Number.isNaN(asked.lat) || Number.isNaN(asked.lng)) {
      throw new Error(t("board.route.bothCoords"));
    }
    const chosen = saved && addresses.find((a) => String(a.id) === saved.value);
    if (chosen && chosen.full_text === asked.text) {
      return chosen.id === place?.address_id ? undefined : { address_id: chosen.id };
    }
    const same = place && place.text === asked.text && (place.landmark || null) === asked.landmark
      && (place.lat ?? null) === asked.lat && (place.lng ?? null) === asked.lng;
    if (same || (!place && !asked.text)) return undefined;
    return asked;
  }
  return { fieldset, value, focus: () => text.focus() };
}

// Change the pickup or destination before the passenger is aboard; the quote follows the new route.
export async function changeRoute(ride, names) {
  let addresses = [];
  if (ride.subscriber_id != null) {
    try { addresses = (await names.subscriberRecord(ride.subscriber_id)).addresses || []; } catch { /* typed only */ }
  }
  return new Promise((resolve) => {
    let done = null;
    const message = errorLine();
    const pickup = placeFields("pickup", ride.pickup, addresses);
    const destination = placeFields("destination", ride.destination, addresses);
    const form = h("form", { class: "board-dialog route-dialog", onsubmit: async (event) => {
      event.preventDefault();
      message.textContent = "";
      const body = {};
      try {
        const p = pickup.value(), d = destination.value();
        if (p) body.pickup = p;
        if (d) body.destination = d;
      } catch (err) {
        message.textContent = err.message;
        return;
      }
      if (!Object.keys(body).length) { message.textContent = t("board.route.nothing"); return; }
      try {
        done = (await patch(`/api/rides/${ride.id}/route`, body)).ride;
        toast(t("board.route.done", { id: digits(ride.id) }), "ok");
        close();
      } catch (err) {
        message.textContent = err.message;
      }
    } },
    h("div", { class: "grid2" }, pickup.fieldset, destination.fieldset),
    message,
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, t("board.route.save"))));
    const close = openDialog(t("board.route.title", { id: digits(ride.id) }), form,
      { wide: true, onClose: () => resolve(done) });
    destination.focus(); // What callers change most.
  });
}
