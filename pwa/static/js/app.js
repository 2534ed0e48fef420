// Every page loads this module: it registers the service worker, announces offline readiness
// and updates, shows whether the phone is online and what waits to sync, and starts syncing.
// The status bar's place is in the page's header (templates/base.html), so filling it moves nothing.
import { Workbox } from "/static/workbox/workbox-window.prod.mjs";
import { getMeta } from "/static/js/db.js";
import { formatWhen, lang, t, tn } from "/static/js/i18n.js";
import { waiting } from "/static/js/outbox.js";
import { startSync, syncNow } from "/static/js/sync.js";

function element(tag, attributes = {}, ...children) {
  const el = Object.assign(document.createElement(tag), attributes);
  el.append(...children);
  return el;
}

// Only the status bar's own place is in every page; what fills it, and what shows only at times
// (the network state in the bar, an update banner, a toast), is made here, keeping pages small.
const header = document.querySelector("header.top");
const outbox = document.getElementById("outbox");
const outboxText = document.getElementById("outbox-text");
const net = element("span", { id: "net", className: "net" });
net.setAttribute("role", "status");
header.querySelector(".lang").before(net);
const syncButton = element("button", { type: "button", id: "sync-now", className: "link-button", hidden: true, textContent: t("js.sync_now") });
const enrollLink = element("a", { id: "enroll-link", href: `/${lang}/enroll`, hidden: true, textContent: t("js.enroll_title") });
outbox.append(syncButton, enrollLink);
const reload = element("button", { type: "button", id: "update-reload", textContent: t("js.sw_reload") });
const banner = element("div", { id: "update", className: "banner", hidden: true },
  element("span", { textContent: t("js.sw_update_ready") }), " ", reload);
banner.setAttribute("role", "alert");
header.append(banner);
// The bottom bar: the guides, the checklists and the records, one tap away from every page; the
// page's own tab is marked, from its path.
const page = window.location.pathname.split("/")[2] || "";
const current = /^checklists/.test(page) ? "checklists" : /^(records?|incident|entry|maintenance)$/.test(page) ? "records"
  : /^(|codes|flows|search)$/.test(page) ? "guides" : "";
const tabs = element("nav", { className: "tabs" }, ...[["guides", ""], ["checklists", "/checklists"], ["records", "/records"]]
  .map(([tab, path]) => {
    const link = element("a", { href: `/${lang}${path}`, textContent: t(`js.tab_${tab}`) });
    if (current === tab) link.setAttribute("aria-current", "page");
    return link;
  }));
tabs.setAttribute("aria-label", t("js.tabs"));
document.body.append(tabs);
const toast = element("div", { id: "toast", className: "toast", hidden: true });
toast.setAttribute("role", "status");
document.querySelector("footer").append(toast);

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
  // Once the app works offline in this page's language (a worker is active), that worker fetches
  // the other one; asked of whichever worker is active, however this page came to have it.
  navigator.serviceWorker.ready.then((registration) => registration.active?.postMessage({ type: "CACHE_OTHER_LANGUAGE" }));
  // A shop's phone may keep the app open all day: look for a new version when it comes back.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && navigator.onLine) wb.update();
  });
}

let syncState = null;
let persisted = null; // null: the browser cannot say

// A failed round in the page's language, never the server's or the browser's own words.
function failure({ kind, status }) {
  if (kind === "network") return t("js.sync_unreachable");
  return t("js.sync_server_error", { status: status || "?" });
}

/** What the status bar says: what waits (records, not events), the last round, never both
 * "everything synced" and "sync failed". */
export function statusParts({ records, photos, rejected, drafts, upgrade = 0 }, { token, lastSync, authError }, state,
  keptForGood) {
  const failed = state?.state === "failed" && state.kind !== "auth";
  const parts = [];
  if (records || photos) {
    parts.push(t("js.waiting", { records: tn("js.records", records), photos: tn("js.photos", photos) }));
  } else {
    // "Everything synced" only when it is: the last round went through and no incident waits to be saved.
    parts.push(t(lastSync && !failed && !authError && token && !drafts ? "js.synced" : "js.nothing"));
  }
  if (drafts) parts.push(tn("js.drafts", drafts));
  if (upgrade) parts.push(t("js.waiting_upgrade", { count: upgrade }));
  if (rejected) parts.push(tn("js.rejected", rejected));
  if (state?.state === "running") {
    parts.push(state.total ? t(`js.sync_${state.phase}`, { done: state.done, total: state.total }) : t("js.sync_start"));
  } else if (failed) {
    parts.push(failure(state));
  }
  if (authError) parts.push(t("js.sync_revoked"));
  else if (!token) parts.push(t("js.not_enrolled"));
  if ((records || photos || drafts) && keptForGood === false) parts.push(t("js.not_persisted"));
  if (lastSync) parts.push(t("js.last_sync", { when: formatWhen(lastSync) }));
  return parts;
}

/** Every page says what waits to be synced, and how the last sync went, so nothing seems lost. */
async function showOutbox() {
  const counts = await waiting();
  const [token, lastSync, authError] = await Promise.all([getMeta("token"), getMeta("lastSync"), getMeta("authError")]);
  outboxText.textContent = statusParts(counts, { token, lastSync, authError }, syncState, persisted).join(" · ");
  outbox.classList.toggle("pending", counts.records + counts.photos + counts.drafts > 0);
  syncButton.hidden = !token || Boolean(authError);
  enrollLink.hidden = Boolean(token) && !authError;
}

async function askPersistentStorage() {
  // Without this the browser may evict the outbox under storage pressure.
  if (!navigator.storage?.persist) return;
  persisted = await navigator.storage.persisted();
  if (!persisted) persisted = await navigator.storage.persist();
  await showOutbox();
}

// The language switch keeps where the user is: the query (an incident) and the step (hash).
function keepPlaceInLanguageSwitch() {
  const link = document.querySelector("header .lang");
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
