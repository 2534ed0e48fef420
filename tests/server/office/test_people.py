"""People: `posaid users` and the people page, the demo admin, the audit log page."""

import re

from click.testing import CliRunner
from litestar.testing import TestClient

from server.app import create_app
from server.cli import main
from server.demo import ensure_demo
from server.settings import Settings
from tests.fixtures import PASSWORD, office_post, one_line_error, posaid, sign_in


def users(*args: str, data: str, password: str | None = None):
    runner = CliRunner()
    return runner.invoke(main, ["users", *args, "--data", data], input=password)


def test_users_add_list_disable_on_the_command_line(tmp_path, content_dir):
    data = str(tmp_path / "data")
    added = users("add", "王经理", "--role", "regional", "--region", "华东 East", "--region", "华北 North",
                  "--password-stdin", data=data, password=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert added.stdout == "added regional 王经理 (华东 East, 华北 North)\n"
    prompted = users("add", "boss", "--role", "admin", data=data, password=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    assert "added admin boss" in prompted.stdout and PASSWORD not in prompted.stdout
    listed = users("list", data=data).stdout.splitlines()
    assert listed == ["boss\tadmin\t\tenabled", "王经理\tregional\t华东 East,华北 North\tenabled"]
    with TestClient(app=create_app(Settings(data=data, content=str(content_dir)))) as client:
        assert sign_in(client, "王经理").status_code == 303
        assert users("disable", "王经理", data=data).stdout == "disabled 王经理\n"
        assert client.get("/office/", follow_redirects=False).status_code == 303
        assert sign_in(client, "boss").status_code == 303
        audit = client.get("/office/audit").text
        assert "停用用户" in audit and "cli:" in audit and "新增用户" in audit
    assert re.search(r"^王经理\tregional\t.*\tdisabled 20", users("list", data=data).stdout, re.M)


def test_user_mistakes_get_one_clear_line(tmp_path):
    data = str(tmp_path / "data")
    cases = [
        (["add", "x", "--role", "admin", "--password-stdin"], "short\n", "Error: password: at least 10 characters"),
        (["add", "x", "--role", "regional", "--password-stdin"], PASSWORD + "\n",
         "Error: region: a regional user needs at least one region"),
        (["add", "x", "--role", "viewer", "--region", "R", "--password-stdin"], PASSWORD + "\n",
         "Error: region: only a regional user has regions; admins and viewers see every shop"),
        (["disable", "nobody"], None, "Error: NAME nobody: no such user (see `posaid users list`)"),
    ]
    for args, password, message in cases:
        result = CliRunner().invoke(main, ["users", *args, "--data", data], input=password)
        assert one_line_error(result) == message
    assert users("add", "Boss", "--role", "admin", "--password-stdin", data=data, password=PASSWORD).exit_code == 0
    again = CliRunner().invoke(main, ["users", "add", "BOSS", "--role", "viewer", "--password-stdin", "--data", data],
                               input=PASSWORD)
    assert one_line_error(again) == "Error: name: a user called 'BOSS' exists already"


def test_the_register_commands_do_what_the_pages_do(tmp_path):
    data = str(tmp_path / "data")
    out = posaid("shops", "add", "门店 A", "--region", "华东 East", "--acquirer-phone", "95516", "--data", data)
    assert out.stdout == "1\n"
    assert posaid("terminals", "add", "1", "收银台 1", "--tid", "12345678", "--model", "X990",
                  "--data", data).stdout == "1\t门店 A\t收银台 1\n"
    assert posaid("terminals", "list", "1", "--data", data).stdout == "1\t收银台 1\tX990\t\t12345678\t\t\t\n"
    assert posaid("staff", "add", "1", "王芳", "--data", data).stdout == "added 王芳 to shop 1\n"
    issued = posaid("codes", "issue", "1", "--data", data, POSAID_PUBLIC_URL="https://hq.example.cn/").stdout
    assert "url: https://hq.example.cn/zh/enroll?code=" in issued
    assert one_line_error(posaid("terminals", "add", "9", "T", "--data", data)) == (
        "Error: SHOP 9: no such shop (see `posaid shops list`)")
    import sqlite3

    with sqlite3.connect(tmp_path / "data" / "posaid.db") as db:
        assert db.execute("SELECT region, acquirer_phone FROM shops").fetchone() == ("华东 East", "95516")
        actions = [a for (a,) in db.execute("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["shop.added", "terminal.added", "staff.added", "code.issued"]


def test_the_people_page_adds_and_disables_users(client, admin):
    response = office_post(admin, "/office/people", {"name": "李区域", "role": "regional", "regions": "华东 East，华北",
                                                     "password": PASSWORD}, page="/office/people")
    assert response.status_code == 303
    html = admin.get("/office/people").text
    assert "李区域" in html and "华东 East、华北" in html
    refused = office_post(admin, "/office/people", {"name": "x", "role": "admin", "password": "short"},
                          page="/office/people")
    assert refused.status_code == 400 and "password" in refused.text
    me = re.search(r'action="/office/people/(\d+)/disable"', html).group(1)
    assert office_post(admin, f"/office/people/{me}/disable", page="/office/people").status_code == 303
    other = TestClient(app=client.app)
    assert sign_in(other, "李区域").status_code == 400


def test_an_admin_cannot_disable_themself(admin):
    with admin.app.state.store.read() as db:
        (me,) = db.execute("SELECT id FROM users WHERE name = 'boss'").fetchone()
    assert office_post(admin, f"/office/people/{me}/disable", page="/office/people").status_code == 400


def test_the_demo_prints_an_admin_who_can_sign_in(tmp_path, content_dir):
    settings = Settings(data=str(tmp_path / "data"), content=str(content_dir))
    with TestClient(app=create_app(settings)) as client:
        lines = ensure_demo(client.app.state.store, "http://127.0.0.1:8000/")
        again = ensure_demo(client.app.state.store, "http://127.0.0.1:8000/")
        name, password = re.search(r"office/ and sign in as (\S+) with password (\S+)$", "\n".join(again), re.M).groups()
        assert any("http://127.0.0.1:8000/office/" in line for line in lines)
        assert sign_in(client, name, password).status_code == 303  # the latest password works
        assert client.get("/office/people").status_code == 200  # an admin
