// posaid service worker: precaches every page and asset so the app reads with no network.
// The list below is written by the server from the content and files it serves; each revision
// is a hash of the bytes, so any change makes this file differ and the browser installs it as
// an update.
importScripts("/static/workbox/workbox-sw.js");
workbox.setConfig({ modulePathPrefix: "/static/workbox/", debug: false });

const PRECACHE = {{ precache }};

workbox.precaching.cleanupOutdatedCaches();
// Query strings (a search, a prefilled code) do not change which page is served.
workbox.precaching.precacheAndRoute(PRECACHE, { ignoreURLParametersMatching: [/.*/] });

// A page that is not precached, asked for with no network: show the offline page instead of the
// browser's error, in the language of the URL.
workbox.routing.registerRoute(
  ({ request }) => request.mode === "navigate",
  new workbox.strategies.NetworkOnly()
);
workbox.routing.setCatchHandler(async ({ request, url }) => {
  if (request.mode !== "navigate") return Response.error();
  const lang = url.pathname.startsWith("/en") ? "en" : "zh";
  return (await workbox.precaching.matchPrecache(`/${lang}/offline`)) || Response.error();
});

// The page asks the waiting worker to take over once the user chose "reload".
self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "SKIP_WAITING") self.skipWaiting();
});

// Background Sync: when the browser says the network is back, ask any open page to sync (the
// sync engine lives with the pages; with none open, the next app start syncs).
self.addEventListener("sync", (event) => {
  if (event.tag !== "posaid-outbox") return;
  event.waitUntil((async () => {
    const pages = await self.clients.matchAll({ type: "window" });
    for (const page of pages) page.postMessage({ type: "SYNC" });
  })());
});
