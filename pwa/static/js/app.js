// Every page loads this module: it registers the service worker, announces offline readiness
// and updates, shows whether the phone is online and what waits to sync, and starts syncing.
// The status elements are made here rather than in every page, which keeps the precache small.
import { Workbox } from "/static/workbox/workbox-window.prod.mjs";
import { getMeta } from "/static/js/db.js";
import { formatWhen, lang, t } from "/static/js/i18n.js";
import { waiting } from "/static/js/outbox.js";
import { startSync, syncNow } from "/static/js/sync.js";

function element(tag, attributes = {}, ...children) {
  const el = Object.assign(document.createElement(tag), attributes);
  el.append(...children);
  return el;
}

const header = document.querySelector("header.bar");
const net = element("span", { id: "net", className: "net", role: "status" });
net.setAttribute("role", "status");
header.querySelector(".lang").before(net);
const reload = element("button", { type: "button", id: "update-reload", textContent: t("js.sw_reload") });
const banner = element("div", { id: "update", className: "banner", hidden: true },
  element("span", { textContent: t("js.sw_update_ready") }), reload);
banner.setAttribute("role", "alert");
const toast = element("div", { id: "toast", className: "toast", hidden: true });
toast.setAttribute("role", "status");
const outboxText = element("span", { id: "outbox-text" });
outboxText.setAttribute("role", "status");
const syncButton = element("button", { type: "button", id: "sync-now", className: "link-button", hidden: true, textContent: t("js.sync_now") });
const enrollLink = element("a", { id: "enroll-link", href: `/${lang}/enroll`, hidden: true, textContent: t("js.enroll_title") });
const outbox = element("div", { id: "outbox", className: "outbox", hidden: true }, outboxText, syncButton, enrollLink);
header.after(banner, outbox);
document.body.append(toast);

function showToast(text) {
  toast.textContent = text;
  toast.hidden = false;
  setTimeout(() => { toast.hidden = true; }, 6000);
}

function showNetwork() {
  const online = navigator.onLine;
  net.textContent = online ? t("js.net_online") : t("js.net_offline");
  net.classList.toggle("offline", !online);
}

function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  const wb = new Workbox("/sw.js");
  wb.addEventListener("installed", (event) => {
    if (!event.isUpdate) showToast(t("js.sw_offline_ready"));
  });
  wb.addEventListener("waiting", () => {
    banner.hidden = false;
    reload.addEventListener("click", () => {
      // Reload once the new worker controls the page, so the page and its cache agree.
      wb.addEventListener("controlling", () => window.location.reload());
      wb.messageSkipWaiting();
    }, { once: true });
  });
  wb.register();
  // A shop's phone may keep the app open all day: look for a new version when it comes back.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && navigator.onLine) wb.update();
  });
}

let syncState = null;

/** Every page says what waits to be synced, and how the last sync went, so nothing seems lost. */
async function showOutbox() {
  const { events, photos, rejected } = await waiting();
  const [token, lastSync, authError] = await Promise.all([getMeta("token"), getMeta("lastSync"), getMeta("authError")]);
  const parts = [events || photos ? t("js.waiting", { events, photos }) : t(lastSync ? "js.synced" : "js.nothing")];
  if (rejected) parts.push(t("js.rejected", { count: rejected }));
  if (syncState?.state === "running" && syncState.total) {
    parts.push(t(`js.sync_${syncState.phase}`, { done: syncState.done, total: syncState.total }));
  } else if (syncState?.state === "failed" && syncState.kind !== "auth") {
    parts.push(t("js.sync_failed", { error: syncState.error }));
  }
  if (authError) parts.push(t("js.sync_revoked"));
  else if (!token) parts.push(t("js.not_enrolled"));
  if (lastSync) parts.push(t("js.last_sync", { when: formatWhen(lastSync) }));
  outboxText.textContent = parts.join(" · ");
  outbox.classList.toggle("pending", events + photos > 0);
  syncButton.hidden = !token || Boolean(authError);
  enrollLink.hidden = Boolean(token) && !authError;
  outbox.hidden = false;
}

async function askPersistentStorage() {
  // Without this the browser may evict the outbox under storage pressure.
  if (navigator.storage && navigator.storage.persist && !(await navigator.storage.persisted())) {
    await navigator.storage.persist();
  }
}

// The language switch keeps where the user is: the query (an incident) and the step (hash).
function keepPlaceInLanguageSwitch() {
  const link = header.querySelector(".lang");
  const base = link.getAttribute("href").split(/[?#]/)[0];
  link.href = base + window.location.search + window.location.hash;
}

keepPlaceInLanguageSwitch();
window.addEventListener("hashchange", keepPlaceInLanguageSwitch);
showNetwork();
showOutbox();
askPersistentStorage();
window.addEventListener("posaid:outbox", showOutbox);
window.addEventListener("posaid:sync", (event) => { syncState = event.detail; showOutbox(); });
window.addEventListener("online", showNetwork);
window.addEventListener("offline", showNetwork);
syncButton.addEventListener("click", () => syncNow());
registerWorker();
startSync();
