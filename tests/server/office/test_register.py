"""The shop register from the office's pages: what head office sets reaches the phones at pull."""

import re

from server import queries
from tests.fixtures import DEVICE, enroll, office_post


def pull(client, phone) -> dict:
    response = client.get("/api/v1/pull", headers=phone.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_admin_adds_a_shop_and_its_register_reaches_the_phone(client, admin):
    response = office_post(admin, "/office/shops", {"name": "南京西路店", "region": "华东 East",
                                                    "address": "南京西路 100 号", "acquirer_phone": "95516",
                                                    "vendor_phone": "400 800 1234"}, page="/office/shops")
    assert response.status_code == 303
    shop = int(response.headers["location"].rsplit("/", 1)[1])
    page = f"/office/shops/{shop}"
    assert office_post(admin, f"{page}/terminals", {"name": "收银台 1", "model": "X990", "serial": "SN-1",
                                                     "tid": "12345678", "mid": "898310012345678",
                                                     "acquirer": "银联商务", "software_version": "2.4.1"},
                       page=page).status_code == 303
    assert office_post(admin, f"{page}/staff", {"name": "王芳"}, page=page).status_code == 303
    phone = enroll(client, shop, DEVICE)
    answer = pull(client, phone)
    assert answer["shop"] == {"id": shop, "name": "南京西路店", "region": "华东 East", "address": "南京西路 100 号",
                              "acquirer_phone": "95516", "vendor_phone": "400 800 1234"}
    assert answer["terminals"][0] == {"id": 1, "name": "收银台 1", "model": "X990", "serial": "SN-1",
                                      "tid": "12345678", "mid": "898310012345678", "acquirer": "银联商务",
                                      "software_version": "2.4.1"}
    assert answer["staff"] == ["王芳"]
    html = admin.get(page).text
    assert 'value="12345678"' in html and "王芳" in html

    assert office_post(admin, f"{page}/terminals/1", {"name": "收银台 1", "software_version": "2.5.0"},
                       page=page).status_code == 303
    assert pull(client, phone)["terminals"][0]["software_version"] == "2.5.0"
    assert office_post(admin, f"{page}/terminals/1/remove", page=page).status_code == 303
    staff_id = re.search(rf'action="{page}/staff/(\d+)/remove"', admin.get(page).text).group(1)
    assert office_post(admin, f"{page}/staff/{staff_id}/remove", page=page).status_code == 303
    answer = pull(client, phone)
    assert answer["terminals"] == [] and answer["staff"] == []
    with client.app.state.store.read() as db:
        actions = [e.action for e in queries.audit_entries(db)]
    assert actions[:6] == ["staff.removed", "terminal.removed", "terminal.changed", "staff.added",
                           "terminal.added", "shop.added"]


def test_card_numbers_typed_into_the_register_are_masked(client, admin):
    office_post(admin, "/office/shops", {"name": "店 4111 1111 1111 1111"}, page="/office/shops")
    with client.app.state.store.read() as db:
        (name,) = db.execute("SELECT name FROM shops").fetchone()
    assert "4111 1111 1111 1111" not in name and "1111" in name


def test_a_bad_field_is_refused_naming_it(client, admin):
    response = office_post(admin, "/office/shops", {"name": "x", "acquirer_phone": "call me"}, page="/office/shops")
    assert response.status_code == 400
    assert "acquirer_phone" in response.text


def test_an_enrollment_code_is_shown_as_text_and_qr_with_the_public_url(client, settings, tmp_path):
    from litestar.testing import TestClient
    from msgspec.structs import replace

    from server.app import create_app
    from tests.fixtures import add_shop, add_user, sign_in

    public = replace(settings, public_url="https://hq.example.cn/")
    with TestClient(app=create_app(public), base_url="https://testserver.local") as office:
        shop = add_shop(office, "Shop A")
        add_user(office, "boss")
        sign_in(office, "boss")
        response = office_post(office, f"/office/shops/{shop}/codes", {"kind": "phone"}, page=f"/office/shops/{shop}")
        assert response.status_code == 200
        html = response.text
        code = re.search(r'<p class="code" lang="en">([A-Z0-9-]+)</p>', html).group(1)
        assert f'href="https://hq.example.cn/zh/enroll?code={code}&amp;shop=Shop%20A"' in html
        assert '<svg viewBox="0 0' in html and 'class="qr"' in html and "<path" in html
        assert "style=" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
        assert response.headers["cache-control"] == "no-store"
        enrolled = office.post("/api/v1/enroll", json={"code": code, "device": DEVICE, "name": "phone"})
        assert enrolled.status_code == 200 and enrolled.json()["shop"]["id"] == shop


def test_without_a_public_url_the_code_says_which_address_it_used(client, admin):
    shop = office_post(admin, "/office/shops", {"name": "Shop"}, page="/office/shops").headers["location"]
    html = office_post(admin, f"{shop}/codes", {"kind": "hub"}, page=shop).text
    assert "http://testserver.local/zh/enroll?code=" in html
    assert "--public-url" in html
