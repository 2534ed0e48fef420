// Recording: every record is an immutable event, written with its photos in one transaction.
// What has not reached the server yet is the outbox (events and blobs with sync "pending"); what
// has, and is old, is pruned so the phone's storage does not grow for ever.
// An incident walked from a flow starts as a draft (sync "draft"): each answer is stored at once,
// and the terminal and the name are asked for at the end. Drafts never leave the phone; completing
// one fills them in and puts all its events in the outbox in one transaction, so what reaches the
// server is immutable from then on.
import { count, get, getAll, getMeta, setMeta, write } from "/static/js/db.js";
import { foldIncident, incidentOf } from "/static/js/incidents.js";
import { maskFields } from "/static/js/mask.js";

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

// What the server scans (sync/ingest.py _texts): every string a person typed or chose, not ids,
// hashes, times or answers.
// A transaction's references are numbers of fixed lengths, never joined with other fields.
const NOT_TEXT = new Set(["type", "id", "device", "at", "shop", "blobs", "v", "incident", "occurred_at", "done_at",
  "period", "answer", "result", "outcome", "photo", "photos", "transaction", "sync", "reason"]);

/** The oldest event format that holds this event (sync/types.py format_needed): 2 added the
 * transaction and a checklist item's several photos. A server that takes only format 1 still
 * takes every event that needs no more. */
export function formatOf(event) {
  const p = event.payload;
  if (event.type === "incident.transaction" || p.transaction) return 2;
  if (event.type === "checklist.completed" && p.items.some((item) => item.photos?.length)) return 2;
  return 1;
}

function withFormat(event) {
  const v = formatOf(event);
  return v > 1 ? { ...event, v } : event;
}

// [holder, key] of every such string; a payload's fields are walked as [name, value] pairs.
function textSlots(node, slots = []) {
  for (const [key, value] of Object.entries(node)) {
    if (NOT_TEXT.has(key)) continue;
    if (typeof value === "string") slots.push([node, key]);
    else if (key === "fields" && value) {
      node[key] = Object.entries(value);
      for (const pair of node[key]) slots.push([pair, 0], [pair, 1]);
    } else if (Array.isArray(value)) value.forEach((item) => item && typeof item === "object" && textSlots(item, slots));
    else if (value && typeof value === "object") textSlots(value, slots);
  }
  return slots;
}

/** The event with every card number in its strings masked, taken together as the server does:
 * a number split between two fields is masked too. */
export function maskEvent(event) {
  const copy = structuredClone(event);
  const slots = textSlots(copy);
  const masked = maskFields(slots.map(([holder, key]) => holder[key]));
  slots.forEach(([holder, key], i) => { holder[key] = masked[i]; });
  if (Array.isArray(copy.payload.fields)) copy.payload.fields = Object.fromEntries(copy.payload.fields);
  return copy;
}

// New events are added (an id is never reused); completing drafts replaces them.
async function store(events, photos, { replace = false } = {}) {
  try {
    await write(["events", "blobs"], (s) => {
      for (const event of events) (replace ? s.events.put(event) : s.events.add(event));
      for (const photo of photos) s.blobs.put({ ...photo, sync: "pending" });
    });
  } catch (error) {
    throw storageError(error);
  }
  window.dispatchEvent(new CustomEvent("posaid:outbox"));
}

/** Record an event with its photos ({sha, blob, type, size}); resolves once both are stored.
 * A draft (an incident still without its terminal or name) stays on the phone until completed. */
export async function record(type, payload, recordedBy, photos = [], { draft = false } = {}) {
  const shop = await getMeta("shop");
  const event = withFormat(maskEvent({
    id: uuidv7(),
    type,
    device: await deviceId(),
    at: new Date().toISOString(),
    recorded_by: recordedBy.trim(),
    shop: shop ? shop.id : null,
    blobs: [...new Set(photos.map((p) => p.sha))],
    payload,
  }));
  await store([{ ...event, sync: draft ? "draft" : "pending" }], photos);
  return event;
}

/** Complete a draft incident: the terminal, note, photos and transaction (if any) go on its
 * opening, the name on each of its events, and all of them into the outbox together. */
export async function completeIncident(id, { terminal, who, note = "", photos = [], transaction = null }) {
  const [opened, related] = await Promise.all([get("events", id), getAll("events", "incident", id)]);
  const drafts = [opened, ...related].filter((e) => e && e.sync === "draft");
  const events = drafts.map((event) => {
    const filled = { ...event, recorded_by: who.trim() };
    if (event.id === id) {
      filled.payload = { ...event.payload, terminal: terminal.trim(), note: note.trim(), ...(transaction && { transaction }) };
      filled.blobs = [...new Set([...event.blobs, ...photos.map((p) => p.sha)])];
    }
    const { sync, ...rest } = filled;
    return { ...withFormat(maskEvent(rest)), sync: "pending" };
  });
  await store(events, photos, { replace: true });
}

/** The transaction of an incident already saved, told now (an incident.transaction event). */
export async function recordTransaction(incident, transaction, recordedBy, photos = []) {
  return record("incident.transaction", { incident, transaction }, recordedBy, photos);
}

/** Delete a draft incident that was not a real one (it never left the phone). */
export async function discardDraft(id) {
  const related = await getAll("events", "incident", id);
  await write(["events"], (s) => {
    for (const event of related) if (event.sync === "draft") s.events.delete(event.id);
    s.events.delete(id);
  });
  window.dispatchEvent(new CustomEvent("posaid:outbox"));
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

// Records, not events: an incident with its steps and close is one, a run one, a log one.
const records = (events) => new Set(events.map((e) => incidentOf(e) ?? e.id)).size;

/** What waits: records and photos in the outbox, records refused, incidents not yet completed. */
export async function waiting() {
  const [pending, photos, rejected, drafts, formats] = await Promise.all([
    getAll("events", "sync", "pending"),
    count("blobs", "sync", "pending"),
    getAll("events", "sync", "rejected"),
    getAll("events", "sync", "draft"),
    getMeta("formats", [1]),
  ]);
  // Pending in a format the server does not take yet: they wait for its upgrade, said apart.
  const upgrade = pending.filter((event) => !formats.includes(event.v || 1));
  return { records: records(pending), photos, rejected: records(rejected), drafts: records(drafts), upgrade: records(upgrade) };
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
