"""Moving a head office (issue 13, item 5): `posaid export-log` from SQLite and a folder,
`posaid import-log` into PostgreSQL and a bucket; the views rebuilt from the log hold what the
source's hold, the office shows the same lists, phones keep their tokens, people their passwords."""

import io
import re

import pytest
from litestar.testing import TestClient

from server import writes
from server.app import create_app
from server.settings import Settings
from server.store import now
from server.transfer import export_log, import_log
from sync.errors import BadRequest
from tests.factories import checklist, closed, opened, step
from tests.fixtures import OTHER_DEVICE, add_user, push, sign_in, table_rows
from tests.server.office.conftest import build_chain

pytestmark = pytest.mark.slow

DERIVED = {"incidents": "id", "incident_steps": "id", "checklist_runs": "id", "maintenance": "id",
           "actions": "run, item"}


def views_of(client: TestClient) -> dict[str, list]:
    with client.app.state.store.read() as db:
        return {table: table_rows(db, table, f"ORDER BY {order}") for table, order in DERIVED.items()}


def tables_on(client: TestClient, path: str) -> list[str]:
    html = client.get(path).text
    return [re.sub(r'name="_csrf_token" value="[^"]+"', "", t) for t in re.findall(r"<table.*?</table>", html, re.S)]


@pytest.fixture
def source(tmp_path, content_dir):
    settings = Settings(data=str(tmp_path / "source"), content=str(content_dir))
    with TestClient(app=create_app(settings)) as client:
        chain = build_chain(client)
        again = opened(code="T2", note="second outage")  # children in a later push than their incident
        later_run = checklist(results=("problem", "ok", "ok"))
        later_run["payload"]["period"] = "2026-05-02"
        assert push(client, chain.east_phone, again) == ["stored"]
        assert push(client, chain.east_phone, step(again["id"], "power", "not_fixed"),
                    closed(again["id"], "escalated", "power"), later_run) == ["stored"] * 3
        with client.app.state.store.write() as db:  # an action closed by hand in the office
            writes.close_action(db, chain.east, chain.east_run, "paper", "boss", "换了新纸", now())
        add_user(client, "boss")
        client.chain = chain
        yield client


def test_a_head_office_moves_to_postgresql_and_a_bucket_and_shows_the_same(source, tmp_path, content_dir, deployment):
    archive = io.BytesIO()
    counts = export_log(source.app.state.store, source.app.state.blob_store, archive, tmp_path)
    assert counts["events"] == 12 and counts["shops"] == 2 and counts["photos"] == 2 and counts["office_closes"] == 1
    target = Settings(data=str(tmp_path / "target"), content=str(content_dir), **deployment)
    with TestClient(app=create_app(target)) as moved:
        archive.seek(0)
        got = import_log(moved.app.state.store, moved.app.state.blob_store, archive)
        assert (got["events"], got["photos"], got["office_closes"]) == (12, 2, 1)
        assert views_of(moved) == views_of(source)
        assert moved.app.state.blob_store.read(source.chain.east_photo) == source.app.state.blob_store.read(
            source.chain.east_photo)
        # People sign in with their passwords; the office's lists read the same.
        for client in (source, moved):
            assert sign_in(client, "boss").status_code == 303
        for path in ("/office/incidents", "/office/actions?state=all", "/office/checklists", "/office/devices"):
            assert tables_on(moved, path) == tables_on(source, path), path
        # The phones keep their tokens: the next push goes on where the log left off.
        later = opened(code="05", device=OTHER_DEVICE)
        assert push(moved, source.chain.west_phone, later) == ["stored"]
        with moved.app.state.store.read() as db:
            assert db.execute("SELECT max(seq) FROM events").fetchone()[0] == 13
        # Importing twice is refused whole.
        archive.seek(0)
        with pytest.raises(BadRequest, match="already holds shops"):
            import_log(moved.app.state.store, moved.app.state.blob_store, archive)
