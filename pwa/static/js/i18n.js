// UI strings for scripts, in the page's language: one small JSON the service worker precaches.
export const lang = document.body.dataset.lang || "zh";
const strings = await fetch(`/${lang}/strings.json`).then((r) => r.json()).catch(() => ({}));

/** The string for key with {name} placeholders filled from values. */
export function t(key, values = {}) {
  const text = strings[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

/** A date and time as the phone's user reads them, in the page's language. */
export function formatWhen(iso) {
  return new Date(iso).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", {
    dateStyle: "medium", timeStyle: "short",
  });
}

/** "YYYY-MM-DDTHH:MM" in local time, for a datetime-local input. */
export function localInputValue(date = new Date()) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
