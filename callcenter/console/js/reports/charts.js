// Charts for the report pages in plain SVG: a heatmap, horizontal bars, lines for trends, a cohort triangle, and a
// map of areas on js/map.js.
//
// Each chart is a <figure> to place beside a table holding the same figures; every mark carries its value in a
// <title>, so hovering shows it. In Persian the charts mirror as the page does: the first column (hour 0, the first
// week, month 0) stands on the right, labels and the value axis too, and bars grow leftwards; numbers come in
// Persian digits from the `format` the caller passes. Colours are colour-blind-safe: ColorBrewer's YlGnBu for
// amounts (light is little, dark is much) and the Okabe–Ito palette for series, which also differ by dash, and
// marked bars carry a sign as well as a colour.

import { h } from "../dom.js";
import { number } from "../format.js";
import { addStrings, lang, t } from "../i18n.js";
import { createMap, svg } from "../map.js";

addStrings({
  en: { "chart.empty": "Nothing to draw for this period." },
  fa: { "chart.empty": "برای این بازه چیزی برای نمایش نیست." },
});

const SEQUENTIAL = ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"];
const SERIES = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"];
const DASHES = ["", "7 4", "2 3", "9 3 2 3", "4 2", "1 2"];
const LIGHT_INK_FROM = 4; // shades this dark and darker take white text
const MARKS = { best: "★", worst: "▼" };
const MAX_LABEL = 24;
const MAX_X_LABELS = 12; // more would overlap: every second (third…) one is left out
const DOTS_UP_TO = 60; // a line with more points shows its dots only on hover

const rtl = () => lang() === "fa";
// Text runs in the page's direction, so Persian with digits reads right; anchors are given by side ("left",
// "right", "middle") and translated, since a right-to-left text's "start" is its right end.
function anchor(side) {
  if (side === "middle") return "middle";
  return (side === "left") !== rtl() ? "start" : "end";
}
const present = (v) => typeof v === "number" && Number.isFinite(v);
const node = (tag, attrs, ...children) => svg(tag, attrs, ...children.flat(Infinity).filter((c) => c !== null && c !== undefined));
const clip = (text) => (String(text).length > MAX_LABEL ? `${String(text).slice(0, MAX_LABEL - 1)}…` : String(text));

// The shade (index in SEQUENTIAL) of a value on a scale to `max`: 0 for nothing at all, 1.. for the rest; null for
// no value.
function shade(value, max) {
  if (!present(value)) return null;
  if (value <= 0 || max <= 0) return 0;
  return Math.min(SEQUENTIAL.length - 1, 1 + Math.floor((value / max) * (SEQUENTIAL.length - 1)));
}

// A round step for about four ticks up to `max`, and the top of the axis.
function axis(max, integer) {
  const rough = Math.max(max, 0) / 4 || 1;
  const power = 10 ** Math.floor(Math.log10(rough));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough);
  if (integer) step = Math.max(1, Math.round(step));
  return { step, top: Math.max(step, Math.ceil(max / step - 1e-9) * step) };
}

function nothing(name, label) {
  return figure(name, label, h("p", { class: "muted chart-empty" }, t("chart.empty")));
}

function figure(name, label, chart, ...below) {
  return h("figure", { class: "chart-figure", "data-chart": name }, chart, ...below,
    h("figcaption", { class: "visually-hidden" }, label));
}

// From little to much: the lowest value, the shades, the highest.
function scaleLegend(max, format) {
  return h("div", { class: "chart-legend scale", "aria-hidden": "true" }, h("span", {}, format(0)),
    SEQUENTIAL.map((colour) => h("span", { class: "swatch", style: { background: colour } })), h("span", {}, format(max)));
}

function seriesLegend(series) {
  return h("div", { class: "chart-legend" }, series.map((s, i) => h("span", { class: "legend-item" },
    node("svg", { class: "legend-line", viewBox: "0 0 28 8", width: 28, height: 8 },
      node("line", { x1: 1, x2: 27, y1: 4, y2: 4, stroke: SERIES[i % SERIES.length], "stroke-width": 2.5,
        "stroke-dasharray": DASHES[i % DASHES.length] || null })), s.label)));
}

// rows × cols of cells shaded by value: `value(rowKey, colKey)` a number or null, `tip(row, col, value)` the hover
// text, `cellAttrs(rowKey, colKey)` extra attributes for a cell's group.
export function heatmap({ name, label, rows, cols, value, format, tip, cellAttrs = () => ({}), max = null }) {
  const R = rtl();
  const LABEL_W = 74, HEAD_H = 20, CW = 38, CH = 28, GAP = 2;
  const W = LABEL_W + cols.length * CW, H = HEAD_H + rows.length * CH;
  const xAt = (i) => (R ? W - LABEL_W - (i + 1) * CW : LABEL_W + i * CW);
  const values = rows.map((r) => cols.map((c) => value(r.key, c.key)));
  const top = max ?? Math.max(0, ...values.flat().filter(present));
  const marks = [
    cols.map((c, i) => node("text", { class: "axis", x: xAt(i) + CW / 2, y: HEAD_H - 6, "text-anchor": "middle" }, c.label)),
    rows.map((r, j) => {
      const y = HEAD_H + j * CH;
      return [node("text", { class: "axis row-label", x: R ? W - LABEL_W + 6 : LABEL_W - 6, y: y + CH / 2 + 4,
        "text-anchor": anchor(R ? "left" : "right") }, r.label),
      cols.map((c, i) => {
        const v = values[j][i];
        const s = shade(v, top);
        return node("g", { class: `cell${s === null ? " empty" : ""}${s >= LIGHT_INK_FROM ? " dark" : ""}`,
          "data-value": present(v) ? v : "", ...cellAttrs(r.key, c.key) },
        node("rect", { x: xAt(i) + GAP / 2, y: y + GAP / 2, width: CW - GAP, height: CH - GAP, rx: 3,
          fill: s === null ? null : SEQUENTIAL[s] }),
        present(v) ? node("text", { x: xAt(i) + CW / 2, y: y + CH / 2 + 4, "text-anchor": "middle" }, format(v)) : null,
        node("title", {}, tip(r, c, v)));
      })];
    }),
  ];
  return figure(name, label, node("svg", { class: "chart heatmap", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img",
    direction: R ? "rtl" : "ltr", "aria-label": label }, marks), scaleLegend(top, format));
}

// Horizontal bars: items [{key, label, value, mark: "best" | "worst" | undefined}], longest for the largest value.
export function barChart({ name, label, items, format, tip = (item) => `${item.label}: ${format(item.value)}` }) {
  if (!items.length) return nothing(name, label);
  const R = rtl();
  const LABEL_W = 180, BAR_W = 420, VALUE_W = 120, ROW_H = 24;
  const W = LABEL_W + BAR_W + VALUE_W, H = Math.max(1, items.length) * ROW_H;
  const base = R ? W - LABEL_W : LABEL_W;
  const top = Math.max(0, ...items.map((i) => i.value).filter(present));
  const bars = items.map((item, j) => {
    const len = present(item.value) && item.value > 0 && top > 0 ? Math.max(2, (item.value / top) * BAR_W) : 0;
    const y = j * ROW_H;
    const mark = MARKS[item.mark] ? `${MARKS[item.mark]} ` : "";
    return node("g", { class: `bar${item.mark ? ` ${item.mark}` : ""}`, "data-key": item.key,
      "data-value": present(item.value) ? item.value : "" },
    node("text", { class: "axis", x: R ? base + 6 : base - 6, y: y + ROW_H / 2 + 4, "text-anchor": anchor(R ? "left" : "right") },
      `${mark}${clip(item.label)}`),
    node("rect", { x: R ? base - len : base, y: y + 4, width: len, height: ROW_H - 8, rx: 2 }),
    node("text", { class: "value", x: R ? base - len - 5 : base + len + 5, y: y + ROW_H / 2 + 4,
      "text-anchor": anchor(R ? "right" : "left") }, format(item.value)),
    node("title", {}, tip(item)));
  });
  return figure(name, label, node("svg", { class: "chart bars", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img",
    direction: R ? "rtl" : "ltr", "aria-label": label }, node("line", { class: "baseline", x1: base, x2: base, y1: 0, y2: H }), bars));
}

// Lines over evenly spaced x positions: `xLabels` (an empty string leaves a position unlabelled), `series`
// [{key, label, values}] with null for a gap, `tip(index, series, value)` the hover text of a point.
export function lineChart({ name, label, xLabels, series, format, tip, integer = false, width = 820 }) {
  if (!series.some((s) => s.values.some(present))) return nothing(name, label);
  const R = rtl();
  const W = width, H = 240, AXIS = 56, END = 32, TOP = 12, BOTTOM = 30;
  const n = xLabels.length;
  const plotW = W - AXIS - END;
  const step = n > 1 ? plotW / (n - 1) : 0;
  const offset = n > 1 ? 0 : plotW / 2;
  const xAt = (i) => (R ? W - AXIS - offset - i * step : AXIS + offset + i * step);
  const { step: yStep, top } = axis(Math.max(0, ...series.flatMap((s) => s.values).filter(present)), integer);
  const yAt = (v) => TOP + (1 - v / top) * (H - TOP - BOTTOM);
  const [left, right] = R ? [END, W - AXIS] : [AXIS, W - END];
  const grid = [];
  for (let v = 0; v <= top + 1e-9; v += yStep) {
    grid.push(node("line", { class: "grid", x1: left, x2: right, y1: yAt(v), y2: yAt(v) }),
      node("text", { class: "axis", x: R ? W - AXIS + 6 : AXIS - 6, y: yAt(v) + 4, "text-anchor": anchor(R ? "left" : "right") },
        format(v)));
  }
  const labelled = xLabels.filter(Boolean).length;
  const every = Math.ceil(labelled / MAX_X_LABELS);
  let seen = 0;
  const ticks = xLabels.map((text, i) => (text && seen++ % every === 0 ? node("text", { class: "axis", x: xAt(i), y: H - 10,
    "text-anchor": "middle" }, text) : null));
  const lines = series.map((s, k) => {
    let d = "";
    let pen = false;
    s.values.forEach((v, i) => {
      if (!present(v)) { pen = false; return; }
      d += `${pen ? "L" : "M"}${xAt(i).toFixed(1)} ${yAt(v).toFixed(1)}`;
      pen = true;
    });
    const colour = SERIES[k % SERIES.length];
    return node("g", { class: "series", "data-series": s.key },
      node("path", { d, fill: "none", stroke: colour, "stroke-width": 2, "stroke-dasharray": DASHES[k % DASHES.length] || null }),
      // Many points would bead the line: they stay invisible until hovered, and still carry their values.
      s.values.map((v, i) => (present(v) ? node("circle", { cx: xAt(i), cy: yAt(v), r: 3.5, fill: colour,
        class: n > DOTS_UP_TO ? "hover-only" : null, "data-index": i, "data-value": v }, node("title", {}, tip(i, s, v))) : null)));
  });
  return figure(name, label, node("svg", { class: "chart lines", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img",
    direction: R ? "rtl" : "ltr", "aria-label": label }, grid, node("line", { class: "baseline", x1: left, x2: right, y1: yAt(0), y2: yAt(0) }),
  ticks, lines), seriesLegend(series));
}

// Monthly cohorts: a row per cohort, its size, then the share of it active in month 0, 1, 2…; `head` names the
// first two columns, `cohortLabel(row)` and `tip(cohort, month, active)` word the rest.
export function cohortTriangle({ name, label, cohorts, head, cohortLabel, format, tip }) {
  if (!cohorts.length) return nothing(name, label);
  const R = rtl();
  const LABEL_W = 120, SIZE_W = 64, CW = 46, CH = 26, HEAD_H = 20, GAP = 2;
  const months = Math.max(1, ...cohorts.map((c) => c.active.length));
  const W = LABEL_W + SIZE_W + months * CW, H = HEAD_H + cohorts.length * CH;
  const at = (x, width) => (R ? W - x - width : x); // mirrored placement of a box [x, x + width)
  const mid = (x, width) => at(x, width) + width / 2;
  const cellX = (i) => LABEL_W + SIZE_W + i * CW;
  const marks = [
    node("text", { class: "axis", x: mid(0, LABEL_W), y: HEAD_H - 6, "text-anchor": "middle" }, head.cohort),
    node("text", { class: "axis", x: mid(LABEL_W, SIZE_W), y: HEAD_H - 6, "text-anchor": "middle" }, head.size),
    Array.from({ length: months }, (_, i) => node("text", { class: "axis", x: mid(cellX(i), CW), y: HEAD_H - 6,
      "text-anchor": "middle" }, number(i))),
    cohorts.map((c, j) => {
      const y = HEAD_H + j * CH;
      return node("g", { class: "cohort", "data-cohort": c.cohort },
        node("text", { class: "axis row-label", x: mid(0, LABEL_W), y: y + CH / 2 + 4, "text-anchor": "middle" },
          cohortLabel(c)),
        node("text", { class: "axis", x: mid(LABEL_W, SIZE_W), y: y + CH / 2 + 4, "text-anchor": "middle" }, number(c.size)),
        c.active.map((active, i) => {
          const rate = c.size ? active / c.size : null;
          const s = shade(rate, 1);
          return node("g", { class: `cell${s === null ? " empty" : ""}${s >= LIGHT_INK_FROM ? " dark" : ""}`,
            "data-month": i, "data-active": active },
            node("rect", { x: at(cellX(i), CW) + GAP / 2, y: y + GAP / 2, width: CW - GAP, height: CH - GAP, rx: 3,
              fill: s === null ? null : SEQUENTIAL[s] }),
            node("text", { x: mid(cellX(i), CW), y: y + CH / 2 + 4, "text-anchor": "middle" }, format(rate)),
            node("title", {}, tip(c, i, active)));
        }));
    }),
  ];
  return figure(name, label, node("svg", { class: "chart cohorts", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img",
    direction: R ? "rtl" : "ltr", "aria-label": label }, marks), scaleLegend(1, format));
}

// A map of areas, each a marker at its centre shaded by value: `draw([{id, lat, lng, label, value, tip}])`.
export function areaMap(container, { area, tilesUrl, format }) {
  const map = createMap(container, { area, tilesUrl });
  const legend = h("div", { class: "chart-legend scale", "aria-hidden": "true" });
  return {
    legend,
    draw(places) {
      const top = Math.max(0, ...places.map((p) => p.value).filter(present));
      const kind = (p) => `shade-${shade(p.value, top) ?? "none"}`;
      // Each zone or cell drawn as its outline filled with its shade, its marker at the centre for label and tip.
      map.setShapes("areas", places.filter((p) => p.polygon).map((p) => ({ id: p.id, points: p.polygon, title: p.tip,
        kind: kind(p) })));
      map.setMarkers("areas", places.map((p) => ({ id: p.id, lat: p.lat, lng: p.lng, label: p.label, title: p.tip,
        kind: kind(p) })));
      legend.replaceChildren(...scaleLegend(top, format).childNodes);
      // Framed to show every outline whole.
      map.fit(places.flatMap((p) => (p.polygon ? p.polygon.map(([lat, lng]) => ({ lat, lng })) : [p])));
    },
  };
}
