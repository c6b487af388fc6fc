// The reports page (to be built).

import { h } from "../dom.js";

export default {
  id: "reports",
  title: "nav.reports",
  roles: ["supervisor", "admin"],
  mount(el) {
    el.append(h("p", { class: "muted" }, "…"));
    return { refresh() {}, show() {} };
  },
};
