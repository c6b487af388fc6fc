// The console's two languages. Each module adds its own strings with `addStrings({en: {...}, fa: {...}})`;
// `t(key, vars)` looks one up in the chosen language, falling back to English, then to the key itself.

const strings = { en: {}, fa: {} };
const STORAGE_KEY = "taxicrm.lang";

export function lang() {
  const chosen = localStorage.getItem(STORAGE_KEY);
  return chosen === "en" || chosen === "fa" ? chosen : "fa";
}

export function setLang(code) {
  localStorage.setItem(STORAGE_KEY, code);
  applyDocumentLang();
}

export function applyDocumentLang() {
  document.documentElement.lang = lang();
  document.documentElement.dir = lang() === "fa" ? "rtl" : "ltr";
}

export function addStrings(table) {
  for (const code of Object.keys(strings)) Object.assign(strings[code], table[code] || {});
}

export function t(key, vars = {}) {
  const text = strings[lang()][key] ?? strings.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? vars[name] : `{${name}}`));
}

addStrings({
  en: {
    "app.name": "taxicrm", "login.title": "Sign in to the console", "login.username": "Username",
    "login.password": "Password", "login.submit": "Sign in", "logout": "Sign out", "extension": "Extension",
    "extension.none": "no extension", "extension.set": "Sit at extension", "language": "فارسی",
    "live.online": "Live", "live.offline": "Offline — reconnecting…", "live.connecting": "Connecting…",
    "live.resynced": "Reconnected; the screen was refreshed.",
    "nav.calls": "Calls", "nav.board": "Board", "nav.drivers": "Drivers", "nav.subscribers": "Subscribers", "nav.complaints": "Complaints", "nav.reports": "Reports",
    "save": "Save", "cancel": "Cancel", "close": "Close", "delete": "Delete", "edit": "Edit", "confirm": "Confirm",
    "search": "Search", "loading": "Loading…", "none": "None", "error.network": "The service cannot be reached.",
    "role.operator": "operator", "role.supervisor": "supervisor", "role.admin": "admin",
  },
  fa: {
    "app.name": "تاکسی‌سی‌آر‌ام", "login.title": "ورود به میز اپراتور", "login.username": "نام کاربری",
    "login.password": "گذرواژه", "login.submit": "ورود", "logout": "خروج", "extension": "داخلی",
    "extension.none": "بدون داخلی", "extension.set": "نشستن پشت داخلی", "language": "English",
    "live.online": "برخط", "live.offline": "قطع ارتباط — در حال اتصال دوباره…", "live.connecting": "در حال اتصال…",
    "live.resynced": "ارتباط برقرار شد؛ صفحه به‌روز شد.",
    "nav.calls": "تماس‌ها", "nav.board": "تابلوی سفرها", "nav.drivers": "رانندگان", "nav.subscribers": "مشترکان", "nav.complaints": "شکایت‌ها", "nav.reports": "گزارش‌ها",
    "save": "ذخیره", "cancel": "انصراف", "close": "بستن", "delete": "حذف", "edit": "ویرایش", "confirm": "تأیید",
    "search": "جستجو", "loading": "در حال بارگذاری…", "none": "هیچ", "error.network": "سرویس در دسترس نیست.",
    "role.operator": "اپراتور", "role.supervisor": "سرپرست", "role.admin": "مدیر",
  },
});
