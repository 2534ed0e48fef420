// posaid service worker: precaches every page and asset so the app reads with no network.
// The lists below are written by the server from the content and files it serves; each revision
// is a hash of the bytes, so any change makes this file differ and the browser installs it as
// an update.
//
// The first install fetches the shared files (Workbox's precache) and the pages of one language:
// the language of the page that installs the app, so the phone's own language works offline as
// early as it can. The other language follows once the worker is active (a page asks for it).
// Pages are cached under their URL and revision, as Workbox does, so an update re-downloads only
// the pages that changed.
importScripts("/static/workbox/workbox-sw.js");
workbox.setConfig({ modulePathPrefix: "/static/workbox/", debug: false });

const PRECACHE = {{ precache }};
const PAGES = "posaid-pages";
const LANGS = ["zh", "en"];
const revisions = new Map(LANGS.flatMap((lang) => PRECACHE[lang].map((e) => [e.url, e.revision])));
// "/" is the Chinese home page, precached once under its own name.
const pageOf = (path) => (path === "/" ? "/zh" : path);
const keyOf = (url) => new URL(`${pageOf(url)}?__WB_REVISION__=${revisions.get(pageOf(url))}`, self.location.origin).href;
const langOf = (path) => (path.startsWith("/en") ? "en" : "zh");

workbox.precaching.cleanupOutdatedCaches();
// Query strings (a search, a prefilled code) do not change which page is served.
workbox.precaching.precacheAndRoute(PRECACHE.common, { ignoreURLParametersMatching: [/.*/] });

// The language the app is being installed from: the page that registered this worker, else the
// phone's own preference.
async function installingLanguage() {
  const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  if (pages.length) return langOf(new URL(pages[0].url).pathname);
  return (self.navigator.language || "zh").toLowerCase().startsWith("en") ? "en" : "zh";
}

/** Put every page of lang into the cache at its revision; what is there already is kept. */
async function cacheLanguage(lang) {
  const cache = await caches.open(PAGES);
  for (const { url } of PRECACHE[lang]) {
    if (await cache.match(keyOf(url))) continue;
    const response = await fetch(new Request(url, { cache: "reload", credentials: "same-origin" }));
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    await cache.put(keyOf(url), response);
  }
}

/** Drop the cached revisions of lang's pages that this version does not list. */
async function pruneLanguage(lang) {
  const cache = await caches.open(PAGES);
  const current = new Set(PRECACHE[lang].map((e) => keyOf(e.url)));
  for (const request of await cache.keys()) {
    if (langOf(new URL(request.url).pathname) === lang && !current.has(request.url)) await cache.delete(request);
  }
}

let otherLanguage = null; // the language left for after activation
let active = false;
let filling = null; // one fill at a time, however many pages ask
// A worker woken again after activation runs this file anew: its state still says it is active.
const isActive = () => active || self.serviceWorker?.state === "activated";

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const own = await installingLanguage();
    otherLanguage = LANGS.find((lang) => lang !== own);
    await cacheLanguage(own);
  })());
});

self.addEventListener("activate", (event) => {
  active = true;
  if (otherLanguage) event.waitUntil(Promise.all(LANGS.filter((lang) => lang !== otherLanguage).map(pruneLanguage)));
});

let filled = false; // every page of both languages cached, as far as this run of the worker knows

function cacheOtherLanguages() {
  if (filled) return Promise.resolve();
  filling ??= (async () => {
    for (const lang of LANGS) {
      await cacheLanguage(lang);
      await pruneLanguage(lang);
    }
    filled = true;
  })().finally(() => { filling = null; });
  return filling;
}

// A page of either language: its cached revision, else the network, else any revision cached
// before (the other language may still be on its way after an update), else the offline page.
workbox.routing.registerRoute(
  ({ url }) => url.origin === self.location.origin && revisions.has(pageOf(url.pathname)),
  async ({ request, url, event }) => {
    // Any page asked for after activation also fills in what is missing: a page that asked by
    // message may have gone before the worker was active.
    if (isActive() && !filled) event.waitUntil(cacheOtherLanguages().catch(() => {}));
    const cache = await caches.open(PAGES);
    const hit = await cache.match(keyOf(url.pathname));
    if (hit) return hit;
    try {
      return await fetch(request);
    } catch (error) {
      const older = await cache.match(pageOf(url.pathname), { ignoreSearch: true });
      if (older) return older;
      throw error;
    }
  }
);

// A page that is not precached, asked for with no network: show the offline page instead of the
// browser's error, in the language of the URL.
workbox.routing.registerRoute(
  ({ request }) => request.mode === "navigate",
  new workbox.strategies.NetworkOnly()
);
workbox.routing.setCatchHandler(async ({ request, url }) => {
  if (request.mode !== "navigate") return Response.error();
  const cache = await caches.open(PAGES);
  const offline = `/${langOf(url.pathname)}/offline`;
  return (await cache.match(keyOf(offline))) || (await cache.match(offline, { ignoreSearch: true })) || Response.error();
});

self.addEventListener("message", (event) => {
  const type = event.data && event.data.type;
  // The page asks the waiting worker to take over once the user chose "reload".
  if (type === "SKIP_WAITING") self.skipWaiting();
  // An active worker fills in the other language (and any page an update changed).
  if (type === "CACHE_OTHER_LANGUAGE" && isActive()) event.waitUntil(cacheOtherLanguages().catch(() => {}));
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
