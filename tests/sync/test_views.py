"""The read views agree with the phone: which close decides an incident, whatever the arrival order.

The cases are shared with the phone's tests (tests/cases/incident_close.json, pwa/static/js/incidents.js).
"""

import json
from pathlib import Path

import msgspec
import pytest

from server import writes
from server.store import Store, open_store
from sync.ingest import ingest
from tests import factories as f

NOW = "2026-05-01T12:00:00+00:00"
CASES = json.loads((Path(__file__).parent.parent / "cases" / "incident_close.json").read_text(encoding="utf-8"))["cases"]


@pytest.fixture
def store(tmp_path, database_where) -> Store:
    """A store on SQLite and one on PostgreSQL: each test runs on both."""
    store = open_store(tmp_path, database_where.get("database"))
    with store.write() as db:
        writes.add_shop(db, "one", NOW)
    return store


def push(store: Store, events: list[dict]) -> None:
    with store.write() as db:
        results = ingest(db, 1, f.DEVICE, [msgspec.Raw(msgspec.json.encode(e)) for e in events], NOW)
    assert {r.status for r in results} <= {"stored"}, results


def closes(incident: str, case: dict) -> list[dict]:
    return [f.event("incident.closed", {"incident": incident, "outcome": c["outcome"], "step": c.get("step"),
                                        "support": c.get("support")}, id=c["id"], at=c["at"])
            for c in case["closes"]]


def outcome(store: Store) -> dict:
    with store.read() as db:
        status, step, support = db.execute(
            "SELECT status, coalesce(resolved_at_step, escalated_at_step), support FROM incidents").fetchone()
    return {"status": status, "step": step, "support": support}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_closes_pushed_one_by_one_in_arrival_order(store, case):
    incident = f.opened()
    push(store, [incident])
    for close in closes(incident["id"], case):
        push(store, [close])
    assert outcome(store) == case["expected"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_closes_pushed_before_their_incident(store, case):
    incident = f.opened()
    for close in closes(incident["id"], case):
        push(store, [close])
    push(store, [incident])
    assert outcome(store) == case["expected"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_closes_in_one_batch_with_their_incident(store, case):
    incident = f.opened()
    push(store, [incident, *closes(incident["id"], case)])
    assert outcome(store) == case["expected"]
