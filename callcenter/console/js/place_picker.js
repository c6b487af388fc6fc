// Pick a place on the map in a dialog: click to drop the pin, Enter or the button to take it, Esc to give up.

import { get } from "./api.js";
import { h, openDialog } from "./dom.js";
import { addStrings, t } from "./i18n.js";
import { createMap } from "./map.js";

addStrings({
  en: { "picker.title": "Pick the place on the map", "picker.use": "Use this place", "picker.hint": "Click the map to place the pin." },
  fa: { "picker.title": "انتخاب مکان روی نقشه", "picker.use": "همین مکان", "picker.hint": "برای گذاشتن نشانگر روی نقشه کلیک کنید." },
});

let config;

export async function pickPlace(initial = null) {
  config ??= await get("/api/console/config");
  return new Promise((resolve) => {
    let point = initial;
    let done = false;
    const box = h("div", { class: "picker-map", style: { width: "min(80vw, 760px)", height: "60vh" } });
    const use = h("button", { type: "button", class: "primary", disabled: !point, onclick: () => finish(point) }, t("picker.use"));
    const close = openDialog(t("picker.title"), h("div", {}, box, h("div", { class: "row" },
      h("span", { class: "muted" }, t("picker.hint")), h("span", { style: { flex: 1 } }), use)),
    { onClose: () => { map.destroy(); if (!done) resolve(null); } });
    const map = createMap(box, { area: config.service_area, tilesUrl: config.map_tiles_url });
    const show = () => map.setMarkers("pin", point ? [{ id: "pin", lat: point.lat, lng: point.lng, kind: "pickup" }] : []);
    map.onClick((lat, lng) => { point = { lat, lng }; use.disabled = false; show(); });
    show();
    function finish(chosen) {
      done = true;
      resolve(chosen);
      close();
    }
  });
}
