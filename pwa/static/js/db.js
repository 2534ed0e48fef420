// The phone's IndexedDB: one module-level connection, the schema in one upgrade function.
// Rule (from idb): never await anything but this database inside a transaction, or it closes.

const NAME = "posaid";
const VERSION = 2;

let dbPromise = null;

// Each step brings a database of version `from` up to date; a phone may skip any number of them.
// Stores that already hold data are reached through the upgrade transaction, never recreated.
function upgrade(db, tx, from) {
  if (from < 1) {
    // Every record, as the immutable event that will be synced; `sync` is "pending", "rejected"
    // or "held" (the server has it). The local lists read from here.
    const events = db.createObjectStore("events", { keyPath: "id" });
    events.createIndex("sync", "sync");
    events.createIndex("type", "type");
    // Photos, named by the sha256 of their bytes, beside the events that name them.
    const blobs = db.createObjectStore("blobs", { keyPath: "sha" });
    blobs.createIndex("sync", "sync");
    db.createObjectStore("drafts", { keyPath: "id" });
    db.createObjectStore("meta", { keyPath: "key" });
  }
  if (from < 2) {
    // An incident's steps and closes by the incident they name, so reading one incident does not
    // read every event (events without payload.incident are simply not in the index).
    tx.objectStore("events").createIndex("incident", "payload.incident");
  }
}

/** The open database (opened once per page). */
export function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const request = indexedDB.open(NAME, VERSION);
      request.onupgradeneeded = (event) => upgrade(request.result, request.transaction, event.oldVersion);
      request.onsuccess = () => {
        const db = request.result;
        // A newer version of the app opened in another tab waits for this connection: let it go.
        db.onversionchange = () => { db.close(); dbPromise = null; };
        resolve(db);
      };
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error("database blocked by another tab"));
    });
  }
  return dbPromise;
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
  });
}

function result(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Run fn(stores) in one readwrite transaction over names; all of it is stored, or none. */
export async function write(names, fn) {
  const db = await openDb();
  const tx = db.transaction(names, "readwrite");
  const stores = Object.fromEntries(names.map((name) => [name, tx.objectStore(name)]));
  fn(stores);
  await done(tx);
}

export async function get(store, key) {
  const db = await openDb();
  return result(db.transaction(store).objectStore(store).get(key));
}

export async function getAll(store, index, value) {
  const db = await openDb();
  const source = db.transaction(store).objectStore(store);
  return result(index ? source.index(index).getAll(value) : source.getAll());
}

export async function count(store, index, value) {
  const db = await openDb();
  const source = db.transaction(store).objectStore(store);
  return result(index ? source.index(index).count(value) : source.count());
}

export async function put(store, value) {
  await write([store], (s) => s[store].put(value));
}

export async function remove(store, key) {
  await write([store], (s) => s[store].delete(key));
}

export async function getMeta(key, fallback = null) {
  const row = await get("meta", key);
  return row ? row.value : fallback;
}

export async function setMeta(key, value) {
  await put("meta", { key, value });
}
