"""Corrective actions: a problem opens one; a later ok run, a maintenance entry of the item's kind,
or head office with a note closes it; late records are matched by when they happened."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

from server import queries
from server.queries import ActionFilter, Scope
from server.schema import m012_actions
from tests.factories import event
from tests.fixtures import office_post, push
from tests.server.office.conftest import run_event, stamp

DAY = date(2026, 5, 4)


def at(days: float) -> datetime:
    return datetime(2026, 5, 4, 2, tzinfo=UTC) + timedelta(days=days)


def actions_of(client, state=None):
    with client.app.state.store.read() as db:
        return queries.actions(db, Scope(), ActionFilter(state=state), limit=100)


def test_an_action_opens_on_a_problem_and_closes_on_the_next_ok(admin, client, chain):
    phone = chain.east_phone
    problem = run_event("daily", DAY, at(0), {"paper": "problem", "power-battery": "ok"}, note="纸快用完了")
    assert push(client, phone, problem) == ["stored"]
    [action] = [a for a in actions_of(client, "open") if a.run == problem["id"]]
    assert (action.item, action.note, action.run, action.state) == ("paper", "纸快用完了", problem["id"], "open")
    page = admin.get("/office/actions").text
    assert "打印纸已装好" in page and "纸快用完了" in page and "待整改" in page
    # A later run with the paper still a problem keeps it open (and opens another); an ok closes both.
    again = run_event("daily", DAY + timedelta(days=1), at(1), {"paper": "problem"})
    ok = run_event("daily", DAY + timedelta(days=2), at(2), {"paper": "ok"})
    assert push(client, phone, again) == ["stored"]
    assert {a.run for a in actions_of(client, "open")} == {chain.east_run, problem["id"], again["id"]}
    assert push(client, phone, ok) == ["stored"]
    closed = actions_of(client, "closed")
    assert {a.run for a in closed} == {chain.east_run, problem["id"], again["id"]}  # the chain's paper too
    assert all(a.closed_kind == "run" and a.closed_by == ok["id"] for a in closed)
    assert actions_of(client, "open") == []


def test_a_problem_synced_late_is_closed_by_the_ok_held_already(client, chain):
    phone = chain.east_phone
    ok_later = run_event("daily", DAY + timedelta(days=1), at(1), {"network-signin": "ok"})
    assert push(client, phone, ok_later) == ["stored"]
    late_problem = run_event("daily", DAY, at(0), {"network-signin": "problem"})
    assert push(client, phone, late_problem) == ["stored"]
    [action] = [a for a in actions_of(client) if a.run == late_problem["id"]]
    assert (action.state, action.closed_kind, action.closed_by) == ("closed", "run", ok_later["id"])


def test_maintenance_of_the_items_kind_closes_it(client, chain):
    phone = chain.east_phone
    problem = run_event("daily", DAY, at(0), {"power-battery": "problem"})  # its kind: hardware-repair
    other = event("maintenance.logged", {"terminal": "收银台 1 Till 1", "kind": "cleaning", "done_at": stamp(at(0.5)),
                                         "fields": {}, "note": ""}, at=stamp(at(0.5)))
    repair = event("maintenance.logged", {"terminal": "收银台 1 Till 1", "kind": "hardware-repair",
                                          "done_at": stamp(at(0.6)), "fields": {}, "note": "换了电池"},
                   at=stamp(at(0.6)))
    assert push(client, phone, problem, other) == ["stored", "stored"]
    assert [a.state for a in actions_of(client) if a.run == problem["id"]] == ["open"]
    assert push(client, phone, repair) == ["stored"]
    [action] = [a for a in actions_of(client) if a.run == problem["id"]]
    assert (action.state, action.closed_kind, action.closed_by) == ("closed", "maintenance", repair["id"])


def test_head_office_closes_one_by_hand_with_a_note_and_it_is_audited(admin, client, chain):
    [action] = [a for a in actions_of(client, "open") if a.run == chain.east_run]
    path = f"/office/actions/{chain.east}/{action.run}/{action.item}/close"
    refused = office_post(admin, path, {"note": ""}, page="/office/actions")
    assert refused.status_code == 400
    done = office_post(admin, path, {"note": "已补充打印纸"}, page="/office/actions")
    assert done.status_code == 303
    [closed] = [a for a in actions_of(client, "closed") if a.run == chain.east_run]
    assert (closed.closed_kind, closed.closed_by, closed.close_note) == ("office", "boss", "已补充打印纸")
    assert office_post(admin, path, {"note": "again"}, page="/office/actions").status_code == 409
    assert "关闭整改项" in admin.get("/office/audit").text


def test_a_viewer_may_not_close_and_a_regional_user_sees_only_their_shops(signed_in, chain):
    viewer = signed_in("wang", "viewer")
    page = viewer.get("/office/actions").text
    assert chain.east_run in page and 'action="/office/actions/' not in page
    west = signed_in("west-lead", "regional", ["华西 West"])
    assert chain.east_run not in west.get("/office/actions").text


def test_actions_export_as_csv_with_their_age(admin, chain):
    response = admin.get("/office/actions.csv?state=all")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["发现时间", "门店编号", "门店"] and "持续天数" in rows[0]
    assert [row[-1] for row in rows[1:]] == [chain.east_run]
    assert admin.get("/office/actions.xlsx").status_code == 200


def test_the_migration_fills_actions_from_the_log(client, chain):
    store = client.app.state.store
    with store.write() as db:
        db.execute("DELETE FROM actions")
        db.execute("DROP TABLE actions")
        db.execute("DROP TABLE item_maintenance")
        db.execute("DROP INDEX maintenance_kind")
        m012_actions(db)
    [action] = actions_of(client)
    assert (action.run, action.item, action.state) == (chain.east_run, "paper", "open")
