// Every page loads this module: it registers the service worker, announces offline readiness
// and updates, and shows whether the phone is online.
import { Workbox } from "/static/workbox/workbox-window.prod.mjs";
import { t } from "/static/js/i18n.js";
import { waiting } from "/static/js/outbox.js";

const body = document.body;

function showToast(text) {
  const toast = document.getElementById("toast");
  toast.textContent = text;
  toast.hidden = false;
  setTimeout(() => { toast.hidden = true; }, 6000);
}

function showNetwork() {
  const net = document.getElementById("net");
  const online = navigator.onLine;
  net.textContent = online ? body.dataset.msgOnline : body.dataset.msgOffline;
  net.classList.toggle("offline", !online);
  net.hidden = false;
}

function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  const wb = new Workbox("/sw.js");
  wb.addEventListener("installed", (event) => {
    if (!event.isUpdate) showToast(body.dataset.msgOfflineReady);
  });
  wb.addEventListener("waiting", () => {
    const banner = document.getElementById("update");
    banner.hidden = false;
    document.getElementById("update-reload").addEventListener("click", () => {
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

/** Every page says what waits to be synced, so a cashier knows nothing is lost. */
export async function showOutbox() {
  const box = document.getElementById("outbox");
  const { events, photos, rejected } = await waiting();
  const parts = [events || photos ? t("js.waiting", { events, photos }) : t("js.nothing")];
  if (rejected) parts.push(t("js.rejected", { count: rejected }));
  box.textContent = parts.join(" · ");
  box.classList.toggle("pending", events + photos > 0);
  box.hidden = false;
}

async function askPersistentStorage() {
  // Without this the browser may evict the outbox under storage pressure.
  if (navigator.storage && navigator.storage.persist && !(await navigator.storage.persisted())) {
    await navigator.storage.persist();
  }
}

showNetwork();
showOutbox();
askPersistentStorage();
window.addEventListener("posaid:outbox", showOutbox);
window.addEventListener("online", showNetwork);
window.addEventListener("offline", showNetwork);
registerWorker();
