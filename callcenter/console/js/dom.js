// Tiny DOM helpers: build elements, show a toast, keep left-to-right runs (phones, plates, ids) intact in RTL text.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name === "style" && typeof value === "object") Object.assign(el.style, value);
    else if (name in el && typeof value !== "string") el[name] = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// A phone number, plate or id inside Persian text: isolated and always left-to-right.
export function ltr(text, cls = "") {
  return h("bdi", { dir: "ltr", class: `ltr ${cls}`.trim() }, text ?? "");
}

let toastBox;
export function toast(message, kind = "info", ms = 4000) {
  toastBox ??= document.body.appendChild(h("div", { class: "toasts", role: "status", "aria-live": "polite" }));
  const el = toastBox.appendChild(h("div", { class: `toast toast-${kind}` }, message));
  setTimeout(() => el.remove(), ms);
}

export function loadCss(href) {
  if (document.querySelector(`link[href="${href}"]`)) return;
  document.head.append(h("link", { rel: "stylesheet", href }));
}

// True when the key press belongs to a text field, so page shortcuts leave it alone.
export function typing(event) {
  const t = event.target;
  return t instanceof HTMLElement && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));
}

// A modal dialog; Escape or the close button closes it. Returns a function that closes it.
export function openDialog(title, content, { onClose, wide = false } = {}) {
  const previous = document.activeElement;
  const close = () => {
    backdrop.remove();
    document.removeEventListener("keydown", onKey, true);
    onClose?.();
    if (previous instanceof HTMLElement) previous.focus();
  };
  const onKey = (event) => {
    // Only the topmost of stacked dialogs (one opened from another) closes.
    const topmost = [...document.querySelectorAll(".dialog-backdrop")].pop() === backdrop;
    if (event.key === "Escape" && topmost) { event.preventDefault(); event.stopPropagation(); close(); }
  };
  const backdrop = h("div", { class: "dialog-backdrop", onclick: (e) => { if (e.target === backdrop) close(); } },
    h("div", { class: `dialog ${wide ? "wide" : ""}`, role: "dialog", "aria-modal": "true", "aria-label": title },
      h("div", { class: "row dialog-head" }, h("h2", {}, title), h("span", { style: { flex: 1 } }),
        h("button", { type: "button", class: "dialog-close", onclick: close, "aria-label": "close" }, "×")),
      content));
  document.body.append(backdrop);
  document.addEventListener("keydown", onKey, true);
  backdrop.querySelector("input, select, textarea, button:not(.dialog-close)")?.focus();
  return close;
}
