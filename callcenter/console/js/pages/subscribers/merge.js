// The merge confirmation: both records side by side, the operator picks which one stays, then the merge.

import { get, post } from "../../api.js";
import { h, ltr, openDialog } from "../../dom.js";
import { digits } from "../../format.js";
import { t } from "../../i18n.js";
import { flagBadges, problem } from "./common.js";

// Show both subscribers and merge on confirmation; resolves with the API's answer, or null if cancelled.
// Throws when either record cannot be read (for instance, it was merged away already).
export async function confirmMerge(firstId, secondId) {
  const [first, second] = await Promise.all([firstId, secondId].map(
    async (id) => (await get(`/api/subscribers/${id}`)).subscriber));
  return new Promise((resolve) => {
    let kept = first.id;
    let result = null;
    const message = h("p", { class: "form-error", role: "alert" });
    const submit = h("button", { type: "button", class: "primary", "data-action": "merge", onclick: async () => {
      submit.disabled = true;
      message.textContent = "";
      try {
        const other = kept === first.id ? second.id : first.id;
        result = await post(`/api/subscribers/${kept}/merge`, { other_id: other });
        close();
      } catch (err) {
        message.textContent = problem(err);
        submit.disabled = false;
      }
    } }, t("subs.merge.submit"));
    const side = (s) => h("div", { class: "subs-merge-side card", "data-subscriber": s.id },
      h("label", { class: "subs-keep" },
        h("input", { type: "radio", name: "subs-keep", value: String(s.id), checked: s.id === kept,
          onchange: () => { kept = s.id; } }),
        t("subs.merge.keep")),
      h("h3", {}, s.name, " ", ltr(`#${s.id}`, "muted")),
      h("div", { class: "row" }, flagBadges(s)),
      h("h4", {}, t("subs.merge.phones")),
      h("ul", { class: "subs-plain" }, s.phones.map((p) => h("li", {}, ltr(p.e164), p.label ? ` · ${p.label}` : ""))),
      h("h4", {}, t("subs.merge.addresses")),
      h("ul", { class: "subs-plain" }, s.addresses.map((a) => h("li", {},
        a.label ? h("span", { class: "badge" }, a.label) : "", " ", a.full_text))),
      h("p", { class: "muted" }, t("subs.merge.notes", { n: digits(s.notes.length) })));
    const close = openDialog(t("subs.merge.title"), h("div", { class: "subs-merge" },
      h("p", { class: "muted" }, t("subs.merge.explain")),
      h("div", { class: "subs-merge-sides" }, side(first), side(second)),
      message,
      h("div", { class: "row subs-actions" }, submit, h("button", { type: "button", onclick: () => close() }, t("cancel")))),
    { wide: true, onClose: () => resolve(result) });
  });
}
