"""The office's queries: the scope applies inside the SQL, and the lists read through indexes."""

import re

import pytest

from server import queries
from server.queries import Cursor, IncidentFilter, MaintenanceFilter, RunFilter, Scope

EAST, WEST, NOWHERE = Scope(("华东 East",)), Scope(("华西 West",)), Scope(())


def test_the_scope_is_applied_inside_the_sql_whatever_the_filters_ask(shared):
    chain = shared.chain
    with shared.admin.app.state.store.read() as db:
        assert [r.id for r in queries.incidents(db, EAST, IncidentFilter())] == [chain.east_incident]
        assert queries.incidents(db, EAST, IncidentFilter(shop=chain.west)) == []
        assert queries.incidents(db, EAST, IncidentFilter(region="华西 West")) == []
        assert queries.incidents(db, NOWHERE, IncidentFilter()) == []
        assert queries.incident(db, EAST, chain.west_incident) is None
        assert queries.incident(db, WEST, chain.west_incident).shop_id == chain.west
        assert queries.photo_in_scope(db, EAST, chain.east_photo)
        assert not queries.photo_in_scope(db, EAST, chain.west_photo)
        assert queries.runs(db, WEST, RunFilter()) == [] and len(queries.runs(db, EAST, RunFilter())) == 1
        assert queries.maintenance_entries(db, WEST, MaintenanceFilter()) == []
        assert queries.shop_row(db, EAST, chain.west) is None
        assert queries.regions(db, EAST) == ["华东 East"]
        assert [d.name for d in queries.devices_page(db, WEST)] == ["west phone"]
        assert queries.shop_event(db, WEST, chain.east, chain.east_run, "checklist.completed") is None
        attention = queries.attention(db, WEST, "2000-01-01")
        assert attention.escalated_count == 1 and attention.problem_runs_count == 0


def plan(db, sql: str, params: list) -> str:
    return " / ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params))


@pytest.mark.parametrize(("f", "index"), [
    (IncidentFilter(), "incidents_opened"),
    (IncidentFilter(code="T2"), "incidents_code"),
    (IncidentFilter(shop=1), "incidents_shop"),
    (IncidentFilter(q="现金"), "incidents_opened"),
    (IncidentFilter(outcome="open"), "incidents_open"),
])
def test_the_incident_list_reads_through_an_index(shared, f, index):
    with shared.admin.app.state.store.read() as db:
        for cursor in (None, Cursor("2026-05-01T00:00:00+00:00", "z", 9)):
            text = plan(db, *queries.incidents_sql(Scope(), f, cursor, 50))
            assert f"USING INDEX {index}" in text or f"USING COVERING INDEX {index}" in text, text
            assert not re.search(r"SCAN (i|s|events)\b(?! USING)", text), text  # no table read whole


def statements(db, call) -> list[str]:
    """The SQL a call runs, with its parameters filled in (SQLite's trace)."""
    seen: list[str] = []
    db.conn.set_trace_callback(seen.append)
    try:
        call()
    finally:
        db.conn.set_trace_callback(None)
    return seen


def test_the_detail_page_reads_through_indexes_only(shared):
    chain = shared.chain
    with shared.admin.app.state.store.read() as db:
        run = statements(db, lambda: (queries.incident(db, Scope(), chain.east_incident),
                                      queries.incident_events(db, chain.east, chain.east_incident)))
        assert len(run) == 2
        for sql in run:
            text = plan(db, sql, [])
            assert "SCAN" not in text, text
