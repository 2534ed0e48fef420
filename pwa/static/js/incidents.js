// An incident is never stored as such: it is derived from its events, here and only here. The fold
// is pure (no DOM, no IndexedDB), so Node tests it against the same cases as the server's views;
// the readers fetch an incident's events through the "incident" index, each event once.
import { get, getAll } from "/static/js/db.js";

const byId = (a, b) => (a.id < b.id ? -1 : 1);

/** The incident an event belongs to: its own id if it opens one, else the one it names; or null. */
export function incidentOf(event) {
  if (event.type === "incident.opened") return event.id;
  return event.payload.incident ?? null;
}

// Does close a come after close b? Instants, not text: offsets differ; a tie goes to the later-made.
function after(a, b) {
  const order = Date.parse(a.at) - Date.parse(b.at);
  return order > 0 || (order === 0 && a.id > b.id);
}

/** Of an incident's incident.closed events, the one that decides it, or null when there is none.
 * The latest by the device clock wins, as in the server's views (tests/cases/incident_close.json). */
function decidingClose(closes) {
  return closes.reduce((winner, close) => (!winner || after(close, winner) ? close : winner), null);
}

/** An incident's state folded from its incident.opened event and the events that name it. The
 * transaction told last (by the same rule as the closes) is the incident's. */
export function foldIncident(opened, related) {
  const children = [...related].sort(byId);
  const steps = children.filter((e) => e.type === "incident.step");
  const closed = decidingClose(children.filter((e) => e.type === "incident.closed"));
  const told = decidingClose([...(opened.payload.transaction ? [opened] : []),
    ...children.filter((e) => e.type === "incident.transaction")]);
  const blobs = [...opened.blobs, ...children.flatMap((e) => e.blobs)];
  // A draft is an incident walked from a flow whose terminal and name are still to come (outbox.js).
  return {
    opened, steps, closed, blobs, status: closed ? closed.payload.outcome : "open", draft: opened.sync === "draft",
    transaction: told ? told.payload.transaction : null,
  };
}

/** One incident as recorded on this phone; null if it is not here. */
export async function readIncident(id) {
  const [opened, related] = await Promise.all([get("events", id), getAll("events", "incident", id)]);
  if (!opened || opened.type !== "incident.opened") return null;
  return foldIncident(opened, related);
}

/** Every incident on this phone, unordered. */
export async function readIncidents() {
  const [opened, children] = await Promise.all([
    getAll("events", "type", "incident.opened"),
    getAll("events", "incident"), // every event that names an incident, whichever
  ]);
  const related = new Map(opened.map((e) => [e.id, []]));
  for (const child of children) related.get(child.payload.incident)?.push(child);
  return opened.map((e) => foldIncident(e, related.get(e.id)));
}
