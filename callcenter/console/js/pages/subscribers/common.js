// Small pieces the subscriber page's views share: error texts, a confirmation, a section, flag badges.

import { ApiError } from "../../api.js";
import { h, openDialog } from "../../dom.js";
import { t } from "../../i18n.js";
import { LABELS } from "./strings.js";

export const MANAGER_ROLES = new Set(["supervisor", "admin"]);

// What went wrong, in the operator's language when the error's code is one we know, else the server's words.
export function problem(err) {
  if (!(err instanceof ApiError)) return String(err?.message ?? err);
  if (err.code === "network") return t("error.network");
  const key = `subs.err.${err.code}`;
  const text = t(key);
  return text === key ? err.message : text;
}

// Ask before something that cannot be taken back; resolves true only when the operator confirms.
export function confirmDialog(title, body, confirmLabel) {
  return new Promise((resolve) => {
    let confirmed = false;
    const close = openDialog(title, h("div", { class: "subs-confirm" },
      body,
      h("div", { class: "row subs-actions" },
        h("button", { type: "button", class: "danger", "data-action": "confirm",
          onclick: () => { confirmed = true; close(); } }, confirmLabel),
        h("button", { type: "button", onclick: () => close() }, t("cancel")))),
    { onClose: () => resolve(confirmed) });
  });
}

export function section(name, title, ...children) {
  return h("section", { class: `subs-section card subs-${name}`, "data-section": name },
    h("h2", {}, title), ...children);
}

export function flagBadges(subscriber) {
  return [
    subscriber.is_vip && h("span", { class: "badge vip", "data-flag": "vip" }, t("subs.vip")),
    subscriber.is_blocked && h("span", { class: "badge blocked", "data-flag": "blocked" }, t("subs.blocked")),
    subscriber.loyalty_tier && subscriber.loyalty_tier !== "none"
      && h("span", { class: `badge tier tier-${subscriber.loyalty_tier}`, "data-flag": "tier" },
        t(`subs.loyalty.${subscriber.loyalty_tier}`)),
  ];
}

// A form's submit handler that shows the failure under the form and keeps what was typed.
export function submitting(message, run) {
  return async (event) => {
    event.preventDefault();
    const button = event.target.querySelector("button[type=submit]");
    message.textContent = "";
    if (button) button.disabled = true;
    try {
      await run();
    } catch (err) {
      message.textContent = problem(err);
    } finally {
      if (button) button.disabled = false;
    }
  };
}

// A label field suggesting the usual labels in the operator's language; any other label may be typed.
export function labelInput(value = "") {
  const listId = "subs-label-options";
  if (!document.getElementById(listId)) {
    document.body.append(h("datalist", { id: listId },
      LABELS.map((key) => h("option", { value: t(`subs.label.${key}`) }))));
  }
  return h("input", { name: "label", value, maxlength: 50, list: listId, "aria-label": t("subs.address.label") });
}
