// The calls page: the ringing caller's card, the booking form it turns into, and the call-back list.
//
// Keys on the card (when no text field has the focus): 1–9 books from that saved address, Enter books from the
// first one (or opens the form), N books from a new address, S opens the subscriber, Esc puts the card away.
// In the form: 1–9 in the empty destination field picks a saved destination, Enter confirms, Esc closes.

import { get, post } from "../api.js";
import { clear, h, ltr, loadCss, toast, typing } from "../dom.js";
import { asciiDigits, dateTime, digits, duration, time } from "../format.js";
import { addStrings, lang, t } from "../i18n.js";
import { statusBadge } from "../rides.js";
import { bookingForm } from "../booking_form.js";

addStrings({
  en: {
    "calls.idle": "Waiting for calls. The caller's card appears here while the phone rings.",
    "calls.walk_in": "Book for a walk-in caller", "calls.ringing": "Ringing", "calls.answered": "Answered",
    "calls.answered_elsewhere": "Answered by another operator", "calls.ended": "Call ended",
    "calls.withheld": "Caller ID withheld", "calls.invalid": "Unrecognised caller ID",
    "calls.unknown": "New caller", "calls.vip": "VIP", "calls.blocked": "Blocked",
    "calls.blocked_reason": "Blocked: {reason} (by {by})", "calls.loyalty": "Tier: {tier}",
    "calls.addresses": "Saved addresses", "calls.no_addresses": "No saved addresses yet.",
    "calls.last_rides": "Last rides", "calls.active_ride": "Has a ride under way: #{id}, {status}",
    "calls.open_complaints": "Open complaints", "calls.booked_here": "Booked on this call: #{id}", "calls.notes": "Notes", "calls.pinned": "pinned",
    "calls.possible_matches": "This number belonged to:", "calls.open_subscriber": "Open record",
    "calls.keys": "1–9 book from an address · Enter book · N new address · S record · Esc close",
    "calls.new_subscriber": "New subscriber", "calls.name": "Name", "calls.phone": "Phone",
    "calls.create_and_book": "Save and book", "calls.book_walk_in": "Book without saving",
    "calls.callbacks": "Missed calls to call back", "calls.no_callbacks": "No missed calls.",
    "calls.called_back": "Called back", "calls.uses": "{n} rides", "calls.dismiss": "Put away",
    "cause.normal": "ended", "cause.abandoned": "hung up before answer", "cause.busy": "busy",
    "cause.no_answer": "not answered", "cause.failed": "failed", "calls.calls": "Calls",
    "mood.calm": "calm", "mood.angry": "angry", "mood.hurry": "in a hurry", "mood.elderly": "elderly / needs help",
  },
  fa: {
    "calls.idle": "در انتظار تماس. کارت تماس‌گیرنده هنگام زنگ خوردن تلفن اینجا نمایش داده می‌شود.",
    "calls.walk_in": "ثبت سفر برای مسافر بدون پرونده", "calls.ringing": "در حال زنگ", "calls.answered": "پاسخ داده شد",
    "calls.answered_elsewhere": "اپراتور دیگری پاسخ داد", "calls.ended": "تماس پایان یافت",
    "calls.withheld": "شماره پنهان است", "calls.invalid": "شمارهٔ ناشناخته",
    "calls.unknown": "تماس‌گیرندهٔ جدید", "calls.vip": "ویژه", "calls.blocked": "مسدود",
    "calls.blocked_reason": "مسدود: {reason} (توسط {by})", "calls.loyalty": "سطح: {tier}",
    "calls.addresses": "نشانی‌های ذخیره‌شده", "calls.no_addresses": "هنوز نشانی ذخیره نشده است.",
    "calls.last_rides": "آخرین سفرها", "calls.active_ride": "سفر در جریان دارد: #{id}، {status}",
    "calls.open_complaints": "شکایت‌های باز", "calls.booked_here": "ثبت‌شده در این تماس: #{id}", "calls.notes": "یادداشت‌ها", "calls.pinned": "سنجاق‌شده",
    "calls.possible_matches": "این شماره قبلاً متعلق به:", "calls.open_subscriber": "باز کردن پرونده",
    "calls.keys": "۱–۹ ثبت سفر از نشانی · Enter ثبت · N نشانی جدید · S پرونده · Esc بستن",
    "calls.new_subscriber": "مشترک جدید", "calls.name": "نام", "calls.phone": "تلفن",
    "calls.create_and_book": "ذخیره و ثبت سفر", "calls.book_walk_in": "ثبت سفر بدون ذخیره",
    "calls.callbacks": "تماس‌های از دست رفته برای تماس دوباره", "calls.no_callbacks": "تماس از دست رفته‌ای نیست.",
    "calls.called_back": "تماس گرفته شد", "calls.uses": "{n} سفر", "calls.dismiss": "کنار گذاشتن",
    "cause.normal": "پایان", "cause.abandoned": "قطع پیش از پاسخ", "cause.busy": "مشغول",
    "cause.no_answer": "بی‌پاسخ", "cause.failed": "ناموفق", "calls.calls": "تماس‌ها",
    "mood.calm": "آرام", "mood.angry": "عصبانی", "mood.hurry": "عجله دارد", "mood.elderly": "سالمند / نیاز به کمک",
  },
});

const ENDED_CARD_SECONDS = 120; // an ended call's card stays this long unless a booking is open on it

export default {
  id: "calls",
  title: "nav.calls",
  mount(el, ctx) {
    loadCss("/console/css/calls.css");
    const tabs = h("div", { class: "call-tabs" });
    const stage = h("div", { class: "call-stage" });
    const callbacks = h("ul", { class: "callbacks" });
    el.append(h("div", { class: "calls-layout" },
      h("div", { class: "calls-main" }, tabs, stage),
      h("aside", { class: "calls-side card" }, h("h2", {}, t("calls.callbacks")), callbacks)));

    const calls = []; // newest first: {card, state, answeredBy, cause, since, form}
    let current = null;

    function select(call) {
      current = call;
      render();
    }

    function render() {
      clear(tabs, calls.length > 1 ? calls.map((c) => h("button", {
        type: "button", class: `call-tab ${c === current ? "active" : ""} state-${c.state}`,
        onclick: () => select(c),
      }, ltr(callerText(c.card)), " ", t(`calls.${c.state}`))) : null);
      if (!current) {
        clear(stage, h("div", { class: "card idle" }, h("p", { class: "muted" }, t("calls.idle")),
          h("button", { type: "button", onclick: () => openForm(null) }, t("calls.walk_in"))));
        return;
      }
      if (current.form) {
        clear(stage, current.form.el);
        return;
      }
      clear(stage, cardView(current));
    }

    function cardView(call) {
      const { card } = call;
      const s = card.subscriber;
      const view = h("article", { class: `caller-card state-${call.state}`, tabindex: "-1", "data-call-id": card.call.id },
        h("header", { class: "row" },
          h("span", { class: "call-state" }, t(call.state === "answered" && call.answeredBy !== ctx.me.id
            && call.answeredBy !== null ? "calls.answered_elsewhere" : `calls.${call.state}`)),
          h("span", { class: "call-timer", "data-since": call.since }, duration((Date.now() - call.since) / 1000)),
          call.cause ? h("span", { class: "muted" }, t(`cause.${call.cause}`)) : null,
          h("span", { style: { flex: 1 } }),
          h("strong", { class: "caller-number" }, ltr(callerText(card))),
          card.call.caller_name ? h("span", { class: "muted" }, card.call.caller_name) : null,
          h("button", { type: "button", class: "dismiss", onclick: () => dismiss(call) }, t("calls.dismiss"))),
        s ? subscriberView(card) : unknownView(call),
        h("p", { class: "keys muted" }, t("calls.keys")));
      queueMicrotask(() => { if (!typing({ target: document.activeElement })) view.focus(); });
      return view;
    }

    function subscriberView(card) {
      const s = card.subscriber;
      const active = card.active_rides || [];
      const complaints = card.open_complaints || [];
      return h("div", { class: "card-body" },
        h("div", { class: "row who" },
          h("h2", { class: "subscriber-name" }, s.name),
          s.is_vip ? h("span", { class: "badge vip" }, t("calls.vip")) : null,
          s.loyalty_tier && s.loyalty_tier !== "none" ? h("span", { class: "badge" }, t("calls.loyalty", { tier: s.loyalty_tier })) : null,
          h("a", { href: `#/subscribers/${s.id}`, class: "open-record" }, t("calls.open_subscriber"))),
        s.blocked ? h("p", { class: "warning blocked", role: "alert" },
          t("calls.blocked_reason", { reason: s.blocked.reason || "—", by: s.blocked.by || "—" })) : null,
        active.map((ride) => (card.booked || []).some((b) => b.id === ride.id)
          ? h("p", { class: "booked-here", "data-ride-id": ride.id },
            t("calls.booked_here", { id: digits(ride.id) }), " ", statusBadge(ride.status))
          : h("p", { class: "warning active-ride", role: "alert", "data-ride-id": ride.id },
            t("calls.active_ride", { id: digits(ride.id), status: t(`status.${ride.status}`) }))),
        complaints.length ? h("div", { class: "complaints" }, h("h3", {}, t("calls.open_complaints")),
          h("ul", {}, complaints.map((c) => h("li", {}, ltr(`#${c.id}`), " ", c.category_names?.[lang()] || c.category,
            " — ", c.summary)))) : null,
        h("div", { class: "grid2" },
          h("section", {}, h("h3", {}, t("calls.addresses")),
            s.addresses.length ? h("ol", { class: "addresses" }, s.addresses.map((a, i) => h("li", {
              class: "address", "data-index": i + 1, onclick: () => openForm(currentCard(), { pickup: a }),
            }, h("kbd", {}, digits(i + 1)), h("span", { class: "label" }, a.label || "—"), " ",
            h("span", { class: "text" }, a.full_text), a.landmark ? h("span", { class: "muted" }, ` (${a.landmark})`) : null,
            a.uses ? h("span", { class: "muted uses" }, " · ", t("calls.uses", { n: digits(a.uses) })) : null)))
              : h("p", { class: "muted" }, t("calls.no_addresses"))),
          h("section", {},
            h("h3", {}, t("calls.notes")),
            h("ul", { class: "notes" }, s.notes.map((n) => h("li", { class: n.is_pinned ? "pinned" : "" },
              n.is_pinned ? h("span", { class: "badge" }, t("calls.pinned")) : null,
              n.mood ? h("span", { class: `badge mood-${n.mood}` }, t(`mood.${n.mood}`)) : null, " ", n.body,
              h("span", { class: "muted" }, ` — ${n.author || ""} ${dateTime(n.created_at)}`)))),
            h("h3", {}, t("calls.last_rides")),
            h("ul", { class: "last-rides" }, (card.last_rides || []).map((r) => h("li", {},
              statusBadge(r.status), " ", h("span", { class: "muted" }, dateTime(r.created_at)), " ",
              r.pickup?.text || "", r.destination ? ` → ${r.destination.text}` : "")))))
      );
    }

    function unknownView(call) {
      const { card } = call;
      const phone = card.caller.e164 || "";
      const matches = card.possible_matches || [];
      if (!card.new_subscriber) {
        return h("div", { class: "card-body" },
          h("p", { class: "warning" }, t(card.caller.status === "withheld" || card.caller.status === "empty"
            ? "calls.withheld" : "calls.invalid")),
          h("button", { type: "button", class: "primary", onclick: () => openForm(call.card) }, t("calls.walk_in")));
      }
      const name = h("input", { name: "new-name", autocomplete: "off", required: true });
      const number = h("input", { name: "new-phone", value: phone, dir: "ltr", required: true });
      const message = h("p", { class: "form-error", role: "alert" });
      const form = h("form", { class: "new-subscriber", onsubmit: async (event) => {
        event.preventDefault();
        try {
          const { subscriber } = await post("/api/subscribers", { name: name.value.trim(),
            phones: [{ number: number.value.trim() }] });
          card.subscriber = { ...subscriber, addresses: subscriber.addresses || [], notes: subscriber.notes || [] };
          card.new_subscriber = false;
          openForm(card);
        } catch (err) {
          message.textContent = err.message;
        }
      } },
      h("h2", {}, t("calls.unknown")),
      matches.length ? h("div", { class: "possible-matches" }, h("p", {}, t("calls.possible_matches")),
        h("ul", {}, matches.map((m) => h("li", {}, h("a", { href: `#/subscribers/${m.id}` }, m.name),
          h("span", { class: "muted" }, ` (${dateTime(m.had_number_until)})`))))) : null,
      h("div", { class: "row" }, h("label", {}, t("calls.name"), name), h("label", {}, t("calls.phone"), number)),
      message,
      h("div", { class: "row" },
        h("button", { type: "submit", class: "primary" }, t("calls.create_and_book")),
        h("button", { type: "button", onclick: () => openForm(call.card, { walkInName: name.value.trim() }) },
          t("calls.book_walk_in"))));
      queueMicrotask(() => name.focus());
      return form;
    }

    function currentCard() { return current?.card ?? null; }

    function openForm(card, choice = {}) {
      if (!current && card === null) {
        current = { card: null, state: "walk_in", since: Date.now(), form: null, walkIn: true };
      }
      const call = current;
      call.form = bookingForm({ ctx, card, choice, onClose: () => { call.form = null; if (call.walkIn) remove(call); render(); } });
      render();
      call.form.focus();
    }

    function dismiss(call) { remove(call); render(); }
    function remove(call) {
      const i = calls.indexOf(call);
      if (i >= 0) calls.splice(i, 1);
      if (current === call) current = calls[0] || null;
    }

    function find(callId) { return calls.find((c) => c.card?.call.id === callId); }

    // Keys on the card.
    document.addEventListener("keydown", (event) => {
      if (el.hidden || !current || current.form || typing(event) || event.altKey || event.ctrlKey || event.metaKey) return;
      const s = current.card?.subscriber;
      // Digits in any digit set, letters by key position: a Persian keyboard layout works the same.
      const typed = asciiDigits(event.key);
      const index = /^[1-9]$/.test(typed) ? Number(typed) : 0;
      if (index && s?.addresses[index - 1]) {
        event.preventDefault();
        openForm(current.card, { pickup: s.addresses[index - 1] });
      } else if (event.key === "Enter" && current.card?.new_subscriber !== true) {
        event.preventDefault();
        openForm(current.card, { pickup: s?.addresses[0] });
      } else if (event.code === "KeyN" && current.card?.new_subscriber !== true) {
        event.preventDefault();
        openForm(current.card, { newAddress: true });
      } else if (event.code === "KeyS" && s) {
        event.preventDefault();
        ctx.navigate(`#/subscribers/${s.id}`);
      } else if (event.key === "Escape") {
        event.preventDefault();
        dismiss(current);
      }
    });

    ctx.live.on("call.ringing", (card) => {
      if (find(card.call.id)) return;
      const call = { card, state: "ringing", since: Date.now(), answeredBy: null, cause: null, form: null };
      calls.unshift(call);
      // A new call takes the stage unless the operator is in the middle of a booking.
      if (!current?.form) current = call;
      if (el.hidden && !document.querySelector(".dialog-backdrop")) ctx.showPage("calls");
      render();
    });
    ctx.live.on("call.answered", (data) => {
      const call = find(data.call_id);
      if (!call) return;
      call.state = "answered";
      call.answeredBy = data.operator_id ?? null;
      call.since = Date.now();
      if (call.answeredBy !== null && call.answeredBy !== ctx.me.id && !call.form) remove(call);
      render();
    });
    ctx.live.on("call.ended", (data) => {
      const call = find(data.call_id);
      if (!call) return;
      call.state = "ended";
      call.cause = data.cause;
      call.since = Date.now();
      if (!call.form) render();
      setTimeout(() => { if (!call.form && calls.includes(call)) { remove(call); render(); } }, ENDED_CARD_SECONDS * 1000);
    });
    // The card's own rides follow their state while it is up.
    ctx.live.on("ride.*", (data) => {
      const ride = data.ride;
      for (const call of calls) {
        const list = call.card?.active_rides;
        const known = list?.find((r) => r.id === ride.id);
        if (known) Object.assign(known, ride);
      }
      if (current && !current.form) render();
    });
    ctx.live.on("callback.added", () => loadCallbacks());

    async function loadCallbacks() {
      try {
        const { calls: missed } = await get("/api/calls/callbacks");
        clear(callbacks, missed.length ? missed.map((c) => h("li", { class: "callback", "data-call-id": c.id },
          h("span", {}, ltr(c.caller_e164 || c.caller_raw || "—")), " ",
          h("span", { class: "muted" }, `${time(c.ringing_at)} · ${t(`cause.${c.end_cause}`)}`), " ",
          h("button", { type: "button", onclick: async () => {
            try {
              await post(`/api/calls/${c.id}/callback-handled`);
              loadCallbacks();
            } catch (err) { toast(err.message, "error"); }
          } }, t("calls.called_back")))) : h("li", { class: "muted" }, t("calls.no_callbacks")));
      } catch (err) {
        if (err.status !== 0) toast(err.message, "error");
      }
    }

    setInterval(() => {
      for (const timer of el.querySelectorAll(".call-timer")) {
        timer.textContent = duration((Date.now() - Number(timer.dataset.since)) / 1000);
      }
    }, 1000);
    render();
    return {
      refresh: loadCallbacks,
      show() { if (current && !current.form) el.querySelector(".caller-card")?.focus(); },
    };
  },
};

function callerText(card) {
  if (!card) return "";
  return card.caller.e164 || card.caller.raw || t("calls.withheld");
}
