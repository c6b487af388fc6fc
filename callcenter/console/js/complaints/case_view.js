// One case in full, in a dialog over the complaints page: what it is about, its SLA clocks, the workflow's steps
// (assign, re-triage, pending, resolve with an outcome, reject, duplicate, reopen), a comment box, the history, and the
// evidence. It follows the case live while open (the page calls `reload` when the case changes).
//
// Keys, when not typing: A assign, T re-triage, P pending, R resolve, J reject, D duplicate, O reopen, C comment; in a form,
// Ctrl+Enter sends it; Esc closes the dialog.

import { ApiError, get, post } from "../api.js";
import { clear, h, ltr, openDialog, toast, typing } from "../dom.js";
import { asciiDigits, dateTime, digits } from "../format.js";
import { addStrings, lang, t } from "../i18n.js";
import { HANDLERS, OPEN, OUTCOMES, PRIORITIES, TRANSITIONS, caseNumber, categoryName, clockText, isOverdue, kindBadge,
  priorityBadge, statusBadge } from "./cases.js";
import { evidenceLoading, evidenceView } from "./evidence.js";

addStrings({
  en: {
    "case.category": "Category", "case.channel": "Came by", "case.opened": "Opened", "case.assignee": "Assigned to",
    "case.nobody": "nobody yet", "case.subscriber": "Customer", "case.driver": "Driver", "case.ride": "Ride",
    "case.call": "Call", "case.operator": "About operator", "case.outcome": "Outcome", "case.duplicateOf": "Duplicate of",
    "case.description": "What was reported", "case.history": "History", "case.comment": "Add a comment",
    "case.commentSend": "Comment", "case.send": "Save", "case.note": "Note on the outcome (optional)",
    "case.stepComment": "Comment (optional)", "case.duplicateNumber": "Number of the case it duplicates",
    "case.assignTo": "Assign to", "case.assignMe": "Assign to me", "case.choose": "Choose…",
    "case.action.assign": "Assign", "case.action.assigned": "Back to assigned", "case.action.pending": "Pending",
    "case.action.resolved": "Resolve", "case.action.rejected": "Reject", "case.action.duplicate": "Duplicate",
    "case.action.reopen": "Reopen", "case.action.triage": "Re-triage",
    "case.priority": "Priority", "case.triageWhy": "Why (optional)",
    "case.event.triaged": "re-triaged: {category} · {priority}",
    "case.keys": "A assign · T re-triage · P pending · R resolve · J reject · D duplicate · O reopen · C comment · Ctrl+Enter send · Esc close",
    "case.readOnly": "Only a supervisor, an admin or the assignee moves this case along; anyone may comment.",
    "case.changedMeanwhile": "Someone changed the case meanwhile; it was reloaded. Check it and try again.",
    "case.event.opened": "opened the case", "case.event.assigned": "assigned it to {name}",
    "case.event.status_changed": "{from} → {to}", "case.event.commented": "commented",
    "case.event.outcome_set": "outcome: {outcome}", "case.event.subscriber_merged": "customer records merged",
    "case.event.suspension": "the driver was suspended", "case.event.alreadySuspended": "the driver was already suspended",
    "case.system": "the system", "case.customer": "the customer", "case.need": "Fill in what this step needs.",
  },
  fa: {
    "case.category": "موضوع", "case.channel": "راه دریافت", "case.opened": "ثبت", "case.assignee": "مسئول",
    "case.nobody": "هنوز کسی", "case.subscriber": "مسافر", "case.driver": "راننده", "case.ride": "سفر",
    "case.call": "تماس", "case.operator": "دربارهٔ اپراتور", "case.outcome": "نتیجه", "case.duplicateOf": "تکرارِ",
    "case.description": "شرح گزارش", "case.history": "سابقه", "case.comment": "افزودن یادداشت",
    "case.commentSend": "ثبت یادداشت", "case.send": "ثبت", "case.note": "توضیح نتیجه (اختیاری)",
    "case.stepComment": "یادداشت (اختیاری)", "case.duplicateNumber": "شمارهٔ پروندهٔ اصلی",
    "case.assignTo": "واگذاری به", "case.assignMe": "واگذاری به خودم", "case.choose": "انتخاب کنید…",
    "case.action.assign": "واگذاری", "case.action.assigned": "بازگشت به واگذارشده", "case.action.pending": "در انتظار",
    "case.action.resolved": "رسیدگی", "case.action.rejected": "رد", "case.action.duplicate": "تکراری",
    "case.action.reopen": "بازگشایی", "case.action.triage": "تغییر موضوع یا اولویت",
    "case.priority": "اولویت", "case.triageWhy": "دلیل (اختیاری)",
    "case.event.triaged": "موضوع و اولویت را تغییر داد: {category} · {priority}",
    "case.keys": "A واگذاری · T تغییر موضوع · P در انتظار · R رسیدگی · J رد · D تکراری · O بازگشایی · C یادداشت · Ctrl+Enter ثبت · Esc بستن",
    "case.readOnly": "تنها سرپرست، مدیر یا مسئول پرونده آن را پیش می‌برد؛ یادداشت را همه می‌توانند بنویسند.",
    "case.changedMeanwhile": "کس دیگری در این فاصله پرونده را تغییر داد؛ دوباره بارگذاری شد. بررسی کنید و دوباره بکوشید.",
    "case.event.opened": "پرونده را باز کرد", "case.event.assigned": "به {name} واگذار کرد",
    "case.event.status_changed": "{from} ← {to}", "case.event.commented": "یادداشت نوشت",
    "case.event.outcome_set": "نتیجه: {outcome}", "case.event.subscriber_merged": "پرونده‌های مسافر ادغام شد",
    "case.event.suspension": "راننده تعلیق شد", "case.event.alreadySuspended": "راننده از پیش تعلیق بود",
    "case.system": "سامانه", "case.customer": "مسافر", "case.need": "آنچه این گام لازم دارد را پر کنید.",
  },
});

// Letters by their place on the keyboard (event.code), so they work with a Persian layout too.
const KEYS = { KeyA: "assign", KeyT: "triage", KeyP: "pending", KeyR: "resolved", KeyJ: "rejected", KeyD: "duplicate",
  KeyO: "reopen", KeyC: "comment" };

function errorText(err) {
  return err instanceof ApiError && err.status === 0 ? t("error.network") : err.message;
}

// Open case `id`. `page` lends {me, names, driverName(id), upsert(complaint), onClosed(panel)}.
// Returns the panel: {id, version(), reload, close, closed}.
export function openCase(id, page) {
  const body = h("div", { class: "case-view", "data-case-id": id }, h("p", { class: "muted" }, t("loading")));
  const panel = { id, version: () => complaint?.version, reload, close: null, closed: false };
  let complaint = null;
  let events = [];
  let step = null; // the step whose form is open: "assign", "resolved", ...
  let stepEl = null; // its form, kept across redraws so nothing typed is lost when the case changes live
  let commentEl = null;
  let loading = null;
  let again = false;
  const evidenceBox = h("div", { class: "case-evidence" });
  evidenceLoading(evidenceBox);
  panel.close = openDialog(t("case.number", { id: digits(id) }), body, { wide: true,
    onClose: () => {
      panel.closed = true;
      clearInterval(ticker);
      document.removeEventListener("keydown", onKey);
      page.onClosed?.(panel);
    } });
  // The dialog's keys work wherever the focus is, as long as it is the topmost dialog and nobody is typing.
  document.addEventListener("keydown", onKey);
  const ticker = setInterval(tick, 1000); // the clocks count down while the case is open

  async function reload() {
    if (loading) { again = true; return loading; }
    loading = (async () => {
      try {
        const found = await get(`/api/complaints/${id}`);
        complaint = found.complaint;
        events = found.events;
        page.upsert(complaint);
        if (!panel.closed) render();
      } catch (err) {
        if (!panel.closed) clear(body, h("p", { class: "form-error" }, errorText(err)));
      }
    })();
    await loading;
    loading = null;
    if (again) { again = false; return reload(); }
    return undefined;
  }

  async function loadEvidence() {
    try {
      const evidence = await get(`/api/complaints/${id}/evidence`);
      if (!panel.closed) clear(evidenceBox, evidenceView(evidence, page.driverName));
    } catch (err) {
      clear(evidenceBox, h("p", { class: "form-error" }, errorText(err)));
    }
  }

  const mayHandle = () => HANDLERS.has(page.me.role) || complaint.assignee_id === page.me.id;

  function render() {
    const focusedAction = document.activeElement?.dataset?.action;
    commentEl ??= commentForm();
    if (step && !steps().includes(step)) { step = null; stepEl = null; }
    clear(body,
      h("div", { class: "row case-head" }, caseNumber(complaint.id), kindBadge(complaint.kind),
        statusBadge(complaint.status), priorityBadge(complaint.priority),
        h("span", { class: "case-overdue badge bad", hidden: !isOverdue(complaint, Date.now()) }, t("case.overdue")),
        h("span", { class: "spacer" }), clocks()),
      h("div", { class: "case-columns" },
        h("div", { class: "case-work" }, facts(),
          h("div", { class: "case-description card" }, h("h4", {}, t("case.description")),
            h("p", { class: "pre" }, complaint.description)),
          actions(), stepEl, commentEl,
          h("p", { class: "muted small case-keys" }, t("case.keys")),
          h("div", { class: "case-history" }, h("h3", {}, t("case.history")), historyList())),
        evidenceBox));
    tick();
    if (focusedAction) body.querySelector(`[data-action="${focusedAction}"]`)?.focus();
    // The first time the case shows, the keyboard starts on its first step.
    else if (!body.contains(document.activeElement)) body.querySelector(".case-actions button, .comment-form textarea")?.focus();
  }

  function clocks() {
    return h("div", { class: "case-clocks" }, ["first_response", "resolution"].map((name) =>
      h("span", { class: "case-clock", "data-clock": name }, h("span", { class: "muted" }, t(`case.clock.${name}`), ": "),
        h("span", { class: "clock-text" }))));
  }

  function tick() {
    if (!complaint) return;
    const now = Date.now();
    for (const el of body.querySelectorAll(".case-clock")) {
      const clock = complaint.sla?.[el.dataset.clock];
      const { state, text } = clockText(clock, now);
      el.dataset.state = state;
      el.querySelector(".clock-text").textContent = text;
      el.title = clock ? dateTime(clock.due_at) : "";
    }
    const overdue = body.querySelector(".case-overdue");
    if (overdue) overdue.hidden = !isOverdue(complaint, now);
  }

  function facts() {
    const item = (label, ...value) => [h("dt", {}, t(label)), h("dd", {}, ...value)];
    const c = complaint;
    const subscriber = page.names.subscriber(c.subscriber_id);
    return h("dl", { class: "facts case-facts" },
      item("case.category", categoryName(c, lang())),
      item("case.channel", t(`case.channel.${c.channel}`)),
      item("case.opened", dateTime(c.created_at), c.opened_by_name ? ` · ${c.opened_by_name}` : ""),
      item("case.assignee", c.assignee_name ?? h("span", { class: "muted" }, t("case.nobody"))),
      c.subscriber_id != null && item("case.subscriber", subscriber?.name ?? "", " ", ltr(`#${digits(c.subscriber_id)}`)),
      c.driver_id != null && item("case.driver", page.driverName(c.driver_id)),
      c.ride_id != null && item("case.ride", ltr(`#${digits(c.ride_id)}`)),
      c.call_id != null && item("case.call", ltr(`#${digits(c.call_id)}`)),
      c.operator_id != null && item("case.operator", ltr(`#${digits(c.operator_id)}`)),
      c.outcome && item("case.outcome", t(`case.outcome.${c.outcome}`), c.outcome_note ? ` — ${c.outcome_note}` : ""),
      c.duplicate_of != null && item("case.duplicateOf", caseNumber(c.duplicate_of)));
  }

  // The steps the workflow allows from here, each with the form it needs.
  function steps() {
    const status = complaint.status;
    const allowed = TRANSITIONS[status];
    const list = [];
    if (HANDLERS.has(page.me.role) && OPEN.has(status)) list.push("assign");
    if (OPEN.has(status)) list.push("triage");
    if (status === "pending" && complaint.assignee_id != null) list.push("assigned");
    for (const s of ["pending", "resolved", "rejected", "duplicate"]) {
      if (allowed.includes(s) && OPEN.has(status)) list.push(s);
    }
    if (!OPEN.has(status)) list.push("reopen");
    return list;
  }

  function actions() {
    if (!mayHandle() && !HANDLERS.has(page.me.role)) return h("p", { class: "muted small" }, t("case.readOnly"));
    return h("div", { class: "row case-actions" }, steps().map((name) => h("button", { type: "button",
      class: `${step === name ? "active" : ""} ${name === "resolved" ? "primary" : ""}`.trim(), "data-action": name,
      "aria-expanded": String(step === name), disabled: name !== "assign" && !mayHandle(),
      onclick: () => openStep(name) }, t(`case.action.${name}`))));
  }

  function openStep(name) {
    if (!steps().includes(name) || (name !== "assign" && !mayHandle())) return;
    step = step === name ? null : name;
    stepEl = step ? stepForm(step) : null;
    render();
    body.querySelector(".step-form select, .step-form input, .step-form textarea")?.focus();
  }

  function stepForm(name) {
    const message = h("p", { class: "form-error", role: "alert" });
    const submit = h("button", { type: "submit", class: "primary" }, t("case.send"));
    const fields = [];
    let payload;
    if (name === "assign") {
      const who = h("select", { name: "assignee" }, h("option", { value: "" }, t("case.choose")));
      page.assignees().then((list) => who.append(...list.filter((u) => u.id !== complaint.assignee_id)
        .map((u) => h("option", { value: u.id }, u.name, " · ", t(`role.${u.role}`)))));
      fields.push(h("label", {}, t("case.assignTo"), who),
        h("button", { type: "button", class: "assign-me", onclick: () => { who.value = String(page.me.id);
          form.requestSubmit(); } }, t("case.assignMe")));
      payload = () => (who.value ? ["assign", { assignee_id: Number(who.value) }] : null);
    } else if (name === "triage") {
      const category = h("select", { name: "category" });
      const priority = h("select", { name: "priority" }, PRIORITIES.map((p) =>
        h("option", { value: p, selected: p === complaint.priority }, t(`case.priority.${p}`))));
      const why = h("textarea", { name: "triage-comment", rows: 2, maxlength: 4000 });
      page.categories().then((list) => category.append(...list
        .filter((c) => c.kind === complaint.kind && (c.is_active || c.code === complaint.category))
        .map((c) => h("option", { value: c.code, selected: c.code === complaint.category },
          c.names[lang()] || c.names.en))));
      fields.push(h("label", {}, t("case.category"), category), h("label", {}, t("case.priority"), priority),
        h("label", {}, t("case.triageWhy"), why));
      payload = () => ["triage", { category: category.value || null, priority: priority.value,
        comment: why.value.trim() || null }];
    } else {
      const comment = h("textarea", { name: "step-comment", rows: 2, maxlength: 4000 });
      let outcome = null, note = null, duplicate = null;
      if (name === "resolved") {
        const choices = OUTCOMES[complaint.kind].filter((o) => o !== "driver_suspended"
          || (page.me.role === "admin" && complaint.driver_id != null));
        outcome = h("select", { name: "outcome" }, h("option", { value: "" }, t("case.choose")),
          choices.map((o) => h("option", { value: o }, t(`case.outcome.${o}`))));
        note = h("textarea", { name: "outcome-note", rows: 2, maxlength: 2000 });
        fields.push(h("label", {}, t("case.outcome"), outcome), h("label", {}, t("case.note"), note));
      }
      if (name === "duplicate") {
        duplicate = h("input", { name: "duplicate-of", inputmode: "numeric", dir: "ltr", size: 8 });
        fields.push(h("label", {}, t("case.duplicateNumber"), duplicate));
      }
      fields.push(h("label", {}, t("case.stepComment"), comment));
      payload = () => {
        if ((outcome && !outcome.value) || (duplicate && !asciiDigits(duplicate.value).replace(/\D/g, ""))) return null;
        return ["status", {
          status: name === "reopen" ? "pending" : name, comment: comment.value.trim() || null,
          outcome: outcome?.value || null, outcome_note: note?.value.trim() || null,
          duplicate_of: duplicate ? Number(asciiDigits(duplicate.value).replace(/\D/g, "")) : null,
        }];
      };
    }
    const form = h("form", { class: "step-form card", "data-step": name, novalidate: true,
      onkeydown: (event) => { if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit(); },
      onsubmit: async (event) => {
        event.preventDefault();
        const asked = payload();
        if (!asked) { message.textContent = t("case.need"); return; }
        const [action, data] = asked;
        submit.disabled = true;
        try {
          const answer = await post(`/api/complaints/${id}/${action}`, { ...data, expected_version: complaint.version });
          step = null;
          stepEl = null;
          complaint = answer.complaint;
          page.upsert(complaint);
          await reload();
          if (action === "status" && data.outcome === "driver_suspended") loadEvidence();
        } catch (err) {
          if (err.code === "complaint_changed") {
            await reload();
            toast(t("case.changedMeanwhile"), "error");
            return;
          }
          message.textContent = errorText(err);
          submit.disabled = false;
        }
      } },
    h("h4", {}, t(`case.action.${name}`)), h("div", { class: "row step-fields" }, fields), message,
    h("div", { class: "row" }, submit, h("button", { type: "button", onclick: () => {
      step = null;
      stepEl = null;
      render();
    } }, t("cancel"))));
    return form;
  }

  function commentForm() {
    const text = h("textarea", { name: "comment", rows: 2, maxlength: 4000, "aria-label": t("case.comment") });
    const message = h("p", { class: "form-error", role: "alert" });
    const send = h("button", { type: "submit" }, t("case.commentSend"));
    const form = h("form", { class: "comment-form", novalidate: true,
      onkeydown: (event) => { if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit(); },
      onsubmit: async (event) => {
        event.preventDefault();
        if (!text.value.trim()) { text.focus(); return; }
        send.disabled = true;
        try {
          await post(`/api/complaints/${id}/comments`, { body: text.value });
          text.value = "";
          message.textContent = "";
          await reload();
          text.focus();
        } catch (err) {
          message.textContent = errorText(err);
        }
        send.disabled = false;
      } },
    h("label", {}, t("case.comment"), text), message, h("div", { class: "row" }, send));
    return form;
  }

  function historyList() {
    return h("ol", { class: "case-events" }, events.map((e) => h("li", { "data-kind": e.kind },
      h("span", { class: "muted small" }, dateTime(e.at)), " ",
      h("strong", {}, e.actor.name ?? t(e.actor.kind === "system" ? "case.system" : "case.customer")), " ",
      eventText(e),
      e.body ? h("p", { class: "pre event-body" }, e.body) : null)));
  }

  function eventText(e) {
    const d = e.details || {};
    switch (e.kind) {
      case "assigned": return t("case.event.assigned", { name: d.assignee_name ?? "" });
      case "status_changed": return [statusBadge(e.from_status), lang() === "fa" ? " ← " : " → ", statusBadge(e.to_status),
        d.duplicate_of ? [" ", caseNumber(d.duplicate_of)] : null];
      case "outcome_set": return [t("case.event.outcome_set", { outcome: t(`case.outcome.${d.outcome}`) }),
        d.outcome_note ? ` — ${d.outcome_note}` : "",
        d.driver_suspension ? h("span", { class: "badge bad suspension" }, " ",
          t(d.driver_suspension.already_suspended ? "case.event.alreadySuspended" : "case.event.suspension")) : null];
      case "triaged": return t("case.event.triaged", {
        category: page.categoryName(d.category), priority: t(`case.priority.${d.priority}`) });
      default: return t(`case.event.${e.kind}`);
    }
  }

  function onKey(event) {
    if (typing(event) || event.altKey || event.ctrlKey || event.metaKey || !complaint) return;
    if ([...document.querySelectorAll(".dialog-backdrop")].pop()?.contains(body) !== true) return;
    const name = KEYS[event.code];
    if (!name) return;
    event.preventDefault();
    if (name === "comment") body.querySelector(".comment-form textarea")?.focus();
    else openStep(name);
  }

  reload();
  loadEvidence();
  return panel;
}
