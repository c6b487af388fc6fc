// The complaints page: cases (complaints and praise) in a list filtered by status, kind, category, priority,
// lateness and assignee, each with its SLA countdown, most urgent first; a case opens in a dialog with its workflow,
// history and evidence (#/complaints/<id> opens it too).
//
// The list comes over HTTP (`refresh`, after connecting and after any resync, and when a filter changes) and then
// from live events (complaint.opened / complaint.changed, each carrying the whole case with its `version`).

import { get, query } from "../api.js";
import { clear, h, loadCss, ltr, typing } from "../dom.js";
import { dateTime, digits } from "../format.js";
import { addStrings, lang, t } from "../i18n.js";
import { Names } from "../board/names.js";
import { OPEN, PRIORITIES, STATUSES, activeClock, caseNumber, categoryName, clockText, isOverdue, kindBadge,
  priorityBadge, statusBadge } from "../complaints/cases.js";
import { openCase } from "../complaints/case_view.js";

addStrings({
  en: {
    "cases.title": "Complaints and praise", "cases.status": "Status", "cases.status.open": "Open",
    "cases.status.all": "All", "cases.kind": "Kind", "cases.kind.all": "All", "cases.category": "Category",
    "cases.category.all": "All", "cases.priority": "Priority", "cases.priority.all": "All",
    "cases.overdueOnly": "Overdue only", "cases.mine": "Assigned to me", "cases.new": "New case",
    "cases.count": "{count} cases · {overdue} overdue", "cases.empty": "No case matches.",
    "cases.loadFailed": "The cases could not be loaded: {message}", "cases.retired": "(retired)",
    "cases.col.id": "Case", "cases.col.what": "What", "cases.col.priority": "Priority", "cases.col.status": "Status",
    "cases.col.assignee": "Assigned to", "cases.col.about": "About", "cases.col.opened": "Opened",
    "cases.col.sla": "SLA", "cases.ride": "ride {id}", "cases.categories": "Categories",
    "cases.keys": "Enter: open · ↑↓: move · N: new case · /: filters",
  },
  fa: {
    "cases.title": "شکایت‌ها و قدردانی‌ها", "cases.status": "وضعیت", "cases.status.open": "باز",
    "cases.status.all": "همه", "cases.kind": "نوع", "cases.kind.all": "همه", "cases.category": "موضوع",
    "cases.category.all": "همه", "cases.priority": "اولویت", "cases.priority.all": "همه",
    "cases.overdueOnly": "فقط دیرکرده‌ها", "cases.mine": "واگذارشده به من", "cases.new": "پروندهٔ تازه",
    "cases.count": "{count} پرونده · {overdue} دیرکرد", "cases.empty": "پرونده‌ای با این ویژگی‌ها نیست.",
    "cases.loadFailed": "پرونده‌ها بارگذاری نشدند: {message}", "cases.retired": "(کنارگذاشته)",
    "cases.col.id": "پرونده", "cases.col.what": "موضوع", "cases.col.priority": "اولویت", "cases.col.status": "وضعیت",
    "cases.col.assignee": "مسئول", "cases.col.about": "دربارهٔ", "cases.col.opened": "ثبت",
    "cases.col.sla": "مهلت", "cases.ride": "سفر {id}", "cases.categories": "موضوع‌ها",
    "cases.keys": "Enter: باز کردن · ↑↓: جابه‌جایی · N: پروندهٔ تازه · /: فیلترها",
  },
});

const LIMIT = 500;
const COLUMNS = ["id", "what", "priority", "status", "assignee", "about", "opened", "sla"];

export default {
  id: "complaints",
  title: "nav.complaints",
  mount(el, ctx) {
    loadCss("/console/css/complaints.css");
    const page = new CasesPage(el, ctx);
    return { refresh: () => page.refresh(), show: (args) => page.show(args) };
  },
};

class CasesPage {
  constructor(el, ctx) {
    this.el = el;
    this.me = ctx.me;
    this.ctx = ctx;
    this.cases = new Map(); // id -> the newest case seen
    this.rows = new Map(); // id -> its row
    this.categories = [];
    this.assigneeList = null;
    this.detail = null;
    this.seq = 0;
    this.namesTimer = null;
    this.names = new Names(() => this.repaintNames());

    // Named apart from the fields of forms opened over the page (a complaint's own category, say).
    const select = (name, options) => h("select", { name: `filter-${name}`, onchange: () => this.refresh() },
      options.map(([value, label]) => h("option", { value }, label)));
    this.filters = {
      status: select("status", [["open", t("cases.status.open")], ["all", t("cases.status.all")],
        ...STATUSES.map((s) => [s, t(`case.status.${s}`)])]),
      kind: select("kind", [["", t("cases.kind.all")], ["complaint", t("case.kind.complaint")],
        ["praise", t("case.kind.praise")]]),
      category: select("category", [["", t("cases.category.all")]]),
      priority: select("priority", [["", t("cases.priority.all")],
        ...PRIORITIES.map((p) => [p, t(`case.priority.${p}`)])]),
      overdue: h("input", { type: "checkbox", name: "filter-overdue", onchange: () => this.refresh() }),
      mine: h("input", { type: "checkbox", name: "filter-mine", onchange: () => this.refresh() }),
    };
    const f = this.filters;
    this.count = h("span", { class: "muted cases-count" });
    this.notice = h("p", { class: "form-error", role: "alert", hidden: true });
    this.tbody = h("tbody", {});
    this.empty = h("p", { class: "muted cases-empty", hidden: true }, t("cases.empty"));
    const isAdmin = this.me.role === "admin";
    el.append(h("div", { class: "cases" },
      h("div", { class: "row cases-toolbar" }, h("h2", {}, t("cases.title")),
        h("label", {}, t("cases.status"), f.status), h("label", {}, t("cases.kind"), f.kind),
        h("label", {}, t("cases.category"), f.category), h("label", {}, t("cases.priority"), f.priority),
        h("label", { class: "check" }, f.overdue, t("cases.overdueOnly")),
        h("label", { class: "check" }, f.mine, t("cases.mine")),
        h("span", { class: "spacer" }), this.count,
        h("button", { type: "button", class: "new-case", onclick: () => this.newCase() }, t("cases.new")),
        isAdmin ? h("button", { type: "button", class: "edit-categories", onclick: () => this.editCategories() },
          t("cases.categories")) : null),
      h("p", { class: "muted small" }, t("cases.keys")),
      this.notice,
      h("table", { class: "cases-table" },
        h("thead", {}, h("tr", {}, COLUMNS.map((c) => h("th", { class: `col-${c}` }, t(`cases.col.${c}`))))),
        this.tbody),
      this.empty));

    ctx.live.on("complaint.*", (data) => { if (data?.complaint) this.arrived(data.complaint); });
    el.addEventListener("keydown", (event) => this.onKey(event));
    document.addEventListener("keydown", (event) => {
      if (el.hidden || typing(event) || document.querySelector(".dialog-backdrop")) return;
      if (event.key === "/") { event.preventDefault(); f.status.focus(); }
    });
    setInterval(() => this.tick(), 1000);
  }

  // The filters as the API reads them.
  query() {
    const f = this.filters;
    const status = f.status.value;
    return query({
      open: status === "open" ? "true" : null, status: status !== "open" && status !== "all" ? status : null,
      kind: f.kind.value, category: f.category.value, priority: f.priority.value,
      overdue: f.overdue.checked ? "true" : null, assignee: f.mine.checked ? "me" : null, limit: LIMIT,
    });
  }

  // The same filters, for a case that arrives live.
  matches(c, now) {
    const f = this.filters;
    const status = f.status.value;
    return (status === "all" || (status === "open" ? OPEN.has(c.status) : c.status === status))
      && (!f.kind.value || c.kind === f.kind.value) && (!f.category.value || c.category === f.category.value)
      && (!f.priority.value || c.priority === f.priority.value) && (!f.overdue.checked || isOverdue(c, now))
      && (!f.mine.checked || c.assignee_id === this.me.id);
  }

  async refresh() {
    const mine = ++this.seq;
    this.loadCategories();
    let found;
    try {
      found = await get(`/api/complaints${this.query()}`);
    } catch (err) {
      this.notice.textContent = t("cases.loadFailed", { message: err.message });
      this.notice.hidden = false;
      return;
    }
    if (mine !== this.seq) return; // a later filter's answer is on its way
    this.notice.hidden = true;
    this.cases = new Map(found.complaints.map((c) => [c.id, c]));
    this.names.retryFailed();
    this.names.want(found.complaints);
    this.paint();
  }

  async loadCategories() {
    if (this.categories.length) return;
    try {
      this.categories = (await get("/api/complaint-categories?retired=true")).categories;
    } catch {
      return; // The filter keeps "all"; the next refresh asks again.
    }
    const kindName = (k) => t(`case.kind.${k}`);
    this.filters.category.append(...["complaint", "praise"].map((kind) => h("optgroup", { label: kindName(kind) },
      this.categories.filter((c) => c.kind === kind).map((c) => h("option", { value: c.code },
        c.names[lang()] || c.names.en, c.is_active ? "" : ` ${t("cases.retired")}`)))));
  }

  assignees() {
    this.assigneeList ??= get("/api/complaint-assignees").then((r) => r.assignees)
      .catch((err) => { this.assigneeList = null; throw err; });
    return this.assigneeList;
  }

  upsert(complaint) {
    const known = this.cases.get(complaint.id);
    if (known && known.version > complaint.version) return;
    if (this.matches(complaint, Date.now())) this.cases.set(complaint.id, complaint);
    else this.cases.delete(complaint.id);
    this.names.want([complaint]);
    this.paint();
  }

  // A case from a live event: into the list, and into its open dialog if that shows an older version.
  arrived(complaint) {
    this.upsert(complaint);
    const detail = this.detail;
    if (detail && !detail.closed && detail.id === complaint.id && detail.version() !== complaint.version) {
      detail.reload();
    }
  }

  // Most urgent first: open before closed, overdue before on time, the nearest deadline first, then newest.
  sorted() {
    const now = Date.now();
    const key = (c) => [OPEN.has(c.status) ? 0 : 1, isOverdue(c, now) ? 0 : 1,
      activeClock(c) ? Date.parse(activeClock(c).clock.due_at) : Infinity, -Date.parse(c.created_at)];
    return [...this.cases.values()].sort((a, b) => {
      const ka = key(a), kb = key(b);
      for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
      return 0;
    });
  }

  paint() {
    const focused = Number(document.activeElement?.closest?.(".case-row")?.dataset.caseId);
    const rows = this.sorted().map((c) => {
      const row = this.row(c);
      this.rows.set(c.id, row);
      return row;
    });
    for (const id of this.rows.keys()) if (!this.cases.has(id)) this.rows.delete(id);
    clear(this.tbody, rows);
    this.empty.hidden = rows.length > 0;
    this.tick();
    if (focused) this.rows.get(focused)?.focus();
  }

  row(c) {
    const about = [
      c.subscriber_id != null ? h("span", {}, this.names.subscriber(c.subscriber_id)?.name
        ?? ltr(`#${digits(c.subscriber_id)}`)) : null,
      c.driver_id != null ? h("span", { class: "muted" }, this.driverName(c.driver_id)) : null,
      c.ride_id != null ? h("span", { class: "muted" }, t("cases.ride", { id: digits(c.ride_id) })) : null,
    ].filter(Boolean);
    return h("tr", { class: "case-row", tabindex: 0, "data-case-id": c.id, "data-status": c.status,
      "data-kind": c.kind, onclick: () => this.openDetail(c.id) },
    h("td", {}, caseNumber(c.id)),
    h("td", {}, kindBadge(c.kind), " ", categoryName(c, lang()),
      h("div", { class: "muted small case-summary" }, c.description)),
    h("td", {}, priorityBadge(c.priority)),
    h("td", {}, statusBadge(c.status), c.outcome ? h("div", { class: "muted small" }, t(`case.outcome.${c.outcome}`))
      : null),
    h("td", {}, c.assignee_name ?? "—"),
    h("td", { class: "case-about" }, about.flatMap((part, i) => (i ? [h("br"), part] : [part]))),
    h("td", { class: "nowrap" }, dateTime(c.created_at)),
    h("td", { class: "case-sla nowrap" }));
  }

  // Countdowns move every second; nothing else is redrawn.
  tick() {
    const now = Date.now();
    let overdue = 0;
    for (const [id, row] of this.rows) {
      const c = this.cases.get(id);
      const late = isOverdue(c, now);
      overdue += late ? 1 : 0;
      row.dataset.overdue = String(late);
      const active = activeClock(c);
      const cell = row.querySelector(".case-sla");
      const shown = active ? clockText(active.clock, now)
        : clockText(c.sla?.resolution ?? null, now);
      cell.dataset.state = shown.state;
      cell.textContent = active ? `${t(`case.clock.${active.name}`)}: ${shown.text}` : shown.text;
    }
    this.count.textContent = t("cases.count", { count: digits(this.rows.size), overdue: digits(overdue) });
  }

  driverName(id) {
    return this.names.driver(id)?.name ?? ltr(`#${digits(id)}`);
  }

  // Names arrive one by one: redraw once for a burst of them.
  repaintNames() {
    this.namesTimer ??= setTimeout(() => { this.namesTimer = null; this.paint(); }, 100);
  }

  show(args) {
    const id = Number(args?.[0]);
    if (id > 0) this.openDetail(id);
  }

  openDetail(id) {
    if (this.detail && !this.detail.closed) {
      if (this.detail.id === id) return;
      this.detail.close();
    }
    this.detail = openCase(id, {
      me: this.me, names: this.names, driverName: (driverId) => this.driverName(driverId),
      upsert: (c) => this.upsert(c), assignees: () => this.assignees(),
      categories: () => this.loadCategories().then(() => this.categories),
      categoryName: (code) => {
        const found = this.categories.find((c) => c.code === code);
        return found ? found.names[lang()] || found.names.en : code;
      },
      onClosed: (panel) => { if (this.detail === panel) this.detail = null; },
    });
  }

  async newCase() {
    const { openComplaint } = await import("../complaint.js");
    const opened = await openComplaint({});
    if (opened) this.upsert(opened);
  }

  async editCategories() {
    const { openTaxonomy } = await import("../complaints/taxonomy.js");
    await openTaxonomy();
    this.categories = [];
    clear(this.filters.category, h("option", { value: "" }, t("cases.category.all")));
    this.loadCategories();
  }

  onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const row = event.target.closest?.(".case-row");
    if (!row && event.code === "KeyN" && !typing(event)) { event.preventDefault(); this.newCase(); return; }
    if (!row || event.target !== row) return;
    const actions = {
      Enter: () => this.openDetail(Number(row.dataset.caseId)),
      ArrowDown: () => row.nextElementSibling?.focus(),
      ArrowUp: () => row.previousElementSibling?.focus(),
      KeyN: () => this.newCase(),
    };
    const action = actions[event.key] ?? actions[event.code];
    if (action) { event.preventDefault(); action(); }
  }
}
