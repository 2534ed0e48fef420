"""Devices: what each has sent, and a revoke that stops its token at once."""

from server import writes
from server.store import now
from tests.fixtures import DEVICE, enroll, office_post


def test_the_device_list_says_when_each_enrolled_was_seen_and_synced_and_what_it_sent(admin, chain):
    html = admin.get("/office/devices").text
    assert "东店手机 east phone" in html and "west phone" in html
    assert ">6</td>" in html and ">2</td>" in html  # events held: the east phone's six, the west's two
    assert "从未" not in html  # a device that synced was seen then, though the API noted no call yet
    with admin.app.state.store.write() as db:
        writes.device_seen(db, DEVICE, "2099-05-02T01:00:00+00:00", "2099-05-02T00:55:00+00:00")
    assert "2099-05-02 09:00" in admin.get("/office/devices").text  # shown in Asia/Shanghai


def test_a_revoked_device_is_refused_at_once(client, admin, chain):
    phone = enroll(client, chain.east, "7c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "till 2 phone")
    phone_headers = phone.headers
    assert client.get("/api/v1/pull", headers=phone_headers).status_code == 200
    response = office_post(admin, f"/office/devices/{phone.device}/revoke", {"next": "/office/devices?shop=1"},
                           page="/office/devices")
    assert response.status_code == 303 and response.headers["location"] == "/office/devices?shop=1"
    assert client.get("/api/v1/pull", headers=phone_headers).status_code == 401
    assert "till 2 phone" in admin.get("/office/devices", params={"state": "revoked"}).text
    assert "till 2 phone" not in admin.get("/office/devices", params={"state": "active"}).text


def test_a_device_calling_the_api_is_seen_and_noted_at_most_every_few_minutes(client, chain):
    phone = enroll(client, chain.east, "7c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "till 3 phone")

    def seen() -> str | None:
        return client.app.state.store.db.execute(
            "SELECT last_seen_at FROM devices WHERE id = ?", [phone.device]).fetchone()[0]

    assert seen() is None
    client.get("/api/v1/pull", headers=phone.headers)
    first = seen()
    assert first is not None
    client.get("/api/v1/pull", headers=phone.headers)
    assert seen() == first  # within a few minutes: no second write
    with client.app.state.store.write() as db:
        assert writes.device_seen(db, phone.device, now(), "2999-01-01")  # long since: noted again
        assert not writes.device_seen(db, phone.device, now(), "2000-01-01")
