// Areas: revenue, rides, unserved demand and complaints per zone of the center or per cell of a hexagonal grid, on
// the map and in a table, to show where business is good and where more drivers or more oversight are needed.

import { h } from "../dom.js";
import { money, number } from "../format.js";
import { addStrings, t } from "../i18n.js";
import { areaMap } from "./charts.js";
import { card, count, toggles } from "./common.js";
import { dataTable } from "./table.js";

addStrings({
  en: {
    "reports.areas": "Areas", "areas.grid": "Areas", "areas.grid.zones": "The center's zones", "areas.grid.hex": "Hexagonal grid",
    "areas.measure": "Shade by", "areas.area": "Area", "areas.revenue_rials": "Revenue", "areas.rides": "Rides",
    "areas.completed": "Completed", "areas.unserved": "Unserved", "areas.complaints": "Complaints",
    "areas.tip": "{area}: {revenue}, {rides} rides ({completed} completed), {unserved} unserved, {complaints} complaints",
    "areas.map": "Areas shaded by {measure}",
  },
  fa: {
    "reports.areas": "مناطق", "areas.grid": "مناطق", "areas.grid.zones": "مناطق مرکز", "areas.grid.hex": "شبکهٔ شش‌ضلعی",
    "areas.measure": "رنگ بر پایهٔ", "areas.area": "منطقه", "areas.revenue_rials": "درآمد", "areas.rides": "سفر",
    "areas.completed": "انجام‌شده", "areas.unserved": "بی‌پاسخ‌مانده", "areas.complaints": "شکایت",
    "areas.tip": "{area}: {revenue}، {rides} سفر ({completed} انجام‌شده)، {unserved} بی‌پاسخ‌مانده، {complaints} شکایت",
    "areas.map": "مناطق به رنگ {measure}",
  },
});

const MEASURES = [["revenue_rials", money], ["rides", count], ["completed", count], ["unserved", count],
  ["complaints", count]];
const FORMAT = Object.fromEntries(MEASURES);

export default {
  id: "areas",
  title: "reports.areas",
  endpoint: "areas",
  create(ctx, reload) {
    let rows = [];
    const grid = toggles(t("areas.grid"), [["zones", t("areas.grid.zones")], ["hex", t("areas.grid.hex")]], "zones", reload);
    const measure = toggles(t("areas.measure"), MEASURES.map(([key]) => [key, t(`areas.${key}`)]), "revenue_rials",
      () => drawMap());
    const mapBox = h("div", { class: "report-map" });
    const caption = h("h3");
    const map = areaMap(mapBox, { area: ctx.config.service_area, tilesUrl: ctx.config.map_tiles_url || null,
      format: (v) => number(v) });
    const table = dataTable({ name: "areas", sort: { key: "revenue_rials", dir: -1 }, columns: [
      { key: "label", label: t("areas.area"), value: (r) => r.label },
      ...MEASURES.map(([key, format]) => ({ key, label: t(`areas.${key}`), num: true, value: (r) => r[key],
        cell: (r) => format(r[key]) })),
    ], rowAttrs: (r) => ({ "data-area": r.area }) });
    const el = h("div", { class: "report-view" },
      h("div", { class: "row report-controls" }, grid.el, h("span", { class: "muted" }, t("areas.measure")), measure.el),
      h("div", { class: "report-columns areas" },
        h("section", { class: "card report-card" }, caption, mapBox, map.legend),
        card(null, h("div", { class: "table-scroll" }, table.el))));

    const tip = (r) => t("areas.tip", { area: r.label, revenue: money(r.revenue_rials), rides: number(r.rides),
      completed: number(r.completed), unserved: number(r.unserved), complaints: number(r.complaints) });
    function drawMap() {
      const key = measure.value();
      caption.textContent = t("areas.map", { measure: t(`areas.${key}`) });
      map.draw(rows.map((r) => ({ id: r.area, lat: r.lat, lng: r.lng, polygon: r.polygon, label: r.label, value: r[key],
        tip: tip(r) })));
    }
    return {
      el,
      params: () => ({ grid: grid.value() }),
      render(data) {
        rows = data.rows || [];
        table.set(rows);
        drawMap();
      },
    };
  },
};
