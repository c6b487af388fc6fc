// The subscribers page: search at the side (results as you type, arrows and Enter), and beside it one of
// a subscriber's record (#/subscribers/<id>), the new-subscriber form (#/subscribers/new[/<number>]) or the
// likely duplicates (#/subscribers/duplicates).

import { get, query } from "../api.js";
import { clear, h, loadCss, ltr, typing } from "../dom.js";
import { digits } from "../format.js";
import { t } from "../i18n.js";
import { MANAGER_ROLES, flagBadges, problem } from "./subscribers/common.js";
import { createView } from "./subscribers/create.js";
import { duplicatesView } from "./subscribers/duplicates.js";
import { recordView } from "./subscribers/record.js";
import "./subscribers/strings.js";

const DEBOUNCE_MS = 200;
const MIN_QUERY = 2;

export default {
  id: "subscribers",
  title: "nav.subscribers",
  mount(el, ctx) {
    loadCss("/console/css/subscribers.css");
    const search = searchPanel(ctx);
    const record = recordView(ctx, () => search.refresh());
    const create = createView(ctx);
    const duplicates = duplicatesView();
    const empty = h("p", { class: "muted subs-empty" }, t("subs.pick"));
    const main = h("div", { class: "subs-main" }, empty);
    let current = null; // the view shown in `main`, refreshed on a resync

    el.append(h("div", { class: "subs-layout" },
      h("aside", { class: "subs-aside" },
        search.el,
        h("div", { class: "row subs-tools" },
          h("a", { class: "button", href: "#/subscribers/new", "data-action": "new" }, t("subs.new")),
          MANAGER_ROLES.has(ctx.me.role) && h("a", { class: "button", href: "#/subscribers/duplicates",
            "data-action": "duplicates" }, t("subs.duplicates")))),
      main));

    ctx.live.on("ride.*", (data) => record.onRide(data?.ride));
    // "/" jumps to the search box from anywhere on this page, as in most consoles.
    document.addEventListener("keydown", (event) => {
      if (event.key === "/" && !el.hidden && !typing(event) && !document.querySelector(".dialog-backdrop")) {
        event.preventDefault();
        search.focus();
      }
    });

    function showView(view, run) {
      current = view;
      if (main.firstChild !== view.el) clear(main, view.el);
      run();
    }

    return {
      refresh() {
        search.refresh();
        if (current === record) record.refresh();
        if (current === duplicates) duplicates.load();
      },
      show([first = "", second] = []) {
        const isId = /^\d{1,18}$/.test(first);
        search.mark(isId ? Number(first) : null);
        if (first === "new") showView(create, () => create.open(second));
        else if (first === "duplicates") showView(duplicates, duplicates.load);
        else if (isId) showView(record, () => record.open(Number(first)));
        else {
          current = null;
          clear(main, first ? h("p", { class: "muted" }, t("subs.not_found")) : empty);
          if (!first) search.focus();
        }
      },
    };
  },
};

// The search box and its results: debounced, stale answers dropped, a listbox driven by the arrow keys.
function searchPanel(ctx) {
  const input = h("input", { type: "search", class: "subs-search", name: "q", autocomplete: "off",
    placeholder: t("subs.search.placeholder"), "aria-label": t("subs.search.label"), role: "combobox",
    "aria-controls": "subs-results", "aria-expanded": "false", "aria-autocomplete": "list" });
  const list = h("ul", { class: "subs-results", id: "subs-results", role: "listbox",
    "aria-label": t("subs.search.label") });
  const status = h("p", { class: "muted subs-search-status", role: "status" }, t("subs.search.hint"));
  let hits = [];
  let active = -1;
  let shownId = null;
  let timer = null;
  let asked = 0;
  let latest = Promise.resolve(); // the search last started, so Enter can wait for its answer

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => { latest = run(); }, DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!hits.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((active + step + hits.length) % hits.length);
    } else if (event.key === "Enter") {
      event.preventDefault();
      // Enter typed faster than the debounce searches now; either way it opens the chosen (or best) match.
      if (timer !== null) {
        clearTimeout(timer);
        latest = run();
      }
      latest.then(() => openHit(Math.max(active, 0)));
    } else if (event.key === "Escape" && input.value) {
      event.preventDefault();
      input.value = "";
      clearTimeout(timer);
      latest = run();
    }
  });

  async function run() {
    timer = null;
    const q = input.value.trim();
    const ask = ++asked;
    if (q.length < MIN_QUERY) {
      render([], t("subs.search.hint"));
      return;
    }
    try {
      const answer = await get(`/api/subscribers${query({ q })}`);
      if (ask !== asked) return; // A newer query was typed meanwhile.
      const more = answer.subscribers.length >= answer.limit ? t("subs.search.more", { n: digits(answer.limit) }) : "";
      render(answer.subscribers, answer.subscribers.length ? more : t("subs.search.none", { q }));
    } catch (err) {
      if (ask === asked) render([], problem(err));
    }
  }

  function render(found, message) {
    hits = found;
    active = hits.length ? 0 : -1;
    status.textContent = message;
    input.setAttribute("aria-expanded", String(hits.length > 0));
    clear(list, hits.map((s, index) => h("li", { role: "option", id: `subs-hit-${s.id}`, "data-subscriber-id": s.id,
      class: s.id === shownId ? "current" : "", onmousedown: (e) => e.preventDefault(), onclick: () => openHit(index) },
    h("div", { class: "row" }, h("strong", {}, s.name), ...flagBadges(s)),
    h("div", { class: "subs-hit-phones" }, s.phones.map((p) => ltr(p.e164))))));
    setActive(active);
  }

  function setActive(index) {
    active = index;
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    const li = list.children[index];
    if (li) {
      input.setAttribute("aria-activedescendant", li.id);
      li.scrollIntoView({ block: "nearest" });
    } else input.removeAttribute("aria-activedescendant");
  }

  function openHit(index) {
    const hit = hits[index];
    if (hit) ctx.navigate(`#/subscribers/${hit.id}`);
  }

  return {
    el: h("div", { class: "subs-search-panel" }, input, status, list),
    focus: () => input.focus(),
    refresh: () => { if (input.value.trim().length >= MIN_QUERY) latest = run(); },
    // Highlight the subscriber shown beside the results.
    mark(id) {
      shownId = id;
      [...list.children].forEach((li) => li.classList.toggle("current", Number(li.dataset.subscriberId) === id));
    },
  };
}
