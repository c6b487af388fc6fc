// Pairs of subscribers that are likely one person, with the reasons, and the merge of a pair.

import { get } from "../../api.js";
import { clear, h, ltr, toast } from "../../dom.js";
import { t } from "../../i18n.js";
import { problem } from "./common.js";
import { confirmMerge } from "./merge.js";

// A reason's detail is a number (kept left-to-right) or an address text.
const NUMBER_REASONS = new Set(["phone_in_history"]);

export function duplicatesView() {
  const body = h("div", { class: "subs-dups-body" });
  const el = h("div", { class: "subs-dups card" }, h("h1", {}, t("subs.dups.title")), body);
  let loads = 0;

  async function load() {
    const run = ++loads;
    if (!body.firstChild) body.append(h("p", { class: "muted" }, t("loading"))); // Else the old list stays meanwhile.
    try {
      const { pairs } = await get("/api/subscribers/duplicates");
      if (run === loads) render(pairs);
    } catch (err) {
      if (run === loads) clear(body, h("p", { class: "form-error", role: "alert" }, problem(err)));
    }
  }

  function render(pairs) {
    if (!pairs.length) return clear(body, h("p", { class: "muted" }, t("subs.dups.none")));
    clear(body, h("table", { class: "subs-dups-table" },
      h("thead", {}, h("tr", {}, h("th", {}, t("subs.dups.first")), h("th", {}, t("subs.dups.second")),
        h("th", {}, t("subs.dups.reasons")), h("th", {}))),
      h("tbody", {}, pairs.map((pair) => h("tr", { "data-pair": `${pair.first.id}-${pair.second.id}` },
        h("td", {}, who(pair.first)), h("td", {}, who(pair.second)),
        h("td", {}, h("ul", { class: "subs-plain" }, pair.reasons.map((r) => h("li", { "data-reason": r.kind },
          h("strong", {}, t(`subs.dup.${r.kind}`)), ": ", NUMBER_REASONS.has(r.kind) ? ltr(r.detail) : r.detail)))),
        h("td", {}, h("button", { type: "button", class: "primary", "data-action": "merge",
          onclick: () => merge(pair) }, t("subs.dups.merge"))))))));
  }

  async function merge(pair) {
    try {
      const done = await confirmMerge(pair.first.id, pair.second.id);
      if (!done) return;
      toast(t("subs.merge.done", { name: done.subscriber.name }), "ok");
    } catch (err) {
      toast(problem(err), "error");
    }
    await load(); // Either way the list may have changed: this pair, and any pair with the merged-away one.
  }

  return { el, load };
}

function who(subscriber) {
  return h("a", { href: `#/subscribers/${subscriber.id}` }, subscriber.name, " ", ltr(`#${subscriber.id}`, "muted"));
}
