"""Roles: a regional user reaches only their regions' shops by any URL; a viewer changes nothing."""

import pytest

from tests.fixtures import csrf_token


@pytest.fixture
def east(signed_in, chain):
    return signed_in("east-lead", "regional", ["华东 East"])


def test_a_regional_user_sees_only_their_regions_incidents(east, chain):
    html = east.get("/office/incidents").text
    assert chain.east_incident in html and chain.west_incident not in html
    assert "华西一店 West 1" not in html and "华西 West" not in html  # not even as a filter's choice
    home = east.get("/office/").text
    assert "华西一店 West 1" not in home


@pytest.mark.parametrize("url", [
    "/office/incidents/{west_incident}",
    "/office/incidents/{west_incident}?shop={west}",
    "/office/incidents?shop={west}",
    "/office/incidents?region=华西 West",
    "/office/incidents.csv?shop={west}",
    "/office/incidents.xlsx?region=华西 West",
    "/office/incidents.zip?shop={west}",
    "/office/incidents/export?shop={west}",
    "/office/photos/{west_photo}/thumb",
    "/office/photos/{west_photo}/large",
    "/office/shops/{west}",
    "/office/devices?shop={west}",
    "/office/checklists?shop={west}",
    "/office/maintenance?region=华西 West",
    "/office/checklists.csv?shop={west}",
])
def test_no_url_reaches_another_regions_shop(shared, url):
    response = shared.east.get(url.format(**vars(shared.chain)))
    assert response.status_code in (403, 404)
    assert "华西一店 West 1" not in response.text and "HYPERLINK" not in response.text


def test_a_regional_users_exports_and_lists_hold_only_their_shops(east, chain):
    csv = east.get("/office/incidents.csv").content.decode("utf-8-sig")
    assert chain.east_incident in csv and chain.west_incident not in csv
    devices = east.get("/office/devices").text
    assert "东店手机 east phone" in devices and "west phone" not in devices
    shops = east.get("/office/shops").text
    assert "华东一店 East 1" in shops and "华西一店 West 1" not in shops
    assert east.get(f"/office/photos/{chain.east_photo}/thumb").status_code == 200


def test_a_regional_user_cannot_change_another_regions_shop_or_move_theirs_out(east, chain, client):
    token = csrf_token(east, "/office/shops")
    west_device = "5d1f0c3e-2b4a-4c6d-8e9f-0a1b2c3d4e5f"
    for path, data in [
        (f"/office/shops/{chain.west}", {"name": "taken", "region": "华东 East"}),
        (f"/office/shops/{chain.west}/terminals", {"name": "T"}),
        (f"/office/shops/{chain.west}/staff", {"name": "S"}),
        (f"/office/shops/{chain.west}/codes", {"kind": "phone"}),
        (f"/office/devices/{west_device}/revoke", {}),
        ("/office/shops", {"name": "new shop"}),  # adding shops is an admin's
        (f"/office/shops/{chain.east}", {"name": "mine", "region": "华西 West"}),  # out of their regions
    ]:
        response = east.post(path, data={**data, "_csrf_token": token}, follow_redirects=False)
        assert response.status_code in (403, 404), path
    with client.app.state.store.read() as db:
        names = [name for (name,) in db.execute("SELECT name FROM shops ORDER BY id")]
        revoked = db.execute("SELECT revoked_at FROM devices WHERE id = ?", [west_device]).fetchone()[0]
    assert names == ["华东一店 East 1", "华西一店 West 1"] and revoked is None
    response = east.post(f"/office/shops/{chain.east}/staff", data={"name": "新店员", "_csrf_token": token},
                         follow_redirects=False)
    assert response.status_code == 303  # their own shop, they may


def test_regional_users_do_not_see_people_or_the_audit_log(east):
    assert east.get("/office/people").status_code == 403
    assert east.get("/office/audit").status_code == 403
    assert 'href="/office/audit"' not in east.get("/office/").text


def test_a_viewer_sees_every_shop_but_changes_nothing(signed_in, chain, client):
    viewer = signed_in("wang", "viewer")
    html = viewer.get("/office/incidents").text
    assert chain.east_incident in html and chain.west_incident in html
    token = csrf_token(viewer, "/office/shops")
    for path, data in [
        (f"/office/shops/{chain.east}", {"name": "x"}),
        ("/office/shops", {"name": "new"}),
        (f"/office/shops/{chain.east}/terminals", {"name": "T"}),
        (f"/office/shops/{chain.east}/terminals/1", {"name": "T"}),
        (f"/office/shops/{chain.east}/terminals/1/remove", {}),
        (f"/office/shops/{chain.east}/staff", {"name": "S"}),
        (f"/office/shops/{chain.east}/staff/1/remove", {}),
        (f"/office/shops/{chain.east}/codes", {"kind": "phone"}),
        ("/office/devices/0b7c5a52-8d3e-4d2a-9f1e-3c1a2b4d5e6f/revoke", {}),
        ("/office/people", {"name": "x", "role": "admin", "password": "x" * 12}),
        ("/office/people/1/disable", {}),
    ]:
        response = viewer.post(path, data={**data, "_csrf_token": token}, follow_redirects=False)
        assert response.status_code == 403, path
    with client.app.state.store.read() as db:
        assert db.execute("SELECT count(*) FROM terminals").fetchone()[0] == 4
        assert db.execute("SELECT count(*) FROM enroll_codes WHERE used_by IS NULL").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 1
    shop_page = viewer.get(f"/office/shops/{chain.east}").text
    assert "<form" not in shop_page.split("<main", 1)[1]  # read only: no forms at all
