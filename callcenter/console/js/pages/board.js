// The live board: every ride under way, in lanes by stage, each with a ticking timer coloured by how long it has
// waited; the unassigned list first, with assign and retry; a ride's detail, history and offers on a click.
//
// The rides come once over HTTP (`refresh`, after connecting and after any resync) and then from live events,
// each carrying the whole ride with its `version`: an event older than what the board holds is ignored.

import { get } from "../api.js";
import { h, loadCss, ltr, typing } from "../dom.js";
import { asciiDigits, digits, duration, money, time } from "../format.js";
import { addStrings, t } from "../i18n.js";
import { ACTIVE, FINAL, statusBadge } from "../rides.js";
import { assignRide, cancelRide, changeRoute, retryRide, rideIdText } from "../board/actions.js";
import { openRideDetail } from "../board/detail.js";
import { ASSIGNABLE, CHANGEABLE, LANES, PREBOOKED_HORIZON_MS, RETRYABLE, ageClass, elapsedSeconds, finishedAt,
  finishedToDrop, isOnBoard, laneOf, releaseAt, sortKey } from "../board/lanes.js";
import { Names } from "../board/names.js";

addStrings({
  en: {
    "board.title": "Live board", "board.filter": "Filter by ride, address, name, phone or driver  ( / )",
    "board.lane.unassigned": "Unassigned — needs a driver", "board.lane.waiting": "Waiting for a driver",
    "board.lane.on_the_way": "Driver on the way", "board.lane.arrived": "Driver at the pickup",
    "board.lane.on_board": "On board", "board.lane.prebooked": "Pre-booked", "board.lane.finished": "Just finished",
    "board.empty": "None", "board.subscriber": "subscriber {id}", "board.driverNo": "driver {id}",
    "board.offeredTo": "offered to {driver} (try {n})", "board.releaseIn": "dispatch in {time}",
    "board.releasing": "dispatching", "board.pickupAt": "pickup {time} · to dispatch at {release}",
    "board.finishedAt": "{status} at {time}", "board.loadFailed": "The rides could not be loaded: {message}",
    "board.keys": "Enter: details · A: assign · R: retry · E: change route · C: cancel · ↑↓: move",
  },
  fa: {
    "board.title": "تابلوی زندهٔ سفرها", "board.filter": "جستجو با شمارهٔ سفر، نشانی، نام، تلفن یا راننده  ( / )",
    "board.lane.unassigned": "بدون راننده — نیاز به واگذاری", "board.lane.waiting": "در انتظار راننده",
    "board.lane.on_the_way": "راننده در راه", "board.lane.arrived": "راننده در مبدأ",
    "board.lane.on_board": "مسافر سوار است", "board.lane.prebooked": "رزروها", "board.lane.finished": "تازه تمام‌شده",
    "board.empty": "هیچ", "board.subscriber": "مشترک {id}", "board.driverNo": "راننده {id}",
    "board.offeredTo": "پیشنهاد به {driver} (بار {n})", "board.releaseIn": "اعزام تا {time}",
    "board.releasing": "در حال اعزام", "board.pickupAt": "سوار شدن {time} · اعزام {release}",
    "board.finishedAt": "{status} در {time}", "board.loadFailed": "سفرها بارگذاری نشدند: {message}",
    "board.keys": "Enter: جزئیات · A: واگذاری · R: تلاش دوباره · E: تغییر مسیر · C: لغو · ↑↓: جابه‌جایی",
  },
});

const LIVE_STATUSES = [...ACTIVE].filter((s) => s !== "scheduled").join(",");
const FINAL_STATUSES = [...FINAL].join(",");
const FINISHED_LOOKBACK_MS = 3 * 3600 * 1000;
const DETAIL_RELOAD_MS = 250;
const DEFAULT_LEAD_MINUTES = 10;

export default {
  id: "board",
  title: "nav.board",
  mount(el, ctx) {
    loadCss("/console/css/board.css");
    const board = new Board(el, ctx);
    return { refresh: () => board.refresh(), show: (args) => board.show(args) };
  },
};

class Board {
  constructor(el, ctx) {
    this.el = el;
    this.lead = ctx.config.prebooking_lead_minutes ?? DEFAULT_LEAD_MINUTES;
    this.rides = new Map(); // id -> the newest ride seen
    this.changedAt = new Map(); // id -> when a live event last changed it (ms), to keep it through a refresh
    this.rows = new Map(); // id -> its row element
    this.detail = null;
    this.detailTimer = null;
    this.names = new Names((what) => this.namesArrived(what));

    this.filter = h("input", { type: "search", class: "board-filter", placeholder: t("board.filter"),
      "aria-label": t("board.filter"), oninput: () => this.applyFilter() });
    this.notice = h("p", { class: "form-error board-notice", role: "alert", hidden: true });
    this.lanes = new Map(LANES.map((lane) => [lane.id, this.laneBox(lane.id)]));
    const box = (id) => this.lanes.get(id).section;
    el.append(h("div", { class: "board" },
      h("div", { class: "row board-toolbar" }, h("h2", {}, t("board.title")), this.filter,
        h("span", { class: "muted small board-keys" }, t("board.keys"))),
      this.notice,
      box("unassigned"),
      h("div", { class: "lanes" }, ["waiting", "on_the_way", "arrived", "on_board", "prebooked"].map(box)),
      box("finished")));

    ctx.live.on("ride.*", (data) => { if (data?.ride) this.upsert(data.ride); });
    el.addEventListener("keydown", (event) => this.onKey(event));
    document.addEventListener("keydown", (event) => {
      if (event.key === "/" && !el.hidden && !typing(event) && !document.querySelector(".dialog-backdrop")) {
        event.preventDefault();
        this.filter.focus();
      }
    });
    setInterval(() => this.tick(), 1000);
  }

  laneBox(id) {
    const list = h("div", { class: "lane-list", "data-empty": t("board.empty") });
    const count = h("span", { class: "lane-count" }, digits(0));
    const section = h("section", { class: `lane lane-${id}`, "data-lane": id },
      h("header", { class: "lane-head" }, h("h3", {}, t(`board.lane.${id}`)), count), list);
    return { section, list, count };
  }

  // Everything over HTTP: the rides under way, the pre-bookings of the next day, the last finished ones.
  async refresh() {
    const started = Date.now();
    const at = (ms) => encodeURIComponent(new Date(ms).toISOString());
    let answers;
    try {
      answers = await Promise.all([
        get(`/api/rides?status=${LIVE_STATUSES}&limit=500`),
        get(`/api/rides?status=scheduled&until=${at(started + PREBOOKED_HORIZON_MS)}&limit=200`),
        get(`/api/rides?status=${FINAL_STATUSES}&since=${at(started - FINISHED_LOOKBACK_MS)}&limit=50`),
      ]);
    } catch (err) {
      this.notice.textContent = t("board.loadFailed", { message: err.message });
      this.notice.hidden = false;
      return;
    }
    this.notice.hidden = true;
    const fresh = new Map(answers.flatMap((a) => a.rides).map((r) => [r.id, r]));
    // An event that came while the lists were loading is newer than what they say.
    for (const [id, ride] of this.rides) {
      const listed = fresh.get(id);
      if (listed ? listed.version < ride.version : (this.changedAt.get(id) ?? 0) >= started) fresh.set(id, ride);
    }
    this.rides = fresh;
    this.changedAt.clear();
    this.names.retryFailed();
    this.names.want(fresh.values());
    this.names.loadDrivers(true);
    const focused = Number(document.activeElement?.closest?.(".ride-row")?.dataset.rideId);
    for (const row of this.rows.values()) row.remove();
    this.rows.clear();
    const now = Date.now();
    const shown = [...fresh.values()].filter((r) => isOnBoard(r, now))
      .sort((a, b) => sortKey(a) - sortKey(b) || a.id - b.id);
    for (const ride of shown) {
      const row = this.renderRow(ride);
      this.lanes.get(laneOf(ride)).list.append(row);
      this.rows.set(ride.id, row);
    }
    this.trimFinished();
    this.applyFilter();
    this.rows.get(focused)?.focus();
    if (this.detail && !this.detail.closed) this.detail.reload();
  }

  show(args) {
    this.tick();
    const id = Number(args?.[0]);
    if (Number.isInteger(id) && id > 0) this.openDetail(id);
  }

  ride(id) { return this.rides.get(id) ?? null; }

  // Take a ride as an event or an answer gave it; older than what the board holds, it changes nothing.
  upsert(ride) {
    const have = this.rides.get(ride.id);
    if (have && have.version >= ride.version) return false;
    this.rides.set(ride.id, ride);
    this.changedAt.set(ride.id, Date.now());
    this.names.want([ride]);
    this.place(ride);
    if (FINAL.has(ride.status)) this.trimFinished();
    this.applyFilter(ride.id);
    if (this.detail && !this.detail.closed && this.detail.rideId === ride.id) {
      clearTimeout(this.detailTimer);
      this.detailTimer = setTimeout(() => this.detail?.reload(), DETAIL_RELOAD_MS);
    }
    return true;
  }

  // Put the ride's row where it belongs now (or take it off the board), keeping the keyboard focus on it.
  place(ride) {
    const old = this.rows.get(ride.id);
    const hadFocus = old && old.contains(document.activeElement);
    if (!isOnBoard(ride, Date.now())) {
      old?.remove();
      this.rows.delete(ride.id);
      this.countLanes();
      return;
    }
    const row = this.renderRow(ride);
    const list = this.lanes.get(laneOf(ride)).list;
    const key = sortKey(ride);
    const next = [...list.children].find((r) => r !== old && (Number(r.dataset.sort) > key
      || (Number(r.dataset.sort) === key && Number(r.dataset.rideId) > ride.id)));
    old?.remove();
    list.insertBefore(row, next ?? null);
    this.rows.set(ride.id, row);
    if (hadFocus) row.focus();
    this.countLanes();
  }

  renderRow(ride) {
    const who = this.describe(ride);
    const timer = h("span", { class: "ride-timer" });
    const open = (event) => { if (!event.target.closest("button")) this.openDetail(ride.id); };
    const row = h("article", { class: "ride-row", tabindex: 0, "data-ride-id": ride.id, "data-status": ride.status,
      "data-sort": sortKey(ride), onclick: open },
    h("div", { class: "ride-top" }, rideIdText(ride.id), statusBadge(ride.status), h("span", { class: "spacer" }),
      timer),
    h("div", { class: "ride-pickup" }, h("strong", {}, ride.pickup.text),
      ride.pickup.landmark && h("span", { class: "landmark" }, ` · ${ride.pickup.landmark}`)),
    ride.destination && h("div", { class: "ride-destination" }, ride.destination.text),
    h("div", { class: "ride-people" }, h("span", { class: "customer" }, who.customer)),
    who.driver && h("div", { class: "ride-driver" },
      h("span", { class: "muted" }, t("board.detail.driver"), ": "), h("span", { class: "driver" }, who.driver)),
    this.stageLine(ride),
    ride.status === "unassigned" && h("div", { class: "row ride-actions" },
      h("button", { type: "button", class: "primary", "data-action": "assign",
        onclick: () => this.act(assignRide(ride)) }, t("board.assign")),
      h("button", { type: "button", "data-action": "retry", onclick: () => this.act(retryRide(ride)) },
        t("board.retry"))));
    row.dataset.search = [ride.id, ride.pickup.text, ride.pickup.landmark, ride.destination?.text, ride.walk_in_phone,
      row.querySelector(".ride-people").textContent, row.querySelector(".ride-driver")?.textContent]
      .filter(Boolean).join(" ").toLowerCase();
    this.paintTimer(timer, ride, row);
    return row;
  }

  // The line that says what the stage is waiting on: the offered driver, the pickup time, how it ended.
  stageLine(ride) {
    const line = (...text) => h("div", { class: "ride-stage muted small" }, ...text);
    switch (ride.status) {
      case "offering":
        return ride.offered_to != null && line(t("board.offeredTo", { driver: this.driverText(ride.offered_to),
          n: digits(ride.offer_count) }));
      case "scheduled":
        return line(t("board.pickupAt", { time: time(ride.pickup_at || ride.due_at),
          release: time(releaseAt(ride, this.lead)) }));
      default:
        if (!FINAL.has(ride.status)) return null;
        return line(t("board.finishedAt", { status: t(`status.${ride.status}`), time: time(finishedAt(ride)) }),
          ride.fare_total_rials != null ? ` · ${money(ride.fare_total_rials)}` : null,
          ride.cancel_reason ? ` · ${ride.cancel_reason}` : null);
    }
  }

  // Who the ride is for and who drives it, as the board shows them.
  describe(ride) {
    const id = ride.subscriber_id;
    const customer = id != null ? this.names.subscriber(id)?.name ?? t("board.subscriber", { id: digits(id) })
      : [ride.walk_in_name || "", ride.walk_in_phone ? [" ", ltr(ride.walk_in_phone)] : null];
    return { customer, driver: ride.driver_id != null ? this.driverName(ride.driver_id) : null };
  }

  driverText(id) {
    return this.names.driver(id)?.name ?? t("board.driverNo", { id: digits(id) });
  }

  driverName(id) {
    const known = this.names.driver(id);
    if (!known) return t("board.driverNo", { id: digits(id) });
    return [known.name, known.plate ? [" ", ltr(known.plate, "plate")] : null];
  }

  namesArrived(what) {
    for (const ride of this.rides.values()) {
      const concerned = what.drivers ? ride.driver_id != null || ride.offered_to != null
        : ride.subscriber_id === what.subscriber;
      if (concerned && this.rows.has(ride.id)) this.place(ride);
    }
    this.applyFilter();
  }

  // Write the timer and colour the row: time in the stage, or for a pre-booking the time until dispatch.
  paintTimer(el, ride, row = null) {
    const now = Date.now();
    let age = "none";
    if (ride.status === "scheduled") {
      const left = (Date.parse(releaseAt(ride, this.lead)) - now) / 1000;
      el.textContent = left > 0 ? duration(left) : t("board.releasing");
      el.title = t("board.releaseIn", { time: duration(Math.max(0, left)) });
    } else {
      const seconds = elapsedSeconds(ride, now);
      el.textContent = seconds === null ? "" : duration(seconds);
      age = ageClass(ride, now);
    }
    el.dataset.age = age;
    if (row) row.dataset.age = age;
  }

  tick() {
    if (this.el.hidden && !this.detail) return;
    const now = Date.now();
    for (const [id, row] of this.rows) {
      const ride = this.rides.get(id);
      if (FINAL.has(ride.status)) {
        if (!isOnBoard(ride, now)) this.place(ride); // Finished long enough ago: off the board.
        continue;
      }
      this.paintTimer(row.querySelector(".ride-timer"), ride, row);
    }
    if (this.detail && !this.detail.closed) this.detail.tick();
  }

  // Keep the last few finished rides; the others leave the board, and the board forgets them.
  trimFinished() {
    const shown = [...this.rows.keys()].map((id) => this.rides.get(id));
    for (const id of finishedToDrop(shown)) {
      this.rows.get(id)?.remove();
      this.rows.delete(id);
    }
    for (const [id, ride] of this.rides) {
      if (FINAL.has(ride.status) && !this.rows.has(id) && this.detail?.rideId !== id) this.rides.delete(id);
    }
    this.countLanes();
  }

  countLanes() {
    for (const lane of this.lanes.values()) {
      const visible = [...lane.list.children].filter((r) => !r.hidden).length;
      lane.count.textContent = digits(visible);
      lane.section.classList.toggle("has-rides", visible > 0);
    }
  }

  // Hide rows that do not match the filter (all rows, or just one that changed).
  applyFilter(onlyId = null) {
    // A number typed as dialled ("0935…") is found in the E.164 form ("+98935…") too.
    const words = asciiDigits(this.filter.value).toLowerCase().split(/\s+/).filter(Boolean)
      .map((w) => (/^0\d{3,}$/.test(w) ? w.replace(/^0+/, "") : w));
    const rows = onlyId === null ? this.rows.values() : [this.rows.get(onlyId)].filter(Boolean);
    for (const row of rows) row.hidden = !words.every((w) => row.dataset.search.includes(w));
    this.countLanes();
  }

  openDetail(id) {
    if (this.detail && !this.detail.closed) {
      if (this.detail.rideId === id) return;
      this.detail.close();
    }
    this.detail = openRideDetail(id, {
      names: this.names, ride: (rideId) => this.ride(rideId), upsert: (ride) => this.upsert(ride),
      describe: (ride) => this.describe(ride), driverName: (driverId) => this.driverName(driverId),
      paintTimer: (el, ride) => this.paintTimer(el, ride),
      onDetailClosed: (panel) => { if (this.detail === panel) this.detail = null; },
    });
  }

  async act(pending) {
    const changed = await pending;
    if (changed) this.upsert(changed);
  }

  // Keys on a focused row: Enter opens it, letters act on it, arrows move between rows.
  onKey(event) {
    const row = event.target.closest?.(".ride-row");
    if (!row || event.target !== row || event.altKey || event.ctrlKey || event.metaKey) return;
    const ride = this.rides.get(Number(row.dataset.rideId));
    const status = ride.status;
    // Letters by their place on the keyboard, so they work with a Persian layout too.
    const actions = {
      Enter: () => this.openDetail(ride.id),
      KeyA: () => ASSIGNABLE.has(status) && this.act(assignRide(ride)),
      KeyR: () => RETRYABLE.has(status) && this.act(retryRide(ride)),
      KeyE: () => CHANGEABLE.has(status) && this.act(changeRoute(ride, this.names)),
      KeyC: () => CHANGEABLE.has(status) && this.act(cancelRide(ride)),
      ArrowDown: () => this.moveFocus(row, 1),
      ArrowUp: () => this.moveFocus(row, -1),
    };
    const action = actions[event.key] ?? actions[event.code];
    if (action) {
      event.preventDefault();
      action();
    }
  }

  moveFocus(row, step) {
    const rows = [...this.el.querySelectorAll(".ride-row:not([hidden])")];
    rows[rows.indexOf(row) + step]?.focus();
  }
}
