"""What the phone app's browser tests share: its strings as a page shows them, the screens they
run at, a shop with a register, enrolling a phone. The pytest fixtures built on these are in conftest.py.
"""

import sqlite3
import subprocess
import sys

from playwright.sync_api import expect

from content.load import load
from tests.fixtures import ROOT, wait_offline_ready, wait_until

STRINGS = load().strings
SCREENS = {"portrait": (360, 640), "landscape": (640, 360)}
# What head office keeps in the shop register (the office pages fill it; tests write it directly).
REGISTER = {"acquirer_phone": "95516-1234", "vendor_phone": "400 800 1234", "region": "East", "address": "1 Road"}
TERMINALS = [("收银台 1 Till 1", "X990", "SN-0001", "TID-0001", "MID-8888"), ("收银台 2 Till 2", "X990", "SN-0002", "TID-0002", "MID-8888")]
STAFF = ["王芳 Wang Fang", "李娜 Li Na"]


def t(lang: str, key: str, **values) -> str:
    """A UI string as the page shows it in lang."""
    text = getattr(STRINGS[key], lang)
    return text.format(**values) if values else text


def install_then_go_offline(context, live_server):
    """A page that visited once, installed the app (both languages), then lost the server and the network."""
    page = context.new_page()
    page.goto(live_server.url + "/zh")
    wait_offline_ready(page)
    live_server.stop()
    context.set_offline(True)
    return page


def cli(data, *args) -> str:
    result = subprocess.run([sys.executable, "-m", "server", *args, "--data", str(data)],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout


def shop_with_register(live_server, name="Floor shop", register=REGISTER, terminals=TERMINALS, staff=STAFF) -> int:
    """A shop whose register head office filled in, as the office pages would."""
    shop = int(cli(live_server.data, "shops", "add", name).strip())
    with sqlite3.connect(live_server.data / "posaid.db") as db:
        if register:
            db.execute("UPDATE shops SET acquirer_phone = ?, vendor_phone = ?, region = ?, address = ? WHERE id = ?",
                       [register["acquirer_phone"], register["vendor_phone"], register["region"], register["address"], shop])
        db.executemany("INSERT INTO terminals (shop_id, name, model, serial, tid, mid) VALUES (?, ?, ?, ?, ?, ?)",
                       [(shop, *terminal) for terminal in terminals])
        db.executemany("INSERT INTO staff (shop_id, name) VALUES (?, ?)", [(shop, person) for person in staff])
    return shop


def enrollment_url(live_server, shop: int) -> str:
    out = cli(live_server.data, "codes", "issue", str(shop), "--base", live_server.url)
    return next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("url: "))


def enroll_page(page, live_server, shop: int, lang: str):
    """Enroll the page's phone in the shop, as if its QR code was scanned, and wait for its first sync."""
    page.goto(enrollment_url(live_server, shop).replace("/zh/", f"/{lang}/"))
    wait_offline_ready(page)
    page.get_by_role("button", name=t(lang, "enroll.go"), exact=True).click()
    expect(page.get_by_role("heading", name=t(lang, "enroll.done", shop="").strip())).to_be_visible()
    wait_until(page, "async () => ((await (await import('/static/js/db.js')).getMeta('shop')) || {}).terminals?.length > 0")
    return page
