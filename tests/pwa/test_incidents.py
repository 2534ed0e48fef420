"""An incident derived from its events on the phone (pwa/static/js/incidents.js): the pure fold runs
under Node against the close cases the server's views share; the reads through the "incident"
index run in Chromium, on a phone whose database was made by the first version of the app."""

import json

import pytest
from playwright.sync_api import expect

from tests.fixtures import ROOT
from tests.node import run_module

CASES = json.loads((ROOT / "tests" / "cases" / "incident_close.json").read_text(encoding="utf-8"))["cases"]
INCIDENT = "01890000-0000-7000-8000-0000000000a0"

FOLD = """
import { foldIncident } from "/static/js/incidents.js";
const opened = { id: input.incident, type: "incident.opened", blobs: [], payload: { code: "T2" } };
const results = input.cases.map((closes) => {
  const events = closes.map(({ id, at, ...payload }) => ({
    id, at, type: "incident.closed", blobs: [], payload: { incident: input.incident, ...payload },
  }));
  const { status, closed } = foldIncident(opened, events);
  return { status, step: closed?.payload.step ?? null, support: closed?.payload.support ?? null };
});
console.log(JSON.stringify(results));
"""


def test_the_phone_decides_each_close_case_as_the_server_does():
    actual = run_module(FOLD, {"incident": INCIDENT, "cases": [case["closes"] for case in CASES]})
    assert {c["name"]: c["expected"] for c in CASES} == {c["name"]: a for c, a in zip(CASES, actual)}


def step(n, name, blobs=()):
    return {"id": f"01890000-0000-7000-8000-00000000000{n}", "at": "2026-05-01T10:00:00Z", "type": "incident.step",
            "blobs": list(blobs), "payload": {"incident": INCIDENT, "step": name, "answer": "not_fixed"}}


def test_the_fold_orders_steps_as_made_and_gathers_every_photo():
    source = """
    import { foldIncident } from "/static/js/incidents.js";
    const state = foldIncident(input.opened, input.related);
    console.log(JSON.stringify({ steps: state.steps.map((e) => e.payload.step), blobs: state.blobs, status: state.status }));
    """
    opened = {"id": INCIDENT, "type": "incident.opened", "blobs": ["a" * 64], "payload": {"code": "T2"}}
    related = [step(3, "restart", ["b" * 64]), step(1, "power"), step(2, "network")]
    actual = run_module(source, {"opened": opened, "related": related})
    assert {"steps": ["power", "network", "restart"], "blobs": ["a" * 64, "b" * 64], "status": "open"} == actual


# The schema of the first version of the app, made by hand as that version's db.js made it.
MAKE_VERSION_1 = """async (events) => {
    const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open('posaid', 1);
        request.onupgradeneeded = () => {
            const db = request.result;
            const store = db.createObjectStore('events', { keyPath: 'id' });
            store.createIndex('sync', 'sync');
            store.createIndex('type', 'type');
            db.createObjectStore('blobs', { keyPath: 'sha' }).createIndex('sync', 'sync');
            db.createObjectStore('drafts', { keyPath: 'id' });
            db.createObjectStore('meta', { keyPath: 'key' });
        };
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
    const tx = db.transaction(['events', 'drafts'], 'readwrite');
    for (const event of events) tx.objectStore('events').put(event);
    tx.objectStore('drafts').put({ id: 'checklist:daily:2026-05-01', items: {}, photos: {} });
    await new Promise((resolve) => { tx.oncomplete = resolve; });
    db.close();
}"""


def event(n, type, payload, sync="held"):
    return {"id": f"01890000-0000-7000-8000-00000000010{n}", "type": type, "device": "d", "at": "2026-05-01T10:00:00Z",
            "recorded_by": "Wang", "shop": None, "blobs": [], "payload": payload, "sync": sync}


@pytest.mark.browser
def test_a_phone_with_version_1_data_keeps_it_and_reads_incidents_through_the_new_index(live_server, phone):
    opened = event(1, "incident.opened", {"code": "T2", "terminal": "Till 1", "occurred_at": "2026-05-01T09:58:00Z", "note": ""})
    steps = [event(2, "incident.step", {"incident": opened["id"], "flow": "t2", "step": "power", "answer": "not_fixed"}),
             event(3, "incident.closed", {"incident": opened["id"], "outcome": "resolved", "step": "network"}, sync="pending")]
    page = phone.new_page()
    page.goto(live_server.url + "/en/strings.json")  # same origin, and no script of the app's runs here
    page.evaluate(MAKE_VERSION_1, [opened, *steps])

    upgraded = page.evaluate("""async (id) => {
        const { openDb, getAll } = await import('/static/js/db.js');
        const { readIncident } = await import('/static/js/incidents.js');
        const db = await openDb();
        const state = await readIncident(id);
        return {
            version: db.version,
            indexes: [...db.transaction('events').objectStore('events').indexNames],
            events: (await getAll('events')).map((e) => [e.id, e.sync]),
            drafts: (await getAll('drafts')).map((d) => d.id),
            byIncident: (await getAll('events', 'incident', id)).map((e) => e.id),
            state: { status: state.status, steps: state.steps.map((e) => e.payload.step) },
        };
    }""", opened["id"])
    assert {
        "version": 2,
        "indexes": ["incident", "sync", "type"],
        "events": [(e["id"], e["sync"]) for e in (opened, *steps)],
        "drafts": ["checklist:daily:2026-05-01"],
        "byIncident": [e["id"] for e in steps],
        "state": {"status": "resolved", "steps": ["power"]},
    } == {**upgraded, "events": [tuple(e) for e in upgraded["events"]]}

    page.goto(live_server.url + "/en/records")
    expect(page.locator("#list-incidents li")).to_have_count(1)
    expect(page.locator("#list-incidents li")).to_contain_text("T2: the payment could not be processed · Till 1")
    expect(page.locator("#list-incidents li")).to_contain_text("Resolved")
