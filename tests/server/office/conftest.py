"""A small chain for the office's tests: two regions, a shop in each with an enrolled phone, and
records pushed through the API as the phones push them (incidents with photos, a checklist run,
a maintenance entry)."""

from dataclasses import dataclass

import pytest
from litestar.testing import TestClient

from server import writes
from server.settings import Settings
from tests.factories import checklist, closed, maintenance, opened, step
from tests.fixtures import (
    DEVICE,
    OTHER_DEVICE,
    Phone,
    add_shop,
    add_user,
    enroll,
    push,
    put_photo,
    sign_in,
)
from tests.images import jpeg


@dataclass
class Chain:
    east: int  # shop ids
    west: int
    east_incident: str
    west_incident: str
    east_photo: str
    west_photo: str
    east_run: str
    east_entry: str
    east_phone: Phone | None = None
    west_phone: Phone | None = None


def set_region(client: TestClient, shop: int, name: str, region: str) -> None:
    with client.app.state.store.write() as db:
        writes.update_shop(db, shop, name, region, "上海市人民路 1 号", "95516", "400-800-1234")


def build_chain(client: TestClient) -> Chain:
    east = add_shop(client, "华东一店 East 1")
    west = add_shop(client, "华西一店 West 1")
    set_region(client, east, "华东一店 East 1", "华东 East")
    set_region(client, west, "华西一店 West 1", "华西 West")
    east_phone = enroll(client, east, DEVICE, "东店手机 east phone")
    west_phone = enroll(client, west, OTHER_DEVICE, "west phone")
    east_photo = put_photo(client, east_phone, jpeg(color=(200, 30, 30)))
    west_photo = put_photo(client, west_phone, jpeg(color=(30, 30, 200)))
    incident = opened(code="T2", note="网络中断，顾客改用现金", blobs=[east_photo])
    run = checklist(photo=east_photo, note="打印纸快用完")
    entry = maintenance(note="升级到 2.4.1")
    assert push(client, east_phone, incident, step(incident["id"], "power", "not_fixed"),
                step(incident["id"], "network", "fixed", at="2026-05-01T10:03:00Z"),
                closed(incident["id"], "resolved", "network"), run, entry) == ["stored"] * 6
    other = opened(code="51", note="=HYPERLINK(\"http://evil\")", blobs=[west_photo], device=OTHER_DEVICE)
    assert push(client, west_phone, other, closed(other["id"], "escalated", "power", device=OTHER_DEVICE)) == [
        "stored"] * 2
    return Chain(east=east, west=west, east_incident=incident["id"], west_incident=other["id"],
                 east_photo=east_photo, west_photo=west_photo, east_run=run["id"], east_entry=entry["id"],
                 east_phone=east_phone, west_phone=west_phone)


@pytest.fixture
def chain(client) -> Chain:
    return build_chain(client)


@dataclass
class Shared:
    """One app for a module's read-only tests: the chain, and a client per role."""

    chain: Chain
    admin: TestClient
    east: TestClient  # a regional user of 华东 East
    viewer: TestClient


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Shared:
    from server.app import create_app
    from server.settings import Settings

    settings = Settings(data=str(tmp_path_factory.mktemp("office") / "data"))
    with TestClient(app=create_app(settings)) as client:
        chain = build_chain(client)
        clients = {}
        for name, role, regions in [("boss", "admin", ()), ("east-lead", "regional", ["华东 East"]),
                                    ("wang", "viewer", ())]:
            add_user(client, name, role, regions)
            clients[role] = client if role == "admin" else TestClient(app=client.app)
            assert sign_in(clients[role], name).status_code == 303
        yield Shared(chain=chain, admin=clients["admin"], east=clients["regional"], viewer=clients["viewer"])


@pytest.fixture
def admin(client) -> TestClient:
    """The app's client, signed in as an admin."""
    add_user(client, "boss", "admin")
    assert sign_in(client, "boss").status_code == 303
    return client


@pytest.fixture
def signed_in(client):
    """Another browser on the same app, signed in as a new user of a role (and regions). (Not entered
    as a context: leaving one would run the app's shutdown under the first client.)"""

    def make(name: str, role: str, regions=()) -> TestClient:
        add_user(client, name, role, regions)
        other = TestClient(app=client.app)
        assert sign_in(other, name).status_code == 303
        return other

    return make


# ---- insight: records at chosen times, the office's clock, the alert worker ----

from datetime import UTC, date, datetime, timedelta  # noqa: E402

from server.office.plugin import Office  # noqa: E402
from tests.factories import event  # noqa: E402


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_event(checklist_id: str, period: date, done: datetime, results: dict[str, str], note: str = "",
              device=DEVICE) -> dict:
    """A checklist run as a phone records it: its period (first day), when it was done, each item's result."""
    items = [{"item": item, "result": result, "note": note if result == "problem" else ""}
             for item, result in results.items()]
    return event("checklist.completed", {"checklist": checklist_id, "period": period.isoformat(), "items": items,
                                         "signed_by": "店长 Wang"}, at=stamp(done), device=device)


def incident_at(moment: datetime, code: str = "T2", terminal: str = "收银台 1 Till 1", device=DEVICE,
                transaction: dict | None = None) -> dict:
    payload = {"code": code, "terminal": terminal, "occurred_at": stamp(moment), "note": ""}
    extra = {}
    if transaction is not None:
        payload["transaction"] = transaction
        extra["v"] = 2
    return event("incident.opened", payload, at=stamp(moment), device=device, **extra)


def office_of(client: TestClient) -> Office:
    return client.app.plugins.get(Office)


def enrolled_since(client: TestClient, shop: int, days: int) -> None:
    """Say the shop's devices enrolled `days` ago (the API enrolls them now)."""
    when = (datetime.now(UTC) - timedelta(days=days)).isoformat()
    with client.app.state.store.write() as db:
        db.execute("UPDATE devices SET enrolled_at = ? WHERE shop_id = ?", [when, shop])


def local_today(client: TestClient) -> date:
    return office_of(client).render.clock.local(datetime.now(UTC).isoformat()).date()


def local_noon(client: TestClient, day: date) -> datetime:
    """Noon of a local day in head office's zone."""
    return datetime.combine(day, datetime.min.time().replace(hour=12), office_of(client).render.clock.zone)


@pytest.fixture
def settings(tmp_path, content_dir, database_where) -> Settings:
    """Head office on SQLite and on PostgreSQL: each test that builds its own app runs on both."""
    return Settings(data=str(tmp_path / "data"), content=str(content_dir), **database_where)
