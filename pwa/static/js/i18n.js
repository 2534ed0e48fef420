// UI strings for scripts, in the page's language: one small JSON the service worker precaches,
// with the content's names for every id a record holds (steps, checklists, kinds, codes).
export const lang = document.documentElement.lang === "en" ? "en" : "zh";
const locale = lang === "zh" ? "zh-CN" : "en-GB";
const strings = await fetch(`/${lang}/strings.json`).then((r) => r.json()).catch(() => ({}));
const plurals = new Intl.PluralRules(locale);

/** The string for key with {name} placeholders filled from values. */
export function t(key, values = {}) {
  const text = strings[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

/** A count in words: key_one or key_other as the language's plural rules choose ({count} filled). */
export function tn(key, count, values = {}) {
  const form = `${key}_${plurals.select(count)}`;
  return t(form in strings ? form : `${key}_other`, { count, ...values });
}

/** What the content calls things: names.flows[id].steps, names.checklists, names.kinds. */
export const names = strings.names || { flows: {}, checklists: {}, kinds: {} };

/** A step's title in the page's language; a step of an unknown flow falls back to a neutral word. */
export function stepName(flow, step) {
  return names.flows[flow]?.steps[step] ?? t("js.step_unknown");
}

export function checklistName(id) {
  return names.checklists[id]?.title ?? t("js.checklist_unknown");
}

export function kindName(id) {
  return names.kinds[id]?.title ?? t("js.kind_unknown");
}

/** A date and time as the phone's user reads them, in the page's language. */
export function formatWhen(iso) {
  return new Date(iso).toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" });
}

export function formatDate(date) {
  return date.toLocaleDateString(locale, { dateStyle: "medium" });
}

/** A checklist's period in words: the day, the week it starts, the month or the quarter. */
export function periodText(frequency, period) {
  const [y, m, d] = period.split("-").map(Number);
  const start = new Date(y, m - 1, d);
  if (frequency === "weekly") return t("js.period_week", { date: formatDate(start) });
  if (frequency === "monthly") return start.toLocaleDateString(locale, { year: "numeric", month: "long" });
  if (frequency === "quarterly") return t("js.period_quarter", { year: y, quarter: Math.floor((m - 1) / 3) + 1 });
  return formatDate(start);
}

/** "YYYY-MM-DDTHH:MM" in local time, for a datetime-local input. */
export function localInputValue(date = new Date()) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
