"""Enrollment and tokens: a one-time code gives a shop-scoped token; the server keeps only hashes."""

from datetime import date

import pytest

from server.auth import revoke_device
from server.store import now
from tests import factories as f
from tests.fixtures import DEVICE, OTHER_DEVICE, add_shop, count, enroll, new_code


def test_a_code_enrolls_a_device_for_its_shop(client):
    shop = add_shop(client, "门店 A")
    code = new_code(client, shop)
    response = client.post("/api/v1/enroll", json={"code": code, "device": DEVICE, "name": "till 1 phone"})
    assert response.status_code == 200
    body = response.json()
    assert body["shop"] == {"id": shop, "name": "门店 A"}
    assert body["device"] == DEVICE
    token = body["token"]
    assert len(token) >= 43
    db = client.app.state.store.db
    assert db.execute("SELECT name, shop_id FROM devices").fetchall() == [("till 1 phone", shop)]
    stored = " ".join(str(v) for row in db.execute("SELECT * FROM tokens").fetchall() for v in row)
    stored += " ".join(str(v) for row in db.execute("SELECT * FROM enroll_codes").fetchall() for v in row)
    assert token not in stored and code not in stored and code.replace("-", "") not in stored


def test_a_code_is_typed_without_care_for_case_or_dashes(client):
    shop = add_shop(client)
    code = new_code(client, shop).replace("-", "").lower()
    assert client.post("/api/v1/enroll", json={"code": code, "device": DEVICE, "name": "p"}).status_code == 200


def test_a_code_works_once(client):
    shop = add_shop(client)
    code = new_code(client, shop)
    first = client.post("/api/v1/enroll", json={"code": code, "device": DEVICE, "name": "p"})
    # the same device again (its first answer lost on the way): a new token, the old one revoked
    again = client.post("/api/v1/enroll", json={"code": code, "device": DEVICE, "name": "p"})
    assert again.status_code == 200
    old = {"Authorization": f"Bearer {first.json()['token']}"}
    assert client.get("/api/v1/pull", headers=old).json()["detail"] == "unknown or revoked token"
    other = client.post("/api/v1/enroll", json={"code": code, "device": OTHER_DEVICE, "name": "p"})
    assert other.status_code == 403
    assert other.json()["detail"] == "code: this enrollment code has been used already; ask for a new one"
    assert count(client, "devices") == 1


def test_an_expired_code_is_refused(client):
    shop = add_shop(client)
    code = new_code(client, shop)
    with client.app.state.store.write() as db:
        db.execute("UPDATE enroll_codes SET expires_at = '2020-01-01T00:00:00+00:00'")
    response = client.post("/api/v1/enroll", json={"code": code, "device": DEVICE, "name": "p"})
    assert response.status_code == 403
    assert response.json()["detail"].startswith("code: this enrollment code expired at 2020-01-01")
    assert count(client, "devices") == count(client, "tokens") == 0


@pytest.mark.parametrize(("body", "status", "detail"), [
    ({"code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ", "device": DEVICE, "name": "p"}, 403,
     "code: unknown enrollment code; check it, or ask for a new one"),
    ({"code": "abc", "device": DEVICE, "name": "p"}, 400, "body: Expected `str` matching regex"),
    ({"code": "ABCD-EFGH", "device": "phone-1", "name": "p"}, 400, "body: Expected `str` matching regex"),
    ({"code": "ABCD-EFGH", "device": DEVICE}, 400, "body: Object missing required field `name`"),
    ({"code": "ABCD-EFGH", "device": DEVICE, "name": ""}, 400, "body: Expected `str` of length >= 1 - at `$.name`"),
    (b"{not json", 400, "body is not valid JSON"),
])
def test_a_bad_enrollment_names_the_problem(client, body, status, detail):
    add_shop(client)
    kwargs = {"content": body} if isinstance(body, bytes) else {"json": body}
    response = client.post("/api/v1/enroll", **kwargs)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"].startswith(detail)
    assert count(client, "devices") == 0


def test_nobody_can_enroll_another_device_by_naming_its_id(client):
    victim = enroll(client, add_shop(client, "A"))
    code = new_code(client, add_shop(client, "B"))
    stolen = client.post("/api/v1/enroll", json={"code": code, "device": victim.device, "name": "mine now"})
    assert stolen.status_code == 409
    assert stolen.json()["detail"].startswith("device: this device id is enrolled already")
    assert client.get("/api/v1/pull", headers=victim.headers).json()["shop"]["name"] == "A"


def test_a_device_moves_to_another_shop_by_showing_its_token(client):
    old = enroll(client, add_shop(client, "A"))
    code = new_code(client, add_shop(client, "B"))
    moved = client.post("/api/v1/enroll", headers=old.headers, json={"code": code, "device": old.device, "name": "p"})
    assert moved.status_code == 200
    assert client.get("/api/v1/pull", headers=old.headers).status_code == 401
    new = {"Authorization": f"Bearer {moved.json()['token']}"}
    assert client.get("/api/v1/pull", headers=new).json()["shop"]["name"] == "B"


def test_a_revoked_device_may_enroll_again(client):
    phone = enroll(client, add_shop(client))
    with client.app.state.store.write() as db:
        revoke_device(db, phone.device, now())
    assert enroll(client, phone.shop).device == phone.device


def test_guessing_codes_is_limited_per_address(client):
    add_shop(client)
    codes = [f"{a}{b}XX-AAAA-AAAA-AAAA" for a in "ABCDEFG" for b in "HJK"]  # 21 codes, each its own prefix
    answers = [client.post("/api/v1/enroll", json={"code": code, "device": DEVICE, "name": "p"}) for code in codes]
    assert [a.status_code for a in answers[:20]] == [403] * 20
    assert answers[20].status_code == 429
    assert 1 <= int(answers[20].headers["retry-after"]) <= 60
    assert answers[20].json()["detail"].startswith("enrollment from this address: too many attempts; try again in")


def test_guessing_at_one_code_is_limited(client):
    add_shop(client)
    answers = [client.post("/api/v1/enroll", json={"code": f"ABCD-EFGH-JKLM-{n:04d}", "device": DEVICE, "name": "p"})
               for n in range(11)]
    assert [a.status_code for a in answers] == [403] * 10 + [429]
    assert answers[10].json()["detail"].startswith("enrollment with this code: too many attempts")


def test_a_device_name_holding_a_card_number_is_masked(client):
    phone = enroll(client, add_shop(client), name="Li 4111 1111 1111 1111")
    assert client.app.state.store.db.execute("SELECT name FROM devices WHERE id = ?", [phone.device]).fetchone() == (
        "Li 4111 11** **** 1111",)


@pytest.mark.parametrize(("headers", "detail"), [
    ({}, "missing bearer token"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing bearer token"),
    ({"Authorization": "Bearer "}, "missing bearer token"),
    ({"Authorization": "Bearer not-a-token"}, "unknown or revoked token"),
])
def test_a_missing_or_wrong_token_is_refused(client, headers, detail):
    response = client.get("/api/v1/pull", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"] == detail
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_revoked_device_is_refused(client):
    phone = enroll(client, add_shop(client))
    assert client.get("/api/v1/pull", headers=phone.headers).status_code == 200
    with client.app.state.store.write() as db:
        assert revoke_device(db, phone.device, now()) == 1
    response = client.post("/api/v1/events", headers=phone.headers, json={"events": [f.opened()]})
    assert (response.status_code, response.json()["detail"]) == (401, "unknown or revoked token")
    assert count(client, "events") == 0


def test_pull_tells_the_device_its_shop_and_what_is_held(client):
    shop, other_shop = add_shop(client, "A", terminals=("Till 1",), staff=("Wang",)), add_shop(client, "B")
    phone = enroll(client, shop)
    stranger = enroll(client, other_shop, device=OTHER_DEVICE)
    mine = [f.opened(), f.opened()]
    client.post("/api/v1/events", headers=phone.headers, json={"events": mine})
    client.post("/api/v1/events", headers=stranger.headers, json={"events": [f.opened(device=OTHER_DEVICE)]})
    body = client.get("/api/v1/pull", headers=phone.headers).json()
    assert body["shop"] == {"id": shop, "name": "A"}
    assert body["device"] == DEVICE
    assert [(t["name"], t["model"]) for t in body["terminals"]] == [("Till 1", "X990")]
    assert body["staff"] == ["Wang"]
    assert {c["id"]: c["frequency"] for c in body["checklists"]} == {
        "daily": "daily", "weekly": "weekly", "monthly": "monthly", "quarterly": "quarterly"}
    assert body["content_version"] == client.app.state.library.version
    assert body["held"] == [mine[1]["id"], mine[0]["id"]]  # newest first, this device's only


def test_the_event_schema_is_public_and_the_api_is_in_the_openapi_schema(client):
    schema = client.get("/api/v1/schema/events.json").json()
    assert "incident.opened" in str(schema)
    openapi = client.get("/schema").json()
    paths = openapi["paths"]
    assert {"/api/v1/enroll", "/api/v1/events", "/api/v1/pull", "/api/v1/blobs/{sha}"} <= set(paths)
    push_body = paths["/api/v1/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert push_body["properties"]["events"]["maxItems"] == 500
    enroll_ref = paths["/api/v1/enroll"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    enroll_body = openapi["components"]["schemas"][enroll_ref.rpartition("/")[2]]
    assert enroll_body["required"] == ["code", "device", "name"]
    assert paths["/api/v1/events"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in paths["/api/v1/enroll"]["post"]
    for name in ("EnrollResponse", "PushResponse", "PullResponse", "BlobStatus"):
        assert name in openapi["components"]["schemas"]


def test_pull_brings_the_register_and_the_shops_runs_of_this_quarter(client):
    shop = add_shop(client, "门店 A")
    with client.app.state.store.write() as db:
        db.execute("UPDATE shops SET region = '华东', acquirer_phone = '95516', vendor_phone = '400-800-1234' "
                   "WHERE id = ?", [shop])
        db.execute("UPDATE terminals SET serial = 'SN1', tid = '12345678', mid = '104110045110012', "
                   "acquirer = '银联商务', software_version = '2.4.1' WHERE shop_id = ? AND name = 'Till 1'", [shop])
    phone, colleague = enroll(client, shop), enroll(client, shop, device=OTHER_DEVICE)
    stranger = enroll(client, add_shop(client, "B"), device="7e3c1a2b-4d5e-4f6a-8b9c-0d1e2f3a4b5c")
    today = date.today().isoformat()
    run = {**f.checklist(device=OTHER_DEVICE), "payload": {**f.checklist()["payload"], "period": today}}
    old = {**f.checklist(device=OTHER_DEVICE), "payload": {**f.checklist()["payload"], "period": "2020-01-01"}}
    client.post("/api/v1/events", headers=colleague.headers, json={"events": [run, old]})
    elsewhere = {**f.checklist(device=stranger.device), "payload": {**f.checklist()["payload"], "period": today}}
    client.post("/api/v1/events", headers=stranger.headers, json={"events": [elsewhere]})
    body = client.get("/api/v1/pull", headers=phone.headers).json()
    assert body["shop"] == {"id": shop, "name": "门店 A", "region": "华东", "acquirer_phone": "95516",
                            "vendor_phone": "400-800-1234"}
    assert body["terminals"][0] == {"id": body["terminals"][0]["id"], "name": "Till 1", "model": "X990",
                                    "serial": "SN1", "tid": "12345678", "mid": "104110045110012",
                                    "acquirer": "银联商务", "software_version": "2.4.1"}
    assert [(r["id"], r["period"], r["device"], r["signed_by"]) for r in body["runs"]] == [
        (run["id"], today, OTHER_DEVICE, "店长 Wang")]
