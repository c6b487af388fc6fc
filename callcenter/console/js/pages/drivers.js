// The drivers page: how many drivers are in each state, the fleet with status and last-seen, and a map of the
// drivers and of the pickups still waiting for one.
//
// Statuses and rides follow live events; positions and last-seen times are polled every few seconds while the
// page is on screen (a moving fleet would flood the websocket), and once more whenever a ride event names a
// driver, since a ride's change also changes its driver's status.

import { get, query } from "../api.js";
import { clear, h, loadCss, ltr } from "../dom.js";
import { asciiDigits, dateTime, number, time } from "../format.js";
import { addStrings, t } from "../i18n.js";
import { createMap } from "../map.js";
import { rideLabel, statusBadge } from "../rides.js";

addStrings({
  en: {
    "drivers.status.available": "Available", "drivers.status.busy": "On a ride", "drivers.status.on_break": "On a break",
    "drivers.status.offline": "Offline", "drivers.status.unreachable": "Unreachable",
    "drivers.total": "All drivers", "drivers.pending": "Waiting for a driver", "drivers.filter": "Find a driver",
    "drivers.filter.hint": "name, plate or number", "drivers.filter.status": "Showing only: {status} — click again for all",
    "drivers.col.name": "Driver", "drivers.col.plate": "Plate", "drivers.col.vehicle_class": "Class",
    "drivers.col.status": "Status", "drivers.col.last_seen": "Last seen", "drivers.col.ride": "Current ride",
    "drivers.class.sedan": "Sedan", "drivers.class.van": "Van", "drivers.class.luxury": "Luxury",
    "drivers.suspended": "suspended", "drivers.never": "never", "drivers.none": "No drivers to show.",
    "drivers.offered": "offered {ride}", "drivers.load_failed": "Could not load the drivers: {message}",
    "drivers.map": "Drivers and waiting pickups",
    "ago.now": "just now", "ago.s": "{n} s ago", "ago.min": "{n} min ago", "ago.h": "{n} h ago", "ago.d": "{n} d ago",
  },
  fa: {
    "drivers.status.available": "آزاد", "drivers.status.busy": "در سفر", "drivers.status.on_break": "در استراحت",
    "drivers.status.offline": "خاموش", "drivers.status.unreachable": "بی‌پاسخ",
    "drivers.total": "همه رانندگان", "drivers.pending": "در انتظار راننده", "drivers.filter": "جستجوی راننده",
    "drivers.filter.hint": "نام، پلاک یا شماره", "drivers.filter.status": "فقط {status} — برای همه دوباره بزنید",
    "drivers.col.name": "راننده", "drivers.col.plate": "پلاک", "drivers.col.vehicle_class": "رده",
    "drivers.col.status": "وضعیت", "drivers.col.last_seen": "آخرین حضور", "drivers.col.ride": "سفر جاری",
    "drivers.class.sedan": "سواری", "drivers.class.van": "ون", "drivers.class.luxury": "تشریفات",
    "drivers.suspended": "تعلیق", "drivers.never": "هرگز", "drivers.none": "راننده‌ای برای نمایش نیست.",
    "drivers.offered": "پیشنهاد {ride}", "drivers.load_failed": "فهرست رانندگان بار نشد: {message}",
    "drivers.map": "رانندگان و مسافران منتظر",
    "ago.now": "همین حالا", "ago.s": "{n} ثانیه پیش", "ago.min": "{n} دقیقه پیش", "ago.h": "{n} ساعت پیش",
    "ago.d": "{n} روز پیش",
  },
});

const POLL_MS = 4000;
const RIDE_NEWS_DELAY_MS = 300; // lets dispatch record the driver's new status before we ask for it
const STATUSES = ["available", "busy", "on_break", "offline", "unreachable"]; // dispatch's DriverAvailability
const PENDING = new Set(["requested", "offering", "unassigned"]);
const WITH_DRIVER = new Set(["assigned", "arrived", "on_board"]);
const RIDES_QUERY = query({ status: [...PENDING, ...WITH_DRIVER].join(","), limit: 500 });

// "3 min ago": how long ago, in the largest unit that fits.
function ago(seconds) {
  if (seconds === null || seconds === undefined) return t("drivers.never");
  const s = Math.max(0, Math.round(seconds));
  if (s < 10) return t("ago.now");
  const [key, n] = s < 60 ? ["s", s] : s < 3600 ? ["min", s / 60] : s < 86400 ? ["h", s / 3600] : ["d", s / 86400];
  return t(`ago.${key}`, { n: number(Math.floor(n)) });
}

function statusChip(status) {
  return h("span", { class: "driver-status", "data-status": status },
    h("span", { class: `map-swatch kind-${status}` }), " ", t(`drivers.status.${status}`));
}

// The list's columns: heading, what it sorts by, what a cell shows. Rows are drivers with `ride` and `seen` added.
const COLUMNS = [
  { key: "name", sort: (d) => d.name.toLocaleLowerCase(),
    cell: (d) => [d.name, d.suspended ? h("span", { class: "badge bad" }, t("drivers.suspended")) : null] },
  { key: "plate", sort: (d) => d.plate ?? "\uffff", cell: (d) => (d.plate ? ltr(d.plate, "plate") : "—") },
  { key: "vehicle_class", sort: (d) => d.vehicle_class, cell: (d) => t(`drivers.class.${d.vehicle_class}`) },
  { key: "status", sort: (d) => STATUSES.indexOf(d.status), cell: (d) => statusChip(d.status) },
  { key: "last_seen", sort: (d) => d.seen ?? Infinity, cell: lastSeenCell },
  { key: "ride", sort: (d) => d.ride?.id ?? Infinity, cell: rideCell },
];

function lastSeenCell(d) {
  if (!d.last_seen) return h("span", { class: "muted" }, t("drivers.never"));
  // Today's clock time is enough; an older sighting needs its date.
  const clock = d.seen < 12 * 3600 ? time(d.last_seen) : dateTime(d.last_seen);
  return [h("span", { class: "ago" }, ago(d.seen)), " ", h("span", { class: "muted" }, clock)];
}

function rideCell(d) {
  if (!d.ride) return "";
  if (d.ride.status === "offering") return h("span", { class: "muted" }, t("drivers.offered", { ride: `#${d.ride.id}` }));
  return [rideLabel(d.ride), " ", statusBadge(d.ride.status)];
}

export default {
  id: "drivers",
  title: "nav.drivers",
  mount(el, ctx) {
    loadCss("/console/css/drivers.css");
    const state = {
      drivers: new Map(), // driver id -> the driver as /api/drivers/live gave it, `fetchedAt` added
      heardAt: new Map(), // driver id -> when (Date.now()) a live event last told us their status
      rides: new Map(), // ride id -> ride, for rides waiting for a driver or driven by one
      sort: { key: "status", dir: 1 },
      status: null, // a status the list is narrowed to
      text: "",
      selected: null,
    };
    const chip = (key, label, onclick) => h("button", { type: "button", class: `count count-${key}`, "data-count": key,
      onclick }, h("strong", { class: "n" }, "…"), h("span", {}, label));
    const chips = {
      total: chip("total", t("drivers.total"), () => filterTo(null)),
      ...Object.fromEntries(STATUSES.map((s) => [s, chip(s, [h("span", { class: `map-swatch kind-${s}` }), " ",
        t(`drivers.status.${s}`)], () => filterTo(state.status === s ? null : s))])),
      pending: chip("pending", [h("span", { class: "map-swatch kind-pickup" }), " ", t("drivers.pending")],
        () => map.fit(pendingRides().map((r) => r.pickup))),
    };
    const counts = h("div", { class: "drivers-counts", role: "toolbar", "aria-label": t("drivers.col.status") },
      Object.values(chips));
    const search = h("input", { type: "search", class: "drivers-search", placeholder: t("drivers.filter.hint"),
      "aria-label": t("drivers.filter"), oninput: () => { state.text = searchable(search.value); render(); } });
    const problem = h("p", { class: "form-error", role: "alert" });
    const headings = COLUMNS.map((c) => h("th", { "data-col": c.key }, h("button", { type: "button", class: "sort",
      "data-sort": c.key, onclick: () => {
        state.sort = { key: c.key, dir: state.sort.key === c.key ? -state.sort.dir : 1 };
        render();
      } }, t(`drivers.col.${c.key}`), h("span", { class: "arrow", "aria-hidden": "true" }))));
    const head = h("tr", {}, headings);
    const body = h("tbody");
    const mapBox = h("div", { class: "drivers-map", "aria-label": t("drivers.map") });
    clear(el,
      h("div", { class: "drivers-top" }, counts, search),
      problem,
      h("div", { class: "drivers-body" },
        h("div", { class: "drivers-list card" }, h("table", {}, h("thead", {}, head), body)),
        mapBox));

    const map = createMap(mapBox, { area: ctx.config.service_area, tilesUrl: ctx.config.map_tiles_url || null });
    map.onMarkerClick((marker, layer) => {
      if (layer === "drivers") select(marker.id, { fromMap: true });
      else map.panTo(marker.lat, marker.lng);
    });
    map.onClick(() => { if (state.selected) select(null); });

    const pendingRides = () => [...state.rides.values()].filter((r) => PENDING.has(r.status));
    const filterTo = (status) => { state.status = status; render(); };
    const isOnScreen = () => !el.hidden && document.visibilityState === "visible";
    const secondsSince = (d) => (d.seconds_since_seen === null ? null
      : d.seconds_since_seen + (Date.now() - d.fetchedAt) / 1000);

    function rows() {
      const rideOf = new Map();
      for (const ride of state.rides.values()) {
        if (WITH_DRIVER.has(ride.status) && ride.driver_id) rideOf.set(ride.driver_id, ride);
        else if (ride.status === "offering" && ride.offered_to) rideOf.set(ride.offered_to, rideOf.get(ride.offered_to) ?? ride);
      }
      const { key, dir } = state.sort;
      const sortBy = COLUMNS.find((c) => c.key === key).sort;
      const tie = COLUMNS[0].sort;
      return [...state.drivers.values()]
        .map((d) => ({ ...d, ride: rideOf.get(d.driver_id), seen: secondsSince(d) }))
        .filter((d) => (!state.status || d.status === state.status)
          && searchable(`${d.name}|${d.plate ?? ""}|${d.driver_id}`).includes(state.text))
        .sort((a, b) => dir * compare(sortBy(a), sortBy(b)) || compare(tie(a), tie(b)));
    }

    let frame = 0;
    function render() { frame ||= requestAnimationFrame(draw); }
    function draw() {
      frame = 0;
      const shown = rows();
      drawCounts();
      drawList(shown);
      drawMap(shown);
    }

    function drawCounts() {
      const tally = { total: state.drivers.size, pending: pendingRides().length };
      for (const d of state.drivers.values()) tally[d.status] = (tally[d.status] ?? 0) + 1;
      for (const [key, button] of Object.entries(chips)) {
        button.querySelector(".n").textContent = number(tally[key] ?? 0);
        if (key === "pending") continue;
        const pressed = key === "total" ? !state.status : state.status === key;
        button.setAttribute("aria-pressed", String(pressed));
        const status = t(`drivers.status.${key}`);
        button.title = pressed && key !== "total" ? t("drivers.filter.status", { status }) : "";
      }
    }

    function drawList(shown) {
      COLUMNS.forEach((c, i) => {
        const sorted = state.sort.key === c.key, up = state.sort.dir > 0;
        headings[i].setAttribute("aria-sort", sorted ? (up ? "ascending" : "descending") : "none");
        headings[i].querySelector(".arrow").textContent = sorted ? (up ? " ▲" : " ▼") : "";
      });
      // The rows are redrawn with each poll: keep the keyboard's place on the driver it was on.
      const focused = document.activeElement?.closest?.("tr[data-driver-id]")?.dataset.driverId;
      if (!shown.length) {
        clear(body, h("tr", {}, h("td", { colspan: COLUMNS.length, class: "muted" }, t("drivers.none"))));
        return;
      }
      clear(body, shown.map((d) => h("tr", {
        tabindex: 0, "data-driver-id": d.driver_id, "data-status": d.status,
        class: d.driver_id === state.selected ? "selected" : null,
        onclick: () => select(d.driver_id),
        onkeydown: (event) => { if (event.key === "Enter") select(d.driver_id); },
      }, COLUMNS.map((c) => h("td", { "data-col": c.key }, c.cell(d))))));
      if (focused) body.querySelector(`tr[data-driver-id="${focused}"]`)?.focus({ preventScroll: true });
    }

    function drawMap(shown) {
      map.setMarkers("pickups", pendingRides().map((r) => ({
        id: r.id, lat: r.pickup?.lat, lng: r.pickup?.lng, kind: "pickup", label: `#${r.id}`,
        title: `#${r.id} · ${t(`status.${r.status}`)} · ${r.pickup?.text ?? ""}`,
      })));
      map.setMarkers("drivers", shown.filter((d) => d.lat !== null).map((d) => ({
        id: d.driver_id, lat: d.lat, lng: d.lng, kind: d.status, label: d.name,
        selected: d.driver_id === state.selected,
        title: [d.name, d.plate, t(`drivers.status.${d.status}`), ago(d.seen)].filter(Boolean).join(" · "),
      })));
    }

    function select(driverId, { fromMap = false } = {}) {
      state.selected = state.selected === driverId && !fromMap ? null : driverId;
      const driver = state.drivers.get(driverId);
      if (state.selected && driver && driver.lat !== null && !fromMap) map.panTo(driver.lat, driver.lng);
      draw();
      if (fromMap) body.querySelector(`tr[data-driver-id="${driverId}"]`)?.scrollIntoView({ block: "nearest" });
    }

    // One request at a time; one asked for meanwhile goes out when it is answered (it may need newer news).
    let loading = null, again = false;
    function loadDrivers() {
      if (loading) { again = true; return loading; }
      const askedAt = Date.now();
      loading = get("/api/drivers/live").then((found) => {
        const fetchedAt = Date.now();
        // A status event that came while the answer was on its way is newer than the answer.
        const status = (d) => ((state.heardAt.get(d.driver_id) ?? 0) > askedAt
          ? state.drivers.get(d.driver_id)?.status ?? d.status : d.status);
        state.drivers = new Map(found.drivers.map((d) => [d.driver_id, { ...d, status: status(d), fetchedAt }]));
        problem.textContent = "";
        render();
      }).catch((err) => {
        problem.textContent = t("drivers.load_failed", { message: err.message });
      }).finally(() => {
        loading = null;
        if (again) { again = false; loadDrivers(); }
      });
      return loading;
    }

    async function loadRides() {
      try {
        const { rides } = await get(`/api/rides${RIDES_QUERY}`);
        state.rides = new Map(rides.map((r) => [r.id, r]));
        render();
      } catch (err) {
        problem.textContent = t("drivers.load_failed", { message: err.message });
      }
    }

    let newsTimer = 0;
    ctx.live.on("driver.status", ({ driver_id: id, status }) => {
      const driver = state.drivers.get(id);
      if (!driver) { loadDrivers(); return; } // a driver registered since the last load
      state.drivers.set(id, { ...driver, status });
      state.heardAt.set(id, Date.now());
      render();
    });
    ctx.live.on("ride.*", ({ ride }) => {
      if (!ride) return;
      if (PENDING.has(ride.status) || WITH_DRIVER.has(ride.status)) state.rides.set(ride.id, ride);
      else state.rides.delete(ride.id);
      render();
      if (ride.driver_id || ride.offered_to) {
        clearTimeout(newsTimer);
        newsTimer = setTimeout(loadDrivers, RIDE_NEWS_DELAY_MS);
      }
    });
    setInterval(() => { if (isOnScreen()) loadDrivers(); }, POLL_MS);
    document.addEventListener("visibilitychange", () => { if (isOnScreen()) loadDrivers(); });

    return {
      refresh() { return Promise.all([loadDrivers(), loadRides()]); },
      show() { loadDrivers(); },
    };
  },
};

// What a search compares: any digits as ASCII, no case, no spaces or dashes (plates are typed every which way).
function searchable(text) {
  return asciiDigits(text).toLocaleLowerCase().replace(/[\s-]+/g, "");
}

function compare(a, b) {
  if (typeof a === "string" || typeof b === "string") return String(a).localeCompare(String(b));
  return a === b ? 0 : a < b ? -1 : 1;
}
