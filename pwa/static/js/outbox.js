// Recording: every record is an immutable event, written with its photos in one transaction.
// What has not reached the server yet is the outbox (events and blobs with sync "pending"); what
// has, and is old, is pruned so the phone's storage does not grow for ever.
import { count, getAll, getMeta, setMeta, write } from "/static/js/db.js";
import { foldIncident, incidentOf } from "/static/js/incidents.js";
import { maskPans } from "/static/js/mask.js";

// Held events older than this leave the phone: head office has them, and the phone's lists are
// about the recent past.
const KEEP_HELD_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A UUIDv7: 48 bits of milliseconds, then randomness, so ids sort by when they were made. */
export function uuidv7() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) { bytes[i] = ms % 256; ms = Math.floor(ms / 256); }
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** This phone's own id, made once at first start, before it is enrolled. */
export async function deviceId() {
  let id = await getMeta("device");
  if (!id) {
    id = crypto.randomUUID();
    await setMeta("device", id);
  }
  return id;
}

// Free-text fields are masked wherever they sit in a payload.
function maskAll(value) {
  if (typeof value === "string") return maskPans(value);
  if (Array.isArray(value)) return value.map(maskAll);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskAll(v)]));
  }
  return value;
}

/** Record an event with its photos ({sha, blob, type, size}); resolves once both are stored. */
export async function record(type, payload, recordedBy, photos = []) {
  const shop = await getMeta("shop");
  const event = {
    id: uuidv7(),
    type,
    device: await deviceId(),
    at: new Date().toISOString(),
    recorded_by: maskPans(recordedBy.trim()),
    shop: shop ? shop.id : null,
    blobs: [...new Set(photos.map((p) => p.sha))],
    payload: maskAll(payload),
  };
  try {
    await write(["events", "blobs"], (s) => {
      s.events.add({ ...event, sync: "pending" });
      for (const photo of photos) s.blobs.put({ ...photo, sync: "pending" });
    });
  } catch (error) {
    throw storageError(error);
  }
  await setMeta("me", event.recorded_by);
  window.dispatchEvent(new CustomEvent("posaid:outbox"));
  return event;
}

/** A storage failure the user must see: a full disk gets its own message. */
export function storageError(error) {
  const full = error && (error.name === "QuotaExceededError" || /quota/i.test(error.message || ""));
  const wrapped = new Error(full ? "quota" : (error && error.message) || "storage");
  wrapped.kind = full ? "quota" : "storage";
  return wrapped;
}

/** The event without local bookkeeping: exactly what is sent to the server. */
export function wire(event) {
  const { sync, reason, ...rest } = event;
  return rest;
}

export async function waiting() {
  const [events, photos, rejected] = await Promise.all([
    count("events", "sync", "pending"),
    count("blobs", "sync", "pending"),
    count("events", "sync", "rejected"),
  ]);
  return { events, photos, rejected };
}

export async function eventsOfType(type) {
  const events = await getAll("events", "type", type);
  return events.sort((a, b) => (a.id < b.id ? 1 : -1));
}

// An incident's events go as one or not at all, so no list shows half an incident: an incident
// still open is kept whole, a closed one goes once every one of its events may go.
function groups(events) {
  const byKey = new Map();
  for (const event of events) {
    const key = incidentOf(event) ?? event.id;
    if (byKey.has(key)) byKey.get(key).push(event);
    else byKey.set(key, [event]);
  }
  return byKey.values();
}

function isOpenIncident(group) {
  const opened = group.find((e) => e.type === "incident.opened");
  return Boolean(opened) && foldIncident(opened, group.filter((e) => e !== opened)).status === "open";
}

const laterRun = (a, b) => a.payload.period > b.payload.period || (a.payload.period === b.payload.period && a.id > b.id);

// Each checklist's latest run is kept: whether a quarterly checklist is due is read from a run
// that may be months old.
function latestRuns(events) {
  const latest = new Map();
  for (const run of events.filter((e) => e.type === "checklist.completed")) {
    const kept = latest.get(run.payload.checklist);
    if (!kept || laterRun(run, kept)) latest.set(run.payload.checklist, run);
  }
  return new Set([...latest.values()].map((run) => run.id));
}

// What prune deletes, from every event and the names of the held photos: {events: ids, blobs: shas}.
function prunable(events, heldBlobs, now) {
  const cutoff = now - KEEP_HELD_DAYS * DAY_MS;
  const keep = latestRuns(events);
  const old = (e) => e.sync === "held" && Date.parse(e.at) < cutoff && !keep.has(e.id);
  const gone = new Set();
  for (const group of groups(events)) {
    if (!isOpenIncident(group) && group.every(old)) group.forEach((e) => gone.add(e.id));
  }
  const named = new Set(events.filter((e) => !gone.has(e.id)).flatMap((e) => e.blobs));
  return { events: [...gone], blobs: heldBlobs.filter((sha) => !named.has(sha)) };
}

/** Delete, in one transaction, the old held events and the held photos nothing names any more.
 * Drafts are never touched. */
export async function prune(now = Date.now()) {
  await write(["events", "blobs"], (s) => {
    s.events.getAll().onsuccess = ({ target: events }) => {
      s.blobs.index("sync").getAllKeys("held").onsuccess = ({ target: held }) => {
        const gone = prunable(events.result, held.result, now);
        for (const id of gone.events) s.events.delete(id);
        for (const sha of gone.blobs) s.blobs.delete(sha);
      };
    };
  });
}
