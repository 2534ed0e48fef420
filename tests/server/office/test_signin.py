"""Signing in and out: sessions, CSRF, wrong passwords and their limit, the audit log, languages."""

import re

import pytest
from argon2 import PasswordHasher
from litestar.testing import TestClient

from server import queries
from server.office import accounts
from server.office.signin import PER_ACCOUNT, PER_ADDRESS
from server.store import now
from tests.fixtures import PASSWORD, add_user, csrf_token, office_post, sign_in


def audit(client, action: str) -> list[queries.AuditEntry]:
    with client.app.state.store.read() as db:
        return queries.audit_entries(db, action=action)


def test_sign_in_then_out(client):
    add_user(client, "boss", "admin")
    response = sign_in(client, "boss", next="/office/shops")
    assert response.status_code == 303
    assert response.headers["location"] == "/office/shops"
    cookie = response.headers["set-cookie"]
    assert "posaid_office=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/office" in cookie and "Secure" not in cookie  # plain HTTP here: see the TLS test
    assert client.get("/office/shops").status_code == 200
    assert office_post(client, "/office/logout").headers["location"] == "/office/login"
    assert client.get("/office/shops", follow_redirects=False).status_code == 303
    assert [e.actor for e in audit(client, "signin")] == ["boss"]
    assert [e.actor for e in audit(client, "signout")] == ["boss"]


@pytest.mark.parametrize("path", ["/office/", "/office/incidents?code=T2&outcome=open", "/office/shops/1",
                                  "/office/audit", "/office/incidents.csv", "/office/photos/" + "a" * 64 + "/thumb"])
def test_a_page_without_a_session_goes_to_sign_in_and_back(client, path):
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/office/login?next=")
    add_user(client, "boss", "admin")
    from urllib.parse import parse_qs, urlparse

    target = parse_qs(urlparse(location).query)["next"][0]
    assert target.rstrip("/") == path.rstrip("/")
    assert sign_in(client, "boss", next=target).headers["location"] == target


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/office", "/zh", "/office\\@evil"])
def test_sign_in_never_sends_the_browser_off_the_office(client, target):
    add_user(client, "boss", "admin")
    assert sign_in(client, "boss", next=target).headers["location"] == "/office/"


def test_a_wrong_password_is_refused_clearly_and_logged(client):
    add_user(client, "boss", "admin")
    response = sign_in(client, "boss", "not the password")
    assert response.status_code == 400
    assert "用户名或密码不对。" in response.text
    assert 'value="boss"' in response.text  # the name stays typed
    assert "posaid_office=" not in response.headers.get("set-cookie", "")
    assert client.get("/office/", follow_redirects=False).status_code == 303
    assert sign_in(client, "nobody", "whatever").status_code == 400
    assert [(e.target, e.address) for e in audit(client, "signin.failed")] == [("nobody", "testclient"),
                                                                              ("boss", "testclient")]


def test_failed_sign_ins_are_limited_per_account(client):
    add_user(client, "boss", "admin")
    for _ in range(PER_ACCOUNT):
        assert sign_in(client, "boss", "guess").status_code == 400
    response = sign_in(client, "BOSS", PASSWORD)  # the right password, but too late; names ignore case
    assert response.status_code == 429
    assert re.search(r"尝试次数太多，请 \d+ 分钟后再试。", response.text)
    assert client.get("/office/", follow_redirects=False).status_code == 303
    assert audit(client, "signin.limited")[0].target == "BOSS"


def test_failed_sign_ins_are_limited_per_address(client):
    for n in range(PER_ADDRESS):
        assert sign_in(client, f"name{n}", "guess").status_code == 400
    add_user(client, "boss", "admin")
    assert sign_in(client, "boss").status_code == 429


def test_a_form_without_its_csrf_token_is_refused(client):
    add_user(client, "boss", "admin")
    csrf_token(client)
    response = client.post("/office/login", data={"username": "boss", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    assert "表单已过期" in response.text
    assert sign_in(client, "boss").status_code == 303
    for path, data in [("/office/logout", {}), ("/office/shops", {"name": "Sneaky shop"}),
                       ("/office/lang", {"lang": "en"})]:
        assert client.post(path, data=data, follow_redirects=False).status_code == 403
        assert client.post(path, data={**data, "_csrf_token": "0" * 128}, follow_redirects=False).status_code == 403
    with client.app.state.store.read() as db:
        assert queries.shop_named(db, "Sneaky shop") is None


def test_the_session_id_is_new_at_sign_in_and_an_unknown_one_is_never_adopted(client):
    add_user(client, "boss", "admin")
    client.cookies.set("posaid_office", "planted-by-someone-else", path="/office")
    response = sign_in(client, "boss")
    issued = response.cookies.get("posaid_office")
    assert issued and issued != "planted-by-someone-else"
    again = sign_in(client, "boss")
    assert again.cookies.get("posaid_office") not in (None, issued)
    stolen = TestClient(app=client.app)
    stolen.cookies.set("posaid_office", issued, path="/office")
    assert stolen.get("/office/", follow_redirects=False).status_code == 303  # the old id ended


def test_disabling_a_user_ends_their_session_at_once(client):
    add_user(client, "boss", "admin")
    add_user(client, "wang", "viewer")
    viewer = TestClient(app=client.app)
    assert sign_in(viewer, "wang").status_code == 303
    assert viewer.get("/office/").status_code == 200
    assert sign_in(client, "boss").status_code == 303
    with client.app.state.store.read() as db:
        wang = queries.account(db, "wang")
    assert office_post(client, f"/office/people/{wang.id}/disable", page="/office/people").status_code == 303
    assert viewer.get("/office/", follow_redirects=False).status_code == 303
    assert sign_in(viewer, "wang").status_code == 400
    assert audit(client, "user.disabled")[0].target == "wang"


def test_a_hash_made_with_older_parameters_is_replaced_at_sign_in(client):
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    with client.app.state.store.write() as db:
        accounts.add_user(db, accounts.new_user("old", "viewer", PASSWORD), "test", now(), hasher=weak)
        before = queries.account(db, "old").password_hash
    assert accounts.needs_rehash(before)
    assert sign_in(client, "old").status_code == 303
    with client.app.state.store.read() as db:
        after = queries.account(db, "old").password_hash
    assert after != before and not accounts.needs_rehash(after) and after.startswith("$argon2id$")


def test_the_language_switch_is_remembered_for_the_user(client):
    add_user(client, "boss", "admin")
    assert 'lang="zh-CN"' in client.get("/office/login").text
    assert '<html lang="en">' in client.get("/office/login?lang=en").text
    sign_in(client, "boss")
    assert "今天需要关注" in client.get("/office/").text
    response = office_post(client, "/office/lang", {"lang": "en", "next": "/office/shops"})
    assert response.headers["location"] == "/office/shops"
    assert "What needs attention today" in client.get("/office/").text
    office_post(client, "/office/logout")
    sign_in(client, "boss")
    assert "What needs attention today" in client.get("/office/").text  # remembered, not per browser


def test_cookies_are_secure_behind_tls(settings, tmp_path):
    from msgspec.structs import replace

    from server.app import create_app

    secure = replace(settings, public_url="https://hq.example.cn/")
    with TestClient(app=create_app(secure), base_url="https://testserver.local") as client:
        add_user(client, "boss", "admin")
        assert "Secure" in client.get("/office/login").headers["set-cookie"]
        response = sign_in(client, "boss")
        assert "Secure" in response.headers["set-cookie"]


def test_sessions_are_shared_by_every_app_on_the_data_folder(client, settings):
    from server.app import create_app

    add_user(client, "boss", "admin")
    cookie = sign_in(client, "boss").cookies["posaid_office"]
    with TestClient(app=create_app(settings)) as other_server:
        other_server.cookies.set("posaid_office", cookie, path="/office")
        assert other_server.get("/office/").status_code == 200
