// A map of the service area that needs no internet: markers on a Web-Mercator SVG with a grid and a scale bar,
// over a tile server's tiles when one is configured.
//
//   const map = createMap(container, { area: {south, west, north, east}, tilesUrl });
//   map.setMarkers("drivers", [{ id, lat, lng, kind, label, title }]);  // one call per layer replaces it
//   map.setShapes("areas", [{ id, points: [[lat, lng], ...], kind, title }]);  // filled polygons under the markers
//   map.onClick((lat, lng) => ...);        // a click (not a drag) on the map: pick a place
//   map.onMarkerClick((marker, layer) => ...);
//   map.fit();  map.fit([{lat, lng}, ...]);  map.panTo(lat, lng);  map.destroy();
//
// `kind` picks a marker's shape and colour ("available", "busy", "on_break", "offline", "unreachable", "pickup",
// "destination"; see css/map.css, whose `.kind-<kind>` classes pages may reuse for legends); `label` is the short
// text beside it, `title` its tooltip; `selected: true` rings it and draws it on top. Pan by dragging or the arrow
// keys, zoom with the wheel, a pinch, +/- or the buttons. Without tiles the map is drawn from the service area
// alone, so it works with no network at all.

import { h, loadCss } from "./dom.js";
import { distance, number } from "./format.js";
import { addStrings, t } from "./i18n.js";

addStrings({
  en: { "map.label": "Map", "map.zoom_in": "Zoom in", "map.zoom_out": "Zoom out", "map.fit": "Show the whole area" },
  fa: { "map.label": "نقشه", "map.zoom_in": "بزرگ‌نمایی", "map.zoom_out": "کوچک‌نمایی", "map.fit": "نمایش کل محدوده" },
});

const SVG_NS = "http://www.w3.org/2000/svg";
const TILE = 256; // pixels of a tile; world coordinates run 0..1, so one world is TILE * 2^zoom pixels wide
const MAX_ZOOM = 19;
const EARTH_CIRCUMFERENCE_M = 40075016.686;
const PAD = 24; // pixels kept free around what fit() shows
const CLICK_SLOP = 5; // a press that moves less than this is a click, not a drag
const KEY_PAN = 80;
const GRID_STEPS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];
const SCALE_MAX_PX = 110;
// The shape of each kind of marker; any other kind is a dot. Shapes are drawn with their anchor at (0, 0).
const SHAPES = {
  dot: { body: () => svg("circle", { r: 7 }), label: [11, 4] },
  pin: {
    body: () => svg("g", {}, svg("path", { d: "M0 0C-2-6-9-10-9-17A9 9 0 1 1 9-17C9-10 2-6 0 0Z" }),
      svg("circle", { class: "hole", cy: -17, r: 3.5 })),
    label: [12, -13],
  },
  flag: {
    body: () => svg("g", {}, svg("path", { class: "pole", d: "M0 0V-24" }), svg("path", { d: "M0-24L15-18.5L0-13Z" })),
    label: [17, -14],
  },
};
const SHAPE_OF_KIND = { pickup: "pin", destination: "flag" };

// Web Mercator: latitude/longitude to world coordinates in 0..1, and back.
export function project(lat, lng) {
  const sin = Math.sin((Math.max(-85.05, Math.min(85.05, lat)) * Math.PI) / 180);
  return { x: (lng + 180) / 360, y: 0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI) };
}

export function unproject(x, y) {
  return { lat: (Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180) / Math.PI, lng: x * 360 - 180 };
}

// An SVG element with attributes (null and undefined ones left out) and children; report charts use it too.
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) el.setAttribute(name, value);
  }
  el.append(...children);
  return el;
}

function tileUrl(template, z, x, y) {
  const values = { z, x, y, s: "abc"[(x + y) % 3], r: "" }; // {s}: a subdomain; {r}: no high-resolution tiles
  return template.replace(/\{([zxysr])\}/g, (_, name) => values[name]);
}

export function createMap(container, { area, tilesUrl = null, attribution } = {}) {
  loadCss("/console/css/map.css");
  const northWest = project(area.north, area.west), southEast = project(area.south, area.east);
  const box = { x: northWest.x, y: northWest.y, x1: southEast.x, y1: southEast.y }; // the service area, world units

  const gGrid = svg("g", { class: "map-grid" });
  const gTiles = svg("g", { class: "map-tiles" });
  const areaRect = svg("rect", { class: "map-area" });
  const gShapes = svg("g", { class: "map-shapes" });
  const gMarkers = svg("g", { class: "map-markers" });
  const surface = svg("svg", { class: "map-svg" }, gTiles, areaRect, gGrid, gShapes, gMarkers);
  const scaleBar = h("span", { class: "map-scale-bar" });
  const scaleText = h("span", { class: "map-scale-text" });
  const button = (text, label, fn) => h("button", { type: "button", "aria-label": label, title: label, onclick: fn }, text);
  const credit = attribution ?? (/openstreetmap/i.test(tilesUrl || "") ? "© OpenStreetMap contributors" : "");
  const root = h("div", { class: `map${tilesUrl ? " has-tiles" : ""}`, tabindex: 0, role: "region",
    "aria-roledescription": t("map.label"), "aria-label": t("map.label") },
  surface,
  h("div", { class: "map-controls" },
    button("+", t("map.zoom_in"), () => zoomAt(size.width / 2, size.height / 2, 1)),
    button("−", t("map.zoom_out"), () => zoomAt(size.width / 2, size.height / 2, -1)),
    button("⤢", t("map.fit"), () => fit())),
  h("div", { class: "map-scale", "aria-hidden": "true" }, scaleBar, scaleText),
  tilesUrl && credit ? h("div", { class: "map-credit" }, credit) : null);
  container.append(root);

  const view = { x: (box.x + box.x1) / 2, y: (box.y + box.y1) / 2, zoom: 10 };
  const size = { width: 0, height: 0 };
  const layers = new Map(); // layer name -> {group, items: [{marker, el, x, y}]}
  const shapeLayers = new Map(); // layer name -> {group, items: [{el, xy: [[x, y], ...]}]}
  const tiles = new Map(); // "z/x/y" -> <image>
  const clickHandlers = new Set();
  const markerHandlers = new Set();
  // What the last fit() showed, until the user moves the map: a resize shows it again (the first size a page
  // gets may be before its style sheet arrives).
  let fitted = [];
  let minZoom = 2;
  let frame = 0;

  const scale = () => TILE * 2 ** view.zoom;
  const toScreen = (x, y) => [(x - view.x) * scale() + size.width / 2, (y - view.y) * scale() + size.height / 2];
  const toWorld = (px, py) => [view.x + (px - size.width / 2) / scale(), view.y + (py - size.height / 2) / scale()];
  const schedule = () => { frame ||= requestAnimationFrame(render); };

  function render() {
    frame = 0;
    if (!size.width || !size.height) return;
    surface.setAttribute("viewBox", `0 0 ${size.width} ${size.height}`);
    root.dataset.zoom = view.zoom.toFixed(2);
    drawGrid();
    drawTiles();
    const [ax, ay] = toScreen(box.x, box.y), [bx, by] = toScreen(box.x1, box.y1);
    Object.entries({ x: ax, y: ay, width: bx - ax, height: by - ay }).forEach(([k, v]) => areaRect.setAttribute(k, v));
    for (const { items } of shapeLayers.values()) for (const item of items) placeShape(item);
    for (const { items } of layers.values()) for (const item of items) place(item);
    drawScale();
  }

  function drawGrid() {
    const [x0, y0] = toWorld(0, 0), [x1, y1] = toWorld(size.width, size.height);
    const topLeft = unproject(x0, y0), bottomRight = unproject(x1, y1);
    const pxPerDegree = scale() / 360;
    const step = GRID_STEPS.find((s) => s * pxPerDegree >= 90) ?? GRID_STEPS.at(-1);
    const decimals = Math.max(0, -Math.floor(Math.log10(step)));
    const lines = [];
    for (let lng = Math.ceil(topLeft.lng / step) * step; lng <= bottomRight.lng; lng += step) {
      const [sx] = toScreen(project(0, lng).x, 0);
      lines.push(svg("line", { x1: sx, x2: sx, y1: 0, y2: size.height }),
        svg("text", { x: sx + 3, y: 12 }, number(+lng.toFixed(decimals))));
    }
    for (let lat = Math.ceil(bottomRight.lat / step) * step; lat <= topLeft.lat; lat += step) {
      const [, sy] = toScreen(0, project(lat, 0).y);
      lines.push(svg("line", { x1: 0, x2: size.width, y1: sy, y2: sy }),
        svg("text", { x: 3, y: sy - 3 }, number(+lat.toFixed(decimals))));
    }
    gGrid.replaceChildren(...lines);
  }

  function drawTiles() {
    if (!tilesUrl) return;
    const z = Math.max(0, Math.min(MAX_ZOOM, Math.round(view.zoom)));
    const n = 2 ** z;
    const tileSize = TILE * 2 ** (view.zoom - z);
    const [x0, y0] = toWorld(0, 0), [x1, y1] = toWorld(size.width, size.height);
    const wanted = new Set();
    for (let ty = Math.max(0, Math.floor(y0 * n)); ty <= Math.min(n - 1, Math.floor(y1 * n)); ty++) {
      for (let tx = Math.floor(x0 * n); tx <= Math.floor(x1 * n); tx++) {
        const key = `${z}/${tx}/${ty}`;
        wanted.add(key);
        let image = tiles.get(key);
        if (!image) {
          image = svg("image", { class: "map-tile", href: tileUrl(tilesUrl, z, ((tx % n) + n) % n, ty),
            preserveAspectRatio: "none" });
          image.addEventListener("error", () => image.classList.add("failed"));
          tiles.set(key, image);
          gTiles.append(image);
        }
        const [sx, sy] = toScreen(tx / n, ty / n);
        // Half a pixel of overlap hides the seams between neighbouring tiles.
        for (const [k, v] of Object.entries({ x: sx, y: sy, width: tileSize + 0.5, height: tileSize + 0.5 })) {
          image.setAttribute(k, v);
        }
      }
    }
    for (const [key, image] of tiles) if (!wanted.has(key)) { image.remove(); tiles.delete(key); }
  }

  function drawScale() {
    const metresPerPx = (EARTH_CIRCUMFERENCE_M * Math.cos((unproject(view.x, view.y).lat * Math.PI) / 180)) / scale();
    const most = SCALE_MAX_PX * metresPerPx;
    const power = 10 ** Math.floor(Math.log10(most));
    const metres = [5, 2, 1].map((m) => m * power).find((m) => m <= most);
    scaleBar.style.width = `${Math.round(metres / metresPerPx)}px`;
    scaleText.textContent = distance(metres);
  }

  function place(item) {
    const [sx, sy] = toScreen(item.x, item.y);
    item.el.setAttribute("transform", `translate(${sx.toFixed(1)} ${sy.toFixed(1)})`);
  }

  function placeShape(item) {
    item.el.setAttribute("points", item.xy.map(([x, y]) => toScreen(x, y).map((v) => v.toFixed(1)).join(",")).join(" "));
  }

  // A layer of filled polygons (zones, grid cells), coloured by their `kind` like markers (`.kind-<kind>`).
  function setShapes(layer, shapes) {
    if (!shapeLayers.has(layer)) {
      shapeLayers.set(layer, { group: gShapes.appendChild(svg("g", { "data-layer": layer })), items: [] });
    }
    const entry = shapeLayers.get(layer);
    entry.items = (shapes || []).filter((s) => s.points?.length >= 3).map((shape) => {
      const el = svg("polygon", { class: `map-shape kind-${shape.kind || "default"}`, "data-id": shape.id,
        "data-layer": layer }, shape.title ? svg("title", {}, String(shape.title)) : null);
      const item = { el, xy: shape.points.map(([lat, lng]) => { const p = project(lat, lng); return [p.x, p.y]; }) };
      placeShape(item);
      return item;
    });
    entry.group.replaceChildren(...entry.items.map((item) => item.el));
  }

  function setMarkers(layer, markers) {
    if (!layers.has(layer)) {
      layers.set(layer, { group: gMarkers.appendChild(svg("g", { "data-layer": layer })), items: [] });
    }
    const entry = layers.get(layer);
    entry.items = (markers || []).filter((m) => Number.isFinite(m.lat) && Number.isFinite(m.lng)).map((marker) => {
      const kind = marker.kind || "default";
      const shape = SHAPES[SHAPE_OF_KIND[kind] || "dot"];
      const body = shape.body();
      body.classList.add("body");
      const el = svg("g", { class: `map-marker kind-${kind}${marker.selected ? " selected" : ""}`,
        "data-id": marker.id, "data-kind": kind, "data-layer": layer }, body);
      if (marker.label) el.append(svg("text", { x: shape.label[0], y: shape.label[1] }, String(marker.label)));
      if (marker.title) el.append(svg("title", {}, String(marker.title)));
      const { x, y } = project(marker.lat, marker.lng);
      const item = { marker, el, x, y };
      place(item);
      return item;
    });
    const order = (item) => (item.marker.selected ? 1 : 0);
    entry.group.replaceChildren(...[...entry.items].sort((a, b) => order(a) - order(b)).map((item) => item.el));
  }

  function zoomAt(px, py, delta) {
    const [wx, wy] = toWorld(px, py);
    view.zoom = Math.max(minZoom, Math.min(MAX_ZOOM, view.zoom + delta));
    view.x = wx - (px - size.width / 2) / scale();
    view.y = wy - (py - size.height / 2) / scale();
    fitted = null;
    keepNearArea();
    schedule();
  }

  function panBy(dx, dy) {
    view.x -= dx / scale();
    view.y -= dy / scale();
    fitted = null;
    keepNearArea();
    schedule();
  }

  // The view's centre never strays more than one service area's width or height outside it.
  function keepNearArea() {
    const w = box.x1 - box.x, hgt = box.y1 - box.y;
    view.x = Math.max(box.x - w, Math.min(box.x1 + w, view.x));
    view.y = Math.max(box.y - hgt, Math.min(box.y1 + hgt, view.y));
  }

  function zoomToShow(x0, y0, x1, y1) {
    const span = Math.max((x1 - x0) * TILE / Math.max(1, size.width - 2 * PAD),
      (y1 - y0) * TILE / Math.max(1, size.height - 2 * PAD));
    return span > 0 ? -Math.log2(span) : MAX_ZOOM;
  }

  // Show the whole service area, or the given places ([{lat, lng}]) when there are any.
  function fit(points) {
    const places = (points || []).filter((p) => Number.isFinite(p?.lat) && Number.isFinite(p?.lng));
    fitted = places;
    if (!size.width || !size.height) return;
    minZoom = Math.max(2, zoomToShow(box.x, box.y, box.x1, box.y1) - 3);
    let [x0, y0, x1, y1] = [box.x, box.y, box.x1, box.y1];
    if (places.length) {
      const xy = places.map((p) => project(p.lat, p.lng));
      [x0, x1] = [Math.min(...xy.map((p) => p.x)), Math.max(...xy.map((p) => p.x))];
      [y0, y1] = [Math.min(...xy.map((p) => p.y)), Math.max(...xy.map((p) => p.y))];
    }
    view.x = (x0 + x1) / 2;
    view.y = (y0 + y1) / 2;
    view.zoom = Math.max(minZoom, Math.min(places.length ? 16 : MAX_ZOOM, zoomToShow(x0, y0, x1, y1)));
    schedule();
  }

  function panTo(lat, lng) {
    ({ x: view.x, y: view.y } = project(lat, lng));
    fitted = null;
    keepNearArea();
    schedule();
  }

  // Dragging pans; two fingers pinch-zoom; a press that barely moves is a click.
  const pointers = new Map();
  let press = null; // {x, y, moved, marker}
  const at = (event) => {
    const rect = surface.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  };
  surface.addEventListener("pointerdown", (event) => {
    if (event.pointerType === "mouse" && event.button !== 0) return;
    surface.setPointerCapture(event.pointerId);
    const point = at(event);
    pointers.set(event.pointerId, point);
    press = pointers.size === 1 ? { ...point, moved: false, marker: event.target.closest?.(".map-marker") }
      : { ...press, moved: true };
  });
  surface.addEventListener("pointermove", (event) => {
    const before = pointers.get(event.pointerId);
    if (!before) return;
    const now = at(event);
    if (pointers.size === 1) {
      if (press && Math.hypot(now.x - press.x, now.y - press.y) > CLICK_SLOP) press.moved = true;
      if (press?.moved) { surface.classList.add("dragging"); panBy(now.x - before.x, now.y - before.y); }
    } else if (pointers.size === 2) {
      const other = [...pointers].find(([id]) => id !== event.pointerId)[1];
      const was = Math.hypot(before.x - other.x, before.y - other.y);
      const is = Math.hypot(now.x - other.x, now.y - other.y);
      panBy((now.x - before.x) / 2, (now.y - before.y) / 2);
      if (was > 0 && is > 0) zoomAt((now.x + other.x) / 2, (now.y + other.y) / 2, Math.log2(is / was));
    }
    pointers.set(event.pointerId, now);
  });
  const release = (event) => {
    if (!pointers.delete(event.pointerId)) return;
    surface.classList.remove("dragging");
    if (event.type !== "pointerup" || pointers.size || !press || press.moved) return;
    const item = press.marker && [...layers].flatMap(([name, { items }]) => items.map((i) => [name, i]))
      .find(([, i]) => i.el === press.marker);
    if (item && markerHandlers.size) markerHandlers.forEach((fn) => fn(item[1].marker, item[0]));
    else {
      const { lat, lng } = unproject(...toWorld(press.x, press.y));
      clickHandlers.forEach((fn) => fn(lat, lng));
    }
    press = null;
  };
  surface.addEventListener("pointerup", release);
  surface.addEventListener("pointercancel", release);
  surface.addEventListener("wheel", (event) => {
    event.preventDefault();
    const pixels = event.deltaY * (event.deltaMode === 1 ? 20 : event.deltaMode === 2 ? 400 : 1);
    const { x, y } = at(event);
    zoomAt(x, y, Math.max(-1, Math.min(1, -pixels / 250)));
  }, { passive: false });
  root.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const pan = { ArrowLeft: [KEY_PAN, 0], ArrowRight: [-KEY_PAN, 0], ArrowUp: [0, KEY_PAN],
      ArrowDown: [0, -KEY_PAN] }[event.key];
    const zoom = { "+": 1, "=": 1, "-": -1, _: -1 }[event.key];
    if (pan) panBy(...pan);
    else if (zoom) zoomAt(size.width / 2, size.height / 2, zoom);
    else if (event.key === "0") fit();
    else return;
    event.preventDefault();
  });

  // Pages are mounted hidden: the map learns its size (and does a pending fit) once it is first shown.
  const resized = new ResizeObserver(() => {
    size.width = surface.clientWidth;
    size.height = surface.clientHeight;
    if (fitted) fit(fitted);
    schedule();
  });
  resized.observe(surface);
  fit();

  return {
    setMarkers,
    setShapes,
    onClick(fn) { clickHandlers.add(fn); return () => clickHandlers.delete(fn); },
    onMarkerClick(fn) { markerHandlers.add(fn); return () => markerHandlers.delete(fn); },
    fit,
    panTo,
    destroy() {
      resized.disconnect();
      cancelAnimationFrame(frame);
      clickHandlers.clear();
      markerHandlers.clear();
      root.remove();
    },
  };
}
