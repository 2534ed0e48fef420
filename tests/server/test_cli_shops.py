"""`posaid shops`, `codes` and `devices`: what a head-office admin types, end to end with the API."""

import re

from litestar.testing import TestClient

from server.app import create_app
from server.demo import ensure_demo
from server.settings import Settings
from server.store import Store
from tests.fixtures import DEVICE, one_line_error, posaid


def ok(*args: str) -> str:
    result = posaid(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_shops_add_and_list(tmp_path):
    data = str(tmp_path / "data")
    assert ok("shops", "add", "门店 A", "--data", data) == "1\n"
    assert ok("shops", "add", "Shop B", "--data", data) == "2\n"
    assert ok("shops", "list", "--data", data) == "1\t门店 A\t0 devices\n2\tShop B\t0 devices\n"


def test_a_code_issued_on_the_command_line_enrolls_a_phone_until_revoked(tmp_path, content_dir):
    data = str(tmp_path / "data")
    ok("shops", "add", "Shop A", "--data", data)
    out = ok("codes", "issue", "1", "--base", "https://hq.example.cn/", "--data", data)
    code = re.search(r"^code: (\S+)$", out, re.M).group(1)
    assert f"url: https://hq.example.cn/zh/enroll?code={code}&shop=Shop%20A\n" in out
    assert re.search(r"^works once, until \d{4}-\d\d-\d\dT", out, re.M)
    with TestClient(app=create_app(Settings(data=data, content=str(content_dir)))) as client:
        response = client.post("/api/v1/enroll", json={"code": code, "device": DEVICE, "name": "till phone"})
        assert response.status_code == 200
        headers = {"Authorization": f"Bearer {response.json()['token']}"}
        assert ok("shops", "list", "--data", data) == "1\tShop A\t1 device\n"
        assert re.match(rf"{DEVICE}\tshop 1\ttill phone\tenrolled \S+\tactive\n", ok("devices", "list", "--data", data))
        assert ok("devices", "revoke", DEVICE, "--data", data) == f"revoked device {DEVICE} (1 token)\n"
        assert client.get("/api/v1/pull", headers=headers).status_code == 401
    assert "\trevoked " in ok("devices", "list", "--shop", "1", "--data", data)


def test_mistakes_get_one_clear_line(tmp_path):
    data = str(tmp_path / "data")
    assert one_line_error(posaid("codes", "issue", "7", "--data", data)) == (
        "Error: SHOP 7: no such shop (see `posaid shops list`)")
    assert one_line_error(posaid("devices", "revoke", "nope", "--data", data)) == (
        "Error: DEVICE nope: no such device (see `posaid devices list`)")
    assert one_line_error(posaid("shops", "add", " ", "--data", data)) == "Error: NAME: give the shop a name"
    usage = posaid("codes", "issue", "1", "--hours", "0", "--data", data)  # click's usage error: several lines
    assert usage.exit_code == 2
    assert usage.stderr.strip().splitlines()[-1] == "Error: Invalid value for '--hours': 0.0 is not in the range x>0."


def test_the_demo_shop_prints_a_fresh_working_code_each_start(tmp_path, content_dir):
    data = tmp_path / "data"
    data.mkdir()
    store = Store(data / "posaid.db")
    first = ensure_demo(store, "http://127.0.0.1:8000/")
    second = ensure_demo(store, "http://127.0.0.1:8000/")
    store.close()
    codes = [re.search(r"open http://127\.0\.0\.1:8000/zh/enroll\?code=([A-Z0-9-]+)", lines[-1]).group(1)
             for lines in (first, second)]
    assert codes[0] != codes[1]
    with TestClient(app=create_app(Settings(data=str(data), content=str(content_dir)))) as client:
        response = client.post("/api/v1/enroll", json={"code": codes[1], "device": DEVICE, "name": "demo phone"})
        assert response.status_code == 200
        assert response.json()["shop"]["name"] == "演示门店 Demo shop"
        pull = client.get("/api/v1/pull", headers={"Authorization": f"Bearer {response.json()['token']}"}).json()
        assert [t["name"] for t in pull["terminals"]] == ["收银台 1 Till 1", "收银台 2 Till 2"]
