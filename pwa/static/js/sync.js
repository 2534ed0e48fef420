// The sync engine: photos first, then events in batches, each leaving the outbox only once the
// server's answer says it is held. Runs on app open, on "online", when the app comes back to the
// foreground ("visibilitychange", "pageshow": iOS Safari has no Background Sync, so its worker's
// "sync" event never comes), on the service worker's Background Sync where there is one, on a
// timer while open and on "sync now"; failures back off with jitter.
import { get, getAll, getMeta, setMeta, write } from "/static/js/db.js";
import { deviceId, prune, wire } from "/static/js/outbox.js";

const API = "/api/v1";
const BATCH = 500;
const TIMER_MS = 60_000;
const MAX_BACKOFF_MS = 5 * 60_000;

class SyncError extends Error {
  constructor(kind, message, status) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

function notify(detail) {
  window.dispatchEvent(new CustomEvent("posaid:sync", { detail }));
  window.dispatchEvent(new CustomEvent("posaid:outbox"));
}

async function api(path, { method = "GET", token, body, headers = {} } = {}) {
  let response;
  try {
    response = await fetch(API + path, {
      method,
      body,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      cache: "no-store",
    });
  } catch {
    throw new SyncError("network", "no connection to the server");
  }
  if (response.status === 401) {
    const problem = await response.json().catch(() => ({}));
    throw new SyncError("auth", problem.detail || "not authorised", 401);
  }
  return response;
}

async function problem(response) {
  const body = await response.json().catch(() => ({}));
  return new SyncError("server", body.detail || `HTTP ${response.status}`, response.status);
}

/** Enroll this phone with a one-time code; keeps the token and the shop. */
export async function enroll(code, name) {
  const response = await api("/enroll", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code: code.trim(), device: await deviceId(), name: name.trim() }),
  });
  if (!response.ok) throw await problem(response);
  const answer = await response.json();
  await setMeta("token", answer.token);
  await setMeta("shop", { ...answer.shop, terminals: [], staff: [], runs: [] });
  await setMeta("authError", null);
  return answer;
}

/** The shop as the phone keeps it from pull: the register (name, region, address, support lines),
 * each terminal (name, model, serial, tid, mid, acquirer, software_version), the staff's names,
 * and the shop's checklist runs of the current periods from every device. Absent fields were empty. */
async function pull(token) {
  const response = await api("/pull", { token });
  if (!response.ok) throw await problem(response);
  const answer = await response.json();
  await setMeta("shop", { ...answer.shop, terminals: answer.terminals, staff: answer.staff, runs: answer.runs || [] });
  await setMeta("contentVersion", answer.content_version);
  // The event formats the server takes (a server too old to say takes format 1).
  await setMeta("formats", answer.formats || [1]);
  // What the chain learned: per flow, how often each check fixed the problem (flow.js shows it).
  await setMeta("learned", answer.learned || []);
  await markHeld(answer.held);
  return answer;
}

// An event the server holds but the phone still calls pending: the answer to its push was lost on
// the way. Marked here, it is not sent again and may be pruned.
async function markHeld(ids) {
  const held = new Set(ids);
  await write(["events"], (s) => {
    s.events.index("sync").openCursor("pending").onsuccess = ({ target }) => {
      const cursor = target.result;
      if (!cursor) return;
      if (held.has(cursor.value.id)) cursor.update({ ...cursor.value, sync: "held" });
      cursor.continue();
    };
  });
}

async function markBlob(sha, sync) {
  const row = await get("blobs", sha);
  if (row) await write(["blobs"], (s) => s.blobs.put({ ...row, sync }));
}

async function uploadBlob(token, row) {
  // A first attempt goes straight to PUT: one request per photo. Only after a broken attempt
  // does it ask (HEAD) how much the server kept, and send the rest from there.
  let offset = 0;
  if (row.attempted) {
    const head = await api(`/blobs/${row.sha}`, { method: "HEAD", token });
    if (head.status === 200) return;
    offset = Number(head.headers.get("upload-offset") || 0);
  }
  await write(["blobs"], (s) => s.blobs.put({ ...row, attempted: true }));
  for (let tries = 0; tries < 3; tries++) {
    const response = await api(`/blobs/${row.sha}`, {
      method: "PUT",
      token,
      body: row.blob.slice(offset),
      headers: {
        "content-type": "application/offset+octet-stream",
        "upload-offset": String(offset),
        "upload-length": String(row.size),
      },
    });
    if (response.status === 409) { // the server holds another offset: resume from it
      offset = Number(response.headers.get("upload-offset") || 0);
      continue;
    }
    if (!response.ok) throw await problem(response);
    if (response.headers.get("upload-complete") === "?1") return;
    offset = Number(response.headers.get("upload-offset") || 0); // partial: send the rest
  }
  throw new SyncError("network", "upload did not complete");
}

async function pushBlobs(token, progress) {
  const rows = await getAll("blobs", "sync", "pending");
  let done = 0;
  for (const row of rows) {
    progress({ phase: "photos", done, total: rows.length });
    try {
      await uploadBlob(token, row);
      await markBlob(row.sha, "held");
    } catch (error) {
      if (error.kind !== "server" || error.status >= 500) throw error;
      // The server refused this photo for good (type, size): keep it and say why, don't loop.
      await write(["blobs"], (s) => s.blobs.put({ ...row, sync: "rejected", reason: error.message }));
    }
    done += 1;
  }
}

/** Whether the server takes an event's format (its `v`; 1 when not said) as its last pull told. */
export function acceptedBy(formats, event) {
  return formats.includes(event.v || 1);
}

// Events in a format the server does not take yet stay pending, unsent, until a pull says it does
// (a hub may run an older version for months): not dropped, not retried in a loop.
async function pushEvents(token, progress) {
  const formats = await getMeta("formats", [1]);
  const pending = (await getAll("events", "sync", "pending"))
    .filter((event) => acceptedBy(formats, event))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  for (let i = 0; i < pending.length; i += BATCH) {
    progress({ phase: "events", done: i, total: pending.length });
    const batch = pending.slice(i, i + BATCH);
    const response = await api("/events", {
      method: "POST",
      token,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ events: batch.map(wire) }),
    });
    if (!response.ok) throw await problem(response);
    const { results } = await response.json();
    const byId = new Map(batch.map((e) => [e.id, e]));
    const missing = new Set();
    await write(["events"], (s) => {
      for (const result of results) {
        const event = byId.get(result.id);
        if (!event) continue;
        if (result.status === "stored" || result.status === "duplicate") {
          s.events.put({ ...event, sync: "held" });
        } else if (result.missing && result.missing.length) {
          result.missing.forEach((sha) => missing.add(sha)); // send them, then this event again
        } else if ((result.reason || "").startsWith("v: format")) {
          // The server was downgraded since its pull: keep the event for when it takes the format.
        } else {
          s.events.put({ ...event, sync: "rejected", reason: result.reason || result.status });
        }
      }
    });
    for (const sha of missing) await markBlob(sha, "pending");
  }
}

let running = null;
let failures = 0;
let timer = null;

/** One sync round; resolves with {ok, error?}. Only one round runs at a time per phone. */
export function syncNow() {
  if (running) return running;
  const round = async () => {
    const token = await getMeta("token");
    if (!token) return { ok: false, error: "not-enrolled" };
    const progress = (p) => notify({ state: "running", ...p });
    try {
      progress({ phase: "start" });
      await pull(token);
      await pushBlobs(token, progress);
      await pushEvents(token, progress);
      // Events rejected only for missing photos go round once more, now that those are sent.
      if ((await getAll("blobs", "sync", "pending")).length) {
        await pushBlobs(token, progress);
        await pushEvents(token, progress);
      }
      await prune();
      await setMeta("lastSync", new Date().toISOString());
      failures = 0;
      notify({ state: "done" });
      return { ok: true };
    } catch (error) {
      failures += 1;
      if (error.kind === "auth") await setMeta("authError", error.message);
      notify({ state: "failed", error: error.message, kind: error.kind, status: error.status });
      return { ok: false, error: error.message, kind: error.kind };
    }
  };
  const lock = navigator.locks ? navigator.locks.request("posaid-sync", round) : round();
  running = lock.finally(() => { running = null; schedule(); });
  return running;
}

function schedule() {
  clearTimeout(timer);
  // Backoff with jitter after failures, so a shop's phones don't all retry at the same moment.
  const base = failures ? Math.min(MAX_BACKOFF_MS, 5000 * 2 ** (failures - 1)) : TIMER_MS;
  timer = setTimeout(() => { if (navigator.onLine) syncNow(); else schedule(); }, base * (0.5 + Math.random()));
}

/** Start syncing for this page: now, when the network returns, when the app comes back to the
 * foreground, and on a timer. */
export function startSync() {
  window.addEventListener("online", () => { failures = 0; syncNow(); });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && navigator.onLine) syncNow();
  });
  // A page restored from the back-forward cache runs no script from the top: it syncs here.
  window.addEventListener("pageshow", (event) => { if (event.persisted && navigator.onLine) syncNow(); });
  navigator.serviceWorker?.addEventListener("message", (event) => {
    if (event.data && event.data.type === "SYNC") syncNow();
  });
  navigator.serviceWorker?.ready.then((registration) => registration.sync?.register("posaid-outbox")).catch(() => {});
  if (navigator.onLine) syncNow(); else schedule();
}
