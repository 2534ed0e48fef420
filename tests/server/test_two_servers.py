"""Two `posaid serve` processes on one PostgreSQL and one bucket, with no folder and no memory in
common: a phone syncs to either, an office user moves between them mid-session, sign-in failures
count on both, and an alert fires once (issue 13, item 4)."""

import hashlib
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from tests import images
from tests.factories import event
from tests.fixtures import DEVICE, PASSWORD, ROOT, LiveServer, free_port

pytestmark = pytest.mark.slow


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def pair(tmp_path, content_dir, postgres, seaweed):
    settings = {"database": postgres.database(template=postgres.template), "blobs": seaweed.prefix(),
                **seaweed.settings(), "alert_poll_seconds": 0.2}
    servers = [LiveServer(tmp_path / name, content_dir, free_port(), **settings).start() for name in ("a", "b")]
    yield servers
    for server in servers:
        server.stop()


def posaid(server: LiveServer, *args: str, stdin: str | None = None) -> str:
    """A `posaid` command as an operator runs it beside one of the servers (POSAID_DATABASE set)."""
    return subprocess.run([sys.executable, "-m", "server", *args, "--data", str(server.data)], cwd=ROOT, input=stdin,
                          env={**os.environ, **server.env}, check=True, capture_output=True, text=True).stdout


def form_token(page: httpx.Response) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)


def test_a_phone_and_an_office_user_move_between_two_app_servers(pair):
    a, b = pair
    shop = posaid(a, "shops", "add", "门店 Two").strip()
    code = posaid(b, "codes", "issue", shop).split("code: ")[1].split()[0]  # made beside the other server
    enrolled = httpx.post(f"{a.url}/api/v1/enroll", json={"code": code, "device": DEVICE, "name": "till"})
    assert enrolled.status_code == 200, enrolled.text
    auth = {"Authorization": f"Bearer {enrolled.json()['token']}"}

    # A photo sent to one server, the incident naming it pushed to the other, then again to the first.
    photo = images.jpeg()
    digest = hashlib.sha256(photo).hexdigest()
    assert httpx.put(f"{b.url}/api/v1/blobs/{digest}", headers=auth, content=photo).status_code == 201
    assert httpx.head(f"{a.url}/api/v1/blobs/{digest}", headers=auth).status_code == 200
    now = datetime.now(UTC)
    incidents = [event("incident.opened", {"code": "T2", "terminal": "Till", "occurred_at": stamp(now - timedelta(minutes=m)),
                                           "note": ""}, at=stamp(now - timedelta(minutes=m)),
                       blobs=[digest] if m == 1 else []) for m in (1, 2, 3)]  # 3 × T2 within an hour
    first = httpx.post(f"{a.url}/api/v1/events", headers=auth, json={"events": incidents[:2]}).json()
    second = httpx.post(f"{b.url}/api/v1/events", headers=auth, json={"events": incidents}).json()
    assert [r["status"] for r in first["results"]] == ["stored", "stored"]
    assert [r["status"] for r in second["results"]] == ["duplicate", "duplicate", "stored"]
    pulled = httpx.get(f"{a.url}/api/v1/pull", headers=auth).json()
    assert set(pulled["held"]) == {e["id"] for e in incidents}

    # The office: signed in at one server, carried on at the other with the same cookie and token.
    posaid(a, "users", "add", "boss", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    cookies = httpx.Cookies()
    login = httpx.get(f"{a.url}/office/login", cookies=cookies)
    cookies.update(login.cookies)
    signed = httpx.post(f"{a.url}/office/login", cookies=cookies, follow_redirects=False,
                        data={"username": "boss", "password": PASSWORD, "next": "/office/", "_csrf_token": form_token(login)})
    assert signed.status_code == 303, signed.text
    cookies.update(signed.cookies)
    listed = httpx.get(f"{b.url}/office/incidents", cookies=cookies)
    assert listed.status_code == 200 and "boss" in listed.text and "门店 Two" in listed.text
    page = httpx.get(f"{a.url}/office/shops/{shop}", cookies=cookies)
    staffed = httpx.post(f"{b.url}/office/shops/{shop}/staff", cookies=cookies, follow_redirects=False,
                         data={"name": "王芳", "_csrf_token": form_token(page)})  # a form from A, sent to B
    assert staffed.status_code == 303, staffed.text
    assert "王芳" in httpx.get(f"{a.url}/api/v1/pull", headers=auth).json()["staff"]
    photo_page = httpx.get(f"{a.url}/office/photos/{digest}/thumb", cookies=cookies)
    assert photo_page.status_code == 200 and photo_page.headers["content-type"] == "image/jpeg"

    # Failed sign-ins at either server count together.
    for server in (a, b, a):
        page = httpx.get(f"{server.url}/office/login")
        httpx.post(f"{server.url}/office/login", cookies=page.cookies,
                   data={"username": "boss", "password": "wrong", "next": "/office/", "_csrf_token": form_token(page)})

    # The alert: both servers' workers judge the new records; one alert, raised once.
    with psycopg.connect(a.env["POSAID_DATABASE"], autocommit=True) as db:
        deadline = time.monotonic() + 20
        while db.execute("SELECT count(*) FROM alerts").fetchone()[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # both workers have had their turns since
        assert db.execute("SELECT kind, count FROM alerts").fetchall() == [("shop_code", 3)]
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] == 3
        assert db.execute("SELECT count FROM hits WHERE key = 'office-signin:account:boss'").fetchone()[0] == 3
    alerts = httpx.get(f"{b.url}/office/alerts", cookies=cookies).text
    assert alerts.count('<a href="/office/alerts/') == 1
