// One subscriber: name and flags, phones, saved addresses, notes, ride history and complaints, all editable here.

import { ApiError, del, get, patch, post, put, query } from "../../api.js";
import { clear, h, ltr, openDialog, toast } from "../../dom.js";
import { asciiDigits, date, dateTime, digits, money } from "../../format.js";
import { lang, t } from "../../i18n.js";
import { rideLabel, statusBadge } from "../../rides.js";
import { MANAGER_ROLES, confirmDialog, flagBadges, labelInput, problem, section, submitting } from "./common.js";
import { confirmMerge } from "./merge.js";
import { MOODS, TIERS } from "./strings.js";

const RIDES_SHOWN = 50;

export function recordView(ctx, onChanged) {
  const isManager = MANAGER_ROLES.has(ctx.me.role);
  let id = null;
  let record = null;
  let rides = [];
  let loads = 0; // Answers to an older open() are dropped: the operator has moved on.

  const notice = h("p", { class: "subs-notice muted", role: "status" });
  const head = h("div", { class: "subs-head card" });
  const phoneList = h("ul", { class: "subs-list subs-phone-list" });
  const addressList = h("ul", { class: "subs-list subs-address-list" });
  const noteList = h("ul", { class: "subs-list subs-note-list" });
  const rideBox = h("div", { class: "subs-rides-body" });
  const complaintBox = h("div", { class: "subs-complaints-body" });
  const el = h("div", { class: "subs-record" }, notice,
    h("div", { class: "subs-body" }, head,
      h("div", { class: "subs-columns" },
        h("div", { class: "subs-col" },
          section("phones", t("subs.phones"), phoneList, phoneForm()),
          section("addresses", t("subs.addresses"), addressList, addressForm())),
        h("div", { class: "subs-col" }, section("notes", t("subs.notes"), noteForm(), noteList))),
      section("rides", t("subs.rides"), rideBox),
      section("complaints", t("subs.complaints"), complaintBox)));

  // Loading ------------------------------------------------------------------------------------------

  function open(subscriberId) {
    if (subscriberId !== id) {
      id = subscriberId;
      record = null;
      rides = [];
      el.dataset.state = "loading";
      notice.textContent = t("loading");
    }
    return load();
  }

  async function load() {
    if (id === null) return;
    const run = ++loads;
    const current = () => run === loads;
    loadRides(current);
    loadComplaints(current);
    try {
      const { subscriber } = await get(`/api/subscribers/${id}`);
      if (current()) show(subscriber);
    } catch (err) {
      if (!current()) return;
      record = null;
      el.dataset.state = "missing";
      notice.textContent = err instanceof ApiError && err.code === "subscriber_not_found" ? t("subs.not_found")
        : problem(err);
    }
  }

  // After a change: the record, and the search results beside it, which may show the old name or flags.
  async function reload() {
    const { subscriber } = await get(`/api/subscribers/${id}`);
    show(subscriber);
    onChanged();
  }

  // Run a change, then redraw the record from the server. Success shows in the record itself (a toast only
  // when it would not); a failure becomes a toast and changes nothing here.
  async function change(run, done) {
    try {
      await run();
      await reload();
      if (done) toast(done, "ok");
    } catch (err) {
      toast(problem(err), "error");
    }
  }

  function show(subscriber) {
    record = subscriber;
    el.dataset.state = "ready";
    el.dataset.subscriberId = subscriber.id;
    notice.textContent = "";
    renderHead();
    renderPhones();
    renderAddresses();
    renderNotes();
  }

  // Name and flags -----------------------------------------------------------------------------------

  function renderHead() {
    const s = record;
    const title = h("div", { class: "row subs-title" },
      h("h1", { class: "subs-name" }, s.name),
      ltr(`#${s.id}`, "muted subs-id"),
      h("button", { type: "button", "data-action": "rename", onclick: () => clear(title, renameForm()) },
        t("subs.rename")),
      ...flagBadges(s));
    const tier = h("select", { "data-field": "loyalty", disabled: !isManager,
      title: isManager ? null : t("subs.managers_only"),
      onchange: () => change(() => put(`/api/subscribers/${s.id}/loyalty`, { tier: tier.value })) },
    TIERS.map((value) => h("option", { value, selected: value === s.loyalty_tier }, t(`subs.loyalty.${value}`))));
    clear(head, title,
      h("p", { class: "muted" }, t("subs.since", { date: date(s.created_at) })),
      s.is_blocked && h("p", { class: "subs-blocked-detail", role: "note" }, t("subs.blocked.detail", {
        date: dateTime(s.blocked_at), who: s.blocked_by_name || t("subs.note.unknown_author"),
        reason: s.blocked_reason || "" })),
      h("div", { class: "row subs-flags" },
        h("button", { type: "button", "data-action": "vip", "aria-pressed": String(s.is_vip), onclick: () =>
          change(() => (s.is_vip ? del : post)(`/api/subscribers/${s.id}/vip`)) },
        t(s.is_vip ? "subs.vip.unset" : "subs.vip.set")),
        h("label", { class: "subs-inline" }, t("subs.loyalty"), tier),
        isManager && (s.is_blocked
          ? h("button", { type: "button", "data-action": "unblock", onclick: () =>
            change(() => del(`/api/subscribers/${s.id}/block`)) }, t("subs.unblock"))
          : h("button", { type: "button", class: "danger", "data-action": "block", onclick: blockDialog },
            t("subs.block"))),
        h("span", { class: "spacer" }),
        h("button", { type: "button", class: "primary", "data-action": "open-complaint",
          onclick: () => openComplaint({}) }, t("subs.complaint.open")),
        isManager && h("button", { type: "button", "data-action": "merge-with", onclick: mergeWithDialog },
          t("subs.merge_with"))));
  }

  function renameForm() {
    const input = h("input", { name: "name", value: record.name, required: true, maxlength: 200,
      "aria-label": t("subs.name"), onkeydown: (e) => { if (e.key === "Escape") renderHead(); } });
    const message = h("span", { class: "form-error", role: "alert" });
    const form = h("form", { class: "row subs-rename", onsubmit: submitting(message, async () => {
      if (input.value.trim() === record.name) return renderHead();
      await patch(`/api/subscribers/${record.id}`, { name: input.value });
      await reload();
    }) },
    input, h("button", { type: "submit", class: "primary" }, t("save")),
    h("button", { type: "button", onclick: renderHead }, t("cancel")), message);
    queueMicrotask(() => { input.focus(); input.select(); });
    return form;
  }

  function blockDialog() {
    const reason = h("textarea", { name: "reason", required: true, maxlength: 500, rows: 3 });
    const message = h("p", { class: "form-error", role: "alert" });
    const close = openDialog(t("subs.block.title"), h("form", { class: "subs-form", onsubmit: submitting(message,
      async () => {
        await post(`/api/subscribers/${record.id}/block`, { reason: reason.value });
        close();
        await reload();
      }) },
    h("label", {}, t("subs.block.reason"), reason), message,
    h("div", { class: "row subs-actions" }, h("button", { type: "submit", class: "danger" }, t("subs.block")))));
  }

  function mergeWithDialog() {
    const other = h("input", { name: "other_id", required: true, inputmode: "numeric", dir: "ltr" });
    const message = h("p", { class: "form-error", role: "alert" });
    const close = openDialog(t("subs.merge_with"), h("form", { class: "subs-form", onsubmit: submitting(message,
      async () => {
        const otherId = Number(asciiDigits(other.value).replace(/\D/g, ""));
        await get(`/api/subscribers/${otherId}`); // A wrong number is told here, where it was typed.
        close(); // Before the next dialog opens: one Escape would close both if they were stacked.
        const done = await confirmMerge(record.id, otherId).catch((err) => toast(problem(err), "error"));
        if (done) mergeDone(done);
      }) },
    h("label", {}, t("subs.merge_with.id"), other), message,
    h("div", { class: "row subs-actions" }, h("button", { type: "submit", class: "primary" }, t("subs.dups.merge")))));
  }

  function mergeDone({ subscriber }) {
    toast(t("subs.merge.done", { name: subscriber.name }), "ok");
    onChanged();
    // The kept one may be the other subscriber; either way its rides and complaints now include the merged ones.
    if (subscriber.id === id) load();
    else ctx.navigate(`#/subscribers/${subscriber.id}`);
  }

  async function openComplaint(about) {
    let opened;
    try {
      // Loaded on first use: the feedback module's dialog is not needed until someone complains.
      const complaint = await import("../../complaint.js");
      opened = await complaint.openComplaint({ subscriberId: id, ...about });
    } catch {
      toast(t("error.network"), "error"); // The module could not be fetched.
      return;
    }
    const run = loads;
    if (opened) loadComplaints(() => run === loads);
  }

  // Phones -------------------------------------------------------------------------------------------

  function renderPhones() {
    clear(phoneList, record.phones.map((phone) => h("li", { class: "row", "data-phone": phone.e164 },
      ltr(phone.e164, "subs-phone"),
      h("span", { class: "badge" }, t(`subs.phone.${phone.kind}`)),
      phone.label && h("span", { class: "muted" }, phone.label),
      h("span", { class: "spacer" }),
      h("button", { type: "button", "data-action": "remove-phone", onclick: () =>
        change(() => del(`/api/subscribers/${id}/phones/${phone.id}`), t("subs.phone.removed")) },
      t("subs.phone.remove")))));
  }

  function phoneForm() {
    const number = h("input", { name: "number", required: true, maxlength: 40, inputmode: "tel", dir: "ltr",
      "aria-label": t("subs.phone.number"), placeholder: t("subs.phone.number") });
    const label = h("input", { name: "label", maxlength: 50, "aria-label": t("subs.phone.label"),
      placeholder: t("subs.phone.label") });
    const message = h("p", { class: "form-error", role: "alert" });
    return h("form", { class: "subs-add subs-add-phone", onsubmit: submitting(message, async () => {
      await post(`/api/subscribers/${id}/phones`, { number: number.value, label: label.value.trim() || null });
      number.value = label.value = "";
      await reload();
    }) },
    h("div", { class: "row" }, number, label, h("button", { type: "submit" }, t("subs.phone.add"))), message);
  }

  // Addresses ----------------------------------------------------------------------------------------

  function renderAddresses() {
    clear(addressList, record.addresses.length ? record.addresses.map(addressItem)
      : h("li", { class: "muted" }, t("subs.address.none")));
  }

  function addressItem(address) {
    const li = h("li", { class: "subs-address", "data-address-id": address.id });
    const view = () => clear(li,
      h("div", { class: "row" },
        address.label && h("span", { class: "badge subs-label" }, address.label),
        h("span", { class: "subs-address-text" }, address.full_text)),
      address.landmark && h("div", { class: "muted subs-landmark" }, address.landmark),
      h("div", { class: "row subs-meta" },
        h("span", { class: "muted" }, usage(address)),
        h("span", { class: "spacer" }),
        h("button", { type: "button", "data-action": "edit-address", onclick: () => clear(li, editForm()) },
          t("edit")),
        h("button", { type: "button", "data-action": "relabel", onclick: () => clear(li, relabelForm()) },
          t("subs.address.relabel")),
        h("button", { type: "button", class: "danger", "data-action": "delete-address", onclick: remove },
          t("delete"))));
    const save = (fields) => change(() => patch(`/api/subscribers/${id}/addresses/${address.id}`, fields));
    const escape = (e) => { if (e.key === "Escape") { e.stopPropagation(); view(); } };

    function relabelForm() {
      const label = labelInput(address.label);
      const form = h("form", { class: "row subs-relabel", onkeydown: escape, onsubmit: (e) => {
        e.preventDefault();
        if (label.value.trim() === address.label) view(); else save({ label: label.value.trim() });
      } }, label, h("button", { type: "submit", class: "primary" }, t("save")),
      h("button", { type: "button", onclick: view }, t("cancel")));
      queueMicrotask(() => { label.focus(); label.select(); });
      return form;
    }

    function editForm() {
      const text = h("input", { name: "text", value: address.full_text, required: true, maxlength: 500 });
      const landmark = h("input", { name: "landmark", value: address.landmark || "", maxlength: 300 });
      const label = labelInput(address.label);
      const form = h("form", { class: "subs-form subs-edit-address", onkeydown: escape, onsubmit: (e) => {
        e.preventDefault();
        // Only what changed is sent: an unchanged field must not count as an edit.
        const fields = {};
        if (text.value.trim() !== address.full_text) fields.text = text.value;
        if (landmark.value.trim() !== (address.landmark || "")) fields.landmark = landmark.value.trim();
        if (label.value.trim() !== address.label) fields.label = label.value.trim();
        if (Object.keys(fields).length) save(fields); else view();
      } },
      h("label", {}, t("subs.address.text"), text), h("label", {}, t("subs.address.landmark"), landmark),
      h("label", {}, t("subs.address.label"), label),
      h("div", { class: "row subs-actions" }, h("button", { type: "submit", class: "primary" }, t("save")),
        h("button", { type: "button", onclick: view }, t("cancel"))));
      queueMicrotask(() => text.focus());
      return form;
    }

    async function remove() {
      const sure = await confirmDialog(t("subs.address.delete.title"),
        h("p", {}, address.label ? `${address.label}: ` : "", address.full_text), t("delete"));
      if (sure) await change(() => del(`/api/subscribers/${id}/addresses/${address.id}`));
    }

    view();
    return li;
  }

  function addressForm() {
    const text = h("input", { name: "text", required: true, maxlength: 500 });
    const landmark = h("input", { name: "landmark", maxlength: 300 });
    const label = labelInput("");
    const message = h("p", { class: "form-error", role: "alert" });
    const form = h("form", { class: "subs-form", onsubmit: submitting(message, async () => {
      await post(`/api/subscribers/${id}/addresses`, { text: text.value, landmark: landmark.value.trim() || null,
        label: label.value.trim() });
      form.reset();
      await reload();
    }) },
    h("label", {}, t("subs.address.text"), text),
    h("div", { class: "grid2" }, h("label", {}, t("subs.address.landmark"), landmark),
      h("label", {}, t("subs.address.label"), label)),
    message, h("div", { class: "row subs-actions" }, h("button", { type: "submit" }, t("subs.address.add"))));
    return h("details", { class: "subs-add subs-add-address" }, h("summary", {}, t("subs.address.add")), form);
  }

  // Notes --------------------------------------------------------------------------------------------

  function renderNotes() {
    clear(noteList, record.notes.length ? record.notes.map((note) => h("li", {
      class: `subs-note ${note.is_pinned ? "pinned" : ""}`, "data-note-id": note.id,
      "data-pinned": String(note.is_pinned) },
    h("div", { class: "row" },
      note.is_pinned && h("span", { class: "badge warn" }, t("subs.note.pinned")),
      note.mood && h("span", { class: `badge mood mood-${note.mood}` }, t(`subs.mood.${note.mood}`)),
      h("span", { class: "muted subs-note-by" }, t("subs.note.by", {
        who: note.author_name || t("subs.note.unknown_author"), when: dateTime(note.created_at) })),
      h("span", { class: "spacer" }),
      h("button", { type: "button", "data-action": note.is_pinned ? "unpin" : "pin", onclick: () =>
        change(() => (note.is_pinned ? del : post)(`/api/subscribers/${id}/notes/${note.id}/pin`)) },
      t(note.is_pinned ? "subs.note.unpin" : "subs.note.pin"))),
    h("p", { class: "subs-note-body" }, note.body))) : h("li", { class: "muted" }, t("subs.note.none")));
  }

  function noteForm() {
    const body = h("textarea", { name: "body", required: true, maxlength: 2000, rows: 2,
      "aria-label": t("subs.note.body"), placeholder: t("subs.note.body"),
      // Ctrl+Enter adds the note without leaving the keyboard; Enter alone is a new line.
      onkeydown: (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) form.requestSubmit(); } });
    const mood = h("select", { name: "mood", "aria-label": t("subs.note.mood") },
      h("option", { value: "" }, t("subs.note.mood")),
      MOODS.map((value) => h("option", { value }, t(`subs.mood.${value}`))));
    const message = h("p", { class: "form-error", role: "alert" });
    const form = h("form", { class: "subs-add subs-add-note", onsubmit: submitting(message, async () => {
      await post(`/api/subscribers/${id}/notes`, { body: body.value, mood: mood.value || null });
      form.reset();
      await reload();
      body.focus();
    }) },
    body, h("div", { class: "row" }, mood, h("span", { class: "spacer" }),
      h("button", { type: "submit", class: "primary" }, t("subs.note.add"), h("kbd", {}, "Ctrl+Enter"))), message);
    return form;
  }

  // Rides and complaints -----------------------------------------------------------------------------

  async function loadRides(current) {
    try {
      const answer = await get(`/api/rides${query({ subscriber_id: id, limit: RIDES_SHOWN })}`);
      if (!current()) return;
      rides = answer.rides;
      renderRides();
    } catch (err) {
      if (current()) clear(rideBox, unavailable(err));
    }
  }

  // A live change to one of this subscriber's rides: put it in place without a reload.
  function onRide(ride) {
    if (!ride || id === null || ride.subscriber_id !== id) return;
    const at = rides.findIndex((r) => r.id === ride.id);
    if (at >= 0 && rides[at].version > ride.version) return; // An older event arriving late.
    if (at >= 0) rides[at] = ride; else rides.unshift(ride);
    renderRides();
  }

  function renderRides() {
    if (!rides.length) return clear(rideBox, h("p", { class: "muted" }, t("subs.rides.none")));
    clear(rideBox, h("table", { class: "subs-rides" },
      h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, t("subs.ride.when")), h("th", {}, t("subs.ride.status")),
        h("th", {}, t("subs.ride.route")), h("th", {}, t("subs.ride.fare")), h("th", {}))),
      h("tbody", {}, rides.map((ride) => h("tr", { "data-ride-id": ride.id },
        h("td", {}, rideLabel(ride)),
        h("td", { class: "subs-when" }, dateTime(ride.pickup_at || ride.created_at)),
        h("td", {}, statusBadge(ride.status)),
        h("td", {}, ride.pickup.text, ride.destination ? ` ${t("subs.ride.to")} ${ride.destination.text}` : ""),
        h("td", {}, fare(ride)),
        h("td", {}, h("button", { type: "button", "data-action": "ride-complaint",
          onclick: () => openComplaint({ rideId: ride.id }) }, t("subs.ride.complaint"))))))));
  }

  function fare(ride) {
    if (ride.fare_total_rials !== null && ride.fare_total_rials !== undefined) return money(ride.fare_total_rials);
    if (ride.quote_total_rials === null || ride.quote_total_rials === undefined) return "—";
    return [money(ride.quote_total_rials), " ", h("span", { class: "muted" }, `(${t("subs.ride.quote")})`)];
  }

  async function loadComplaints(current) {
    try {
      const answer = await get(`/api/complaints${query({ subscriber_id: id })}`);
      if (current()) renderComplaints(answer.complaints);
    } catch (err) {
      if (current()) clear(complaintBox, unavailable(err));
    }
  }

  function renderComplaints(complaints) {
    if (!complaints.length) return clear(complaintBox, h("p", { class: "muted" }, t("subs.complaints.none")));
    clear(complaintBox, h("table", { class: "subs-complaints" },
      h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, t("subs.complaint.opened")),
        h("th", {}, t("subs.complaint.category")), h("th", {}, t("subs.complaint.priority")),
        h("th", {}, t("subs.complaint.status")), h("th", {}, t("subs.complaint.ride")))),
      h("tbody", {}, complaints.map((c) => h("tr", { "data-complaint-id": c.id, class: c.is_open ? "open" : "" },
        h("td", {}, ltr(`#${c.id}`)),
        h("td", { class: "subs-when" }, dateTime(c.created_at)),
        h("td", { title: c.description }, c.category_names?.[lang()] ?? c.category),
        h("td", {}, h("span", { class: `badge priority-${c.priority}` }, t(`subs.priority.${c.priority}`))),
        h("td", {}, h("span", { class: `badge ${c.is_open ? "warn" : "ok"}` }, t(`subs.complaint_status.${c.status}`))),
        h("td", {}, c.ride_id ? ltr(`#${c.ride_id}`) : "—"))))));
  }

  return { el, open, refresh: load, onRide };
}

function usage(address) {
  const parts = [address.uses > 0 && t("subs.address.uses", { n: digits(address.uses) }),
    address.last_used_at && t("subs.address.last_used", { when: dateTime(address.last_used_at) })].filter(Boolean);
  return parts.length ? parts.join(" · ") : t("subs.address.never");
}

// A section that could not load says why; the rest of the record still works.
function unavailable(err) {
  return h("p", { class: "form-error" }, t("subs.unavailable", { why: problem(err) }));
}
