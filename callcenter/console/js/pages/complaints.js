// The complaints page (to be built).

import { h } from "../dom.js";

export default {
  id: "complaints",
  title: "nav.complaints",
  mount(el) {
    el.append(h("p", { class: "muted" }, "…"));
    return { refresh() {}, show() {} };
  },
};
