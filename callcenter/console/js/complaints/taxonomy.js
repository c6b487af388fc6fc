// The taxonomy of complaints and praise, for admins: rename a category in either language, change its default
// priority or its place in the pickers, retire or reinstate it, and add new ones. A category's code and kind never
// change (reports use them); a retired one keeps its cases.
//
// `openTaxonomy()` resolves when the dialog closes. Each row saves on its own (Enter in a field saves the row).

import { ApiError, get, patch, post } from "../api.js";
import { clear, h, openDialog, toast } from "../dom.js";
import { digits } from "../format.js";
import { addStrings, t } from "../i18n.js";
import { PRIORITIES } from "./cases.js";

addStrings({
  en: {
    "taxonomy.title": "Categories of complaints and praise", "taxonomy.code": "Code", "taxonomy.kind": "Kind",
    "taxonomy.en": "English name", "taxonomy.fa": "Persian name", "taxonomy.priority": "Default priority",
    "taxonomy.position": "Order", "taxonomy.active": "In use", "taxonomy.save": "Save", "taxonomy.add": "Add",
    "taxonomy.saved": "Category {code} saved.", "taxonomy.added": "Category {code} added.",
    "taxonomy.new": "New category",
  },
  fa: {
    "taxonomy.title": "موضوع‌های شکایت و قدردانی", "taxonomy.code": "کد", "taxonomy.kind": "نوع",
    "taxonomy.en": "نام انگلیسی", "taxonomy.fa": "نام فارسی", "taxonomy.priority": "اولویت پیش‌فرض",
    "taxonomy.position": "ترتیب", "taxonomy.active": "در استفاده", "taxonomy.save": "ذخیره", "taxonomy.add": "افزودن",
    "taxonomy.saved": "موضوع {code} ذخیره شد.", "taxonomy.added": "موضوع {code} افزوده شد.",
    "taxonomy.new": "موضوع تازه",
  },
});

const COLUMNS = ["code", "kind", "en", "fa", "priority", "position", "active"];

function errorText(err) {
  return err instanceof ApiError && err.status === 0 ? t("error.network") : err.message;
}

function fields(category) {
  const c = category ?? { names: { en: "", fa: "" }, default_priority: "normal", position: "", is_active: true,
    kind: "complaint", code: "" };
  return {
    code: h("input", { name: "code", value: c.code, dir: "ltr", size: 14, readonly: Boolean(category) }),
    kind: category ? h("span", {}, t(`case.kind.${c.kind}`))
      : h("select", { name: "kind" }, ["complaint", "praise"].map((k) => h("option", { value: k }, t(`case.kind.${k}`)))),
    en: h("input", { name: "name_en", value: c.names.en, dir: "ltr", maxlength: 100 }),
    fa: h("input", { name: "name_fa", value: c.names.fa, dir: "rtl", maxlength: 100 }),
    priority: h("select", { name: "default_priority" }, PRIORITIES.map((p) => h("option", { value: p,
      selected: p === c.default_priority }, t(`case.priority.${p}`)))),
    position: h("input", { name: "position", value: c.position === "" ? "" : digits(c.position), inputmode: "numeric",
      dir: "ltr", size: 5 }),
    active: h("input", { type: "checkbox", name: "is_active", checked: c.is_active, disabled: !category }),
  };
}

function position(input) {
  const raw = input.value.replace(/[۰-۹]/g, (d) => "۰۱۲۳۴۵۶۷۸۹".indexOf(d)).trim();
  return raw === "" ? null : Number(raw);
}

export async function openTaxonomy() {
  let categories;
  try {
    categories = (await get("/api/complaint-categories?retired=true")).categories;
  } catch (err) {
    toast(errorText(err), "error");
    return;
  }
  const tbody = h("tbody", {});
  const message = h("p", { class: "form-error", role: "alert" });

  function row(category) {
    const f = fields(category);
    const button = h("button", { type: "button", class: category ? "" : "primary" },
      t(category ? "taxonomy.save" : "taxonomy.add"));
    const save = async () => {
      message.textContent = "";
      button.disabled = true;
      try {
        if (category) {
          const { category: saved } = await patch(`/api/complaint-categories/${category.code}`, {
            names: { en: f.en.value, fa: f.fa.value }, default_priority: f.priority.value,
            position: position(f.position), is_active: f.active.checked });
          Object.assign(category, saved);
          toast(t("taxonomy.saved", { code: saved.code }), "ok");
        } else {
          const { category: added } = await post("/api/complaint-categories", {
            code: f.code.value.trim(), kind: f.kind.value, names: { en: f.en.value, fa: f.fa.value },
            default_priority: f.priority.value, position: position(f.position) });
          categories.push(added);
          toast(t("taxonomy.added", { code: added.code }), "ok");
          paint();
        }
      } catch (err) {
        message.textContent = errorText(err);
      }
      button.disabled = false;
    };
    button.addEventListener("click", save);
    const tr = h("tr", { "data-code": category?.code ?? "", class: category?.is_active === false ? "retired" : "",
      onkeydown: (event) => { if (event.key === "Enter" && event.target.tagName === "INPUT") { event.preventDefault(); save(); } } },
    COLUMNS.map((c) => h("td", {}, f[c])), h("td", {}, button));
    f.active.addEventListener("change", () => tr.classList.toggle("retired", !f.active.checked));
    return tr;
  }

  function paint() {
    clear(tbody, categories.map(row), h("tr", { class: "new-category" }, h("td", { colspan: COLUMNS.length + 1 },
      h("strong", {}, t("taxonomy.new")))), row(null));
  }

  paint();
  await new Promise((resolve) => {
    openDialog(t("taxonomy.title"), h("div", { class: "taxonomy" }, message,
      h("table", { class: "taxonomy-table" }, h("thead", {}, h("tr", {},
        COLUMNS.map((c) => h("th", {}, t(`taxonomy.${c}`))), h("th", {}))), tbody)), { wide: true, onClose: resolve });
  });
}
