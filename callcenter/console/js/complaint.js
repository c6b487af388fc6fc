// Opening a complaint (or recording praise) from wherever the operator is: a ride on the board, a subscriber's
// page, a call's card.
//
// `openComplaint({rideId, subscriberId, callId, kind})` shows the dialog and resolves with the case once it is
// opened, or with null if the dialog is closed without one. The service links a ride's subscriber and driver
// itself. Praise is recorded the same way under praise categories. In the dialog: Ctrl+Enter opens the case,
// Esc closes.

import { ApiError, get, post } from "./api.js";
import { h, loadCss, ltr, openDialog, toast } from "./dom.js";
import { digits } from "./format.js";
import { addStrings, lang, t } from "./i18n.js";

const PRIORITIES = ["low", "normal", "high", "urgent"];
const CHANNELS = ["phone", "customer_page", "social_media", "other"];
const KINDS = ["complaint", "praise"];
const MAX_DESCRIPTION = 4000;

addStrings({
  en: {
    "complaint.title": "Open a complaint", "complaint.category": "Category", "complaint.choose": "Choose…",
    "complaint.priority": "Priority", "complaint.channel": "Came by", "complaint.description": "What happened",
    "complaint.submit": "Open complaint", "complaint.keys": "Ctrl+Enter open · Esc close",
    "complaint.about": "About:", "complaint.ride": "ride", "complaint.subscriber": "subscriber",
    "complaint.call": "call", "complaint.opened": "Complaint opened:",
    "complaint.need_category": "Choose the complaint's category.",
    "complaint.need_description": "Describe what happened.",
    "complaint.priority.low": "low", "complaint.priority.normal": "normal", "complaint.priority.high": "high",
    "complaint.priority.urgent": "urgent",
    "complaint.channel.phone": "phone", "complaint.channel.customer_page": "customer page",
    "complaint.channel.social_media": "social media", "complaint.channel.other": "other",
    "complaint.kind": "Feedback", "complaint.kind.complaint": "Complaint", "complaint.kind.praise": "Praise",
    "complaint.praised": "Praise recorded:", "complaint.title.praise": "Record praise",
    "complaint.need_praise": "Describe what the customer praised.",
  },
  fa: {
    "complaint.title": "ثبت شکایت", "complaint.category": "موضوع", "complaint.choose": "انتخاب کنید…",
    "complaint.priority": "اولویت", "complaint.channel": "راه دریافت", "complaint.description": "شرح ماجرا",
    "complaint.submit": "ثبت شکایت", "complaint.keys": "Ctrl+Enter ثبت · Esc بستن",
    "complaint.about": "دربارهٔ:", "complaint.ride": "سفر", "complaint.subscriber": "مشترک",
    "complaint.call": "تماس", "complaint.opened": "شکایت ثبت شد:",
    "complaint.need_category": "موضوع شکایت را انتخاب کنید.",
    "complaint.need_description": "شرح ماجرا را بنویسید.",
    "complaint.priority.low": "کم", "complaint.priority.normal": "عادی", "complaint.priority.high": "زیاد",
    "complaint.priority.urgent": "فوری",
    "complaint.channel.phone": "تلفن", "complaint.channel.customer_page": "صفحهٔ مشتری",
    "complaint.channel.social_media": "شبکه‌های اجتماعی", "complaint.channel.other": "سایر",
    "complaint.kind": "نوع بازخورد", "complaint.kind.complaint": "شکایت", "complaint.kind.praise": "قدردانی",
    "complaint.praised": "قدردانی ثبت شد:", "complaint.title.praise": "ثبت قدردانی",
    "complaint.need_praise": "بنویسید مسافر از چه چیزی قدردانی کرد.",
  },
});

// The taxonomy changes rarely: read it once per page load, and again only if reading it failed.
let categories = null;
function loadCategories() {
  categories ??= get("/api/complaint-categories").then((r) => r.categories).catch((err) => {
    categories = null;
    throw err;
  });
  return categories;
}

function errorText(err) {
  if (err instanceof ApiError && err.status === 0) return t("error.network");
  return err.message;
}

function number(id) {
  return ltr(`#${digits(id)}`);
}

export async function openComplaint({ rideId, subscriberId, callId, kind: startKind = "complaint" } = {}) {
  loadCss("/console/css/complaint.css");
  let list;
  try {
    list = await loadCategories();
  } catch (err) {
    toast(errorText(err), "error");
    return null;
  }
  return new Promise((resolve) => {
    let opened = null;
    let priorityChosen = false;
    let kind = startKind;
    const category = h("select", { name: "category", required: true });
    // Complaints and praise have categories of their own: the list shows the chosen kind's.
    const fillCategories = () => category.replaceChildren(h("option", { value: "" }, t("complaint.choose")),
      ...list.filter((c) => (c.kind ?? "complaint") === kind)
        .map((c) => h("option", { value: c.code }, c.names[lang()] || c.names.en)));
    fillCategories();
    const kinds = h("div", { class: "complaint-kind row", role: "radiogroup", "aria-label": t("complaint.kind") },
      KINDS.map((k) => h("label", { class: "kind-choice" }, h("input", { type: "radio", name: "kind", value: k,
        checked: k === kind, onchange: () => {
          kind = k;
          fillCategories();
          if (!priorityChosen) priority.value = k === "praise" ? "low" : "normal";
        } }), t(`complaint.kind.${k}`))));
    const priority = h("select", { name: "priority", onchange: () => { priorityChosen = true; } },
      PRIORITIES.map((p) => h("option", { value: p, selected: p === (kind === "praise" ? "low" : "normal") },
        t(`complaint.priority.${p}`))));
    // Until the operator picks a priority, it follows the category's (a no-show is more urgent than a dirty car).
    category.addEventListener("change", () => {
      const chosen = list.find((c) => c.code === category.value);
      if (chosen && !priorityChosen) priority.value = chosen.default_priority;
    });
    const channel = h("select", { name: "channel" },
      CHANNELS.map((c) => h("option", { value: c, selected: c === "phone" }, t(`complaint.channel.${c}`))));
    const description = h("textarea", { name: "description", rows: 5, maxlength: MAX_DESCRIPTION, required: true });
    const message = h("p", { class: "form-error", role: "alert" });
    const submit = h("button", { type: "submit", class: "primary" }, t("complaint.submit"));
    const about = [["ride", rideId], ["subscriber", subscriberId], ["call", callId]].filter(([, id]) => id);

    async function send(event) {
      event.preventDefault();
      message.textContent = "";
      if (!category.value) { message.textContent = t("complaint.need_category"); category.focus(); return; }
      if (!description.value.trim()) {
        message.textContent = t(kind === "praise" ? "complaint.need_praise" : "complaint.need_description");
        description.focus();
        return;
      }
      submit.disabled = true; // one complaint per click, however impatient the click
      try {
        const { complaint } = await post("/api/complaints", {
          category: category.value, priority: priority.value, channel: channel.value,
          description: description.value, ride_id: rideId ?? null, subscriber_id: subscriberId ?? null,
          call_id: callId ?? null,
        });
        opened = complaint;
        close();
        toast(h("span", {}, t(complaint.kind === "praise" ? "complaint.praised" : "complaint.opened"), " ",
          number(complaint.id)), "ok");
      } catch (err) {
        message.textContent = errorText(err);
        submit.disabled = false;
      }
    }

    const form = h("form", { class: "complaint-form", novalidate: true, onsubmit: send,
      onkeydown: (event) => {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
      } },
    about.length ? h("p", { class: "complaint-about muted" }, t("complaint.about"), " ",
      about.map(([what, id], i) => [i ? (lang() === "fa" ? "، " : ", ") : "", t(`complaint.${what}`), " ", number(id)])) : null,
    kinds,
    h("label", {}, t("complaint.category"), category),
    h("div", { class: "grid2" },
      h("label", {}, t("complaint.priority"), priority),
      h("label", {}, t("complaint.channel"), channel)),
    h("label", {}, t("complaint.description"), description),
    message,
    h("div", { class: "row" },
      submit,
      h("button", { type: "button", onclick: () => close() }, t("cancel")),
      h("span", { class: "muted keys" }, t("complaint.keys"))));
    const close = openDialog(t("complaint.title"), form, { onClose: () => resolve(opened) });
  });
}
