// The console's shell: sign-in, the top bar (who, extension, language, live status), the pages and their keys.
//
// Every page is mounted once and kept: switching pages only hides the others, so a half-typed booking or a
// ringing call's card is never lost, and every page keeps following live events while hidden.

import { ApiError, get, onLoggedOut, post, put } from "./api.js";
import { clear, h, toast, typing } from "./dom.js";
import { digits, setTimeZone } from "./format.js";
import { applyDocumentLang, lang, setLang, t } from "./i18n.js";
import { Live } from "./live.js";
import board from "./pages/board.js";
import calls from "./pages/calls.js";
import complaints from "./pages/complaints.js";
import drivers from "./pages/drivers.js";
import reports from "./pages/reports.js";
import subscribers from "./pages/subscribers.js";

// F1, F2... in this order; a page with `roles` is only for those roles.
const ALL_PAGES = [calls, board, drivers, subscribers, complaints, reports];
const root = document.getElementById("app");

async function boot() {
  applyDocumentLang();
  const config = await get("/api/console/config");
  setTimeZone(config.timezone);
  try {
    const me = await get("/api/auth/me", { quiet401: true });
    shell(config, me);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) loginForm(config);
    else clear(root, h("p", { class: "fatal" }, t("error.network")));
  }
}

function loginForm(config) {
  const username = h("input", { name: "username", autocomplete: "username", required: true, autofocus: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const message = h("p", { class: "form-error", role: "alert" });
  const form = h("form", { class: "login card", onsubmit: async (event) => {
    event.preventDefault();
    try {
      await post("/api/auth/login", { username: username.value, password: password.value }, { quiet401: true });
      const me = await get("/api/auth/me");
      shell(config, me);
    } catch (err) {
      message.textContent = err.message;
    }
  } },
  h("h1", {}, t("login.title")),
  h("label", {}, t("login.username"), username),
  h("label", {}, t("login.password"), password),
  message,
  h("button", { type: "submit", class: "primary" }, t("login.submit")),
  languageButton());
  clear(root, h("main", { class: "login-page" }, form));
  username.focus();
}

function languageButton() {
  return h("button", { type: "button", class: "lang-switch", onclick: () => {
    setLang(lang() === "fa" ? "en" : "fa");
    location.reload(); // Every text and date is redrawn in the new language; the hash keeps the page.
  } }, t("language"));
}

function shell(config, me) {
  const live = new Live("/ws");
  const nav = h("nav", { class: "tabs" });
  const main = h("main", { class: "pages" });
  const status = h("span", { class: "live-status", "data-status": "connecting" }, t("live.connecting"));
  const banner = h("div", { class: "offline-banner", hidden: true, role: "alert" }, t("live.offline"));
  const extension = h("input", { class: "extension-input", value: me.extension || "", size: 5, inputmode: "numeric",
    "aria-label": t("extension"), placeholder: t("extension.none"), dir: "ltr" });
  extension.addEventListener("change", async () => {
    try {
      const { user } = await put("/api/auth/me/extension", { extension: extension.value.trim() || null });
      me.extension = user.extension;
      toast(`${t("extension")}: ${user.extension ?? t("extension.none")}`);
    } catch (err) {
      toast(err.message, "error");
      extension.value = me.extension || "";
    }
  });
  const top = h("header", { class: "topbar" },
    h("strong", { class: "brand" }, t("app.name")), nav,
    h("span", { class: "spacer" }),
    status,
    h("label", { class: "extension" }, t("extension"), " ", extension),
    h("span", { class: "who" }, me.name, " · ", t(`role.${me.role}`)),
    languageButton(),
    h("button", { type: "button", class: "logout", onclick: async () => {
      live.stop();
      await post("/api/auth/logout").catch(() => {});
      location.reload();
    } }, t("logout")));
  clear(root, top, banner, main);

  const ctx = { config, me, live, navigate, showPage: (id) => navigate(`#/${id}`) };
  const PAGES = ALL_PAGES.filter((page) => !page.roles || page.roles.includes(me.role));
  const mounted = PAGES.map((page, index) => {
    const el = main.appendChild(h("section", { class: `page page-${page.id}`, id: `page-${page.id}`, hidden: true }));
    const key = `F${index + 1}`;
    nav.append(h("a", { href: `#/${page.id}`, "data-page": page.id, title: key }, t(page.title),
      h("kbd", {}, digits(key))));
    return { page, el, instance: page.mount(el, ctx) || {} };
  });

  live.onStatus((s) => {
    status.dataset.status = s;
    status.textContent = t(s === "online" ? "live.online" : s === "offline" ? "live.offline" : "live.connecting");
    banner.hidden = s !== "offline";
    document.body.classList.toggle("is-offline", s === "offline");
  });
  let first = true;
  live.onResync(() => {
    mounted.forEach((m) => m.instance.refresh?.());
    if (!first) toast(t("live.resynced"));
    first = false;
  });
  window.addEventListener("online", () => live.reconnect());
  onLoggedOut(() => { live.stop(); loginForm(config); });

  function route() {
    const [id, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
    const current = mounted.find((m) => m.page.id === id) || mounted[0];
    for (const m of mounted) {
      m.el.hidden = m !== current;
      nav.querySelector(`[data-page="${m.page.id}"]`).classList.toggle("active", m === current);
    }
    current.instance.show?.(rest);
  }
  function navigate(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  }
  window.addEventListener("hashchange", route);
  document.addEventListener("keydown", (event) => {
    const index = /^F([1-9])$/.exec(event.key)?.[1] ?? (event.altKey && /^[1-9]$/.test(event.key) ? event.key : null);
    if (index && PAGES[index - 1] && !(event.altKey && typing(event) && !/^F/.test(event.key))) {
      event.preventDefault();
      navigate(`#/${PAGES[index - 1].id}`);
    }
  });
  route();
  live.start();
}

boot();
