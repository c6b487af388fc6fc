// A report's table: columns declared as data, sortable by any column with a `value`, numbers aligned to the end.
//
//   const table = dataTable({ name, columns: [{ key, label, value: (row) => n, cell: (row) => text | node,
//                                              num: true }], sort: { key, dir: -1 }, rowAttrs: (row) => ({}) });
//   `label` is a text or a function returning one; a column without `value` does not sort.
//   table.set(rows);   // redraws in the chosen order; table.el is the <table>

import { h } from "../dom.js";
import { addStrings, t } from "../i18n.js";

addStrings({ en: { "reports.none": "Nothing in this period." }, fa: { "reports.none": "در این بازه چیزی نیست." } });

function compare(a, b) {
  const missing = (v) => v === null || v === undefined || Number.isNaN(v);
  if (missing(a) || missing(b)) return missing(a) - missing(b); // rows without a value go last either way
  return typeof a === "string" ? a.localeCompare(b) : a - b;
}

export function dataTable({ name, columns, sort = null, rowAttrs = () => ({}), caption = null }) {
  let order = sort;
  let rows = [];
  const body = h("tbody");
  const titles = columns.map(() => h("span", { class: "label" }));
  const heads = columns.map((column, i) => h("th", { "data-col": column.key, class: column.num ? "num" : "",
    scope: "col" }, column.value ? h("button", { type: "button", class: "sort", "data-sort": column.key,
    onclick: () => { order = { key: column.key, dir: order?.key === column.key ? -order.dir : (column.num ? -1 : 1) }; draw(); } },
  titles[i]) : titles[i]));
  const el = h("table", { class: "report-table", "data-table": name },
    caption ? h("caption", {}, caption) : null, h("thead", {}, h("tr", {}, heads)), body);

  function draw() {
    const column = columns.find((c) => c.key === order?.key);
    const sorted = column ? [...rows].sort((a, b) => {
      const va = column.value(a), vb = column.value(b);
      const missing = (v) => v === null || v === undefined;
      return missing(va) || missing(vb) ? compare(va, vb) : order.dir * compare(va, vb);
    }) : rows;
    // A heading may be a function: its words can follow a choice on the page (what the rows are grouped by).
    columns.forEach((c, i) => { titles[i].textContent = typeof c.label === "function" ? c.label() : c.label; });
    heads.forEach((th) => {
      if (th.dataset.col === order?.key) th.setAttribute("aria-sort", order.dir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
    body.replaceChildren(...(sorted.length ? sorted.map((row) => h("tr", rowAttrs(row),
      columns.map((c) => h("td", { "data-col": c.key, class: c.num ? "num" : "" },
        c.cell ? c.cell(row) : c.value(row))))) : [h("tr", {}, h("td", { colspan: columns.length, class: "muted" },
      t("reports.none")))]));
  }
  return { el, set(next) { rows = next || []; draw(); } };
}
