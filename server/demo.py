"""The demo shop `make run` creates, so a new user can try everything at once."""

import secrets

from server import queries, writes
from server.auth import enroll_url, issue_code
from server.office.accounts import reset_demo_user
from server.store import Store, now

DEMO_SHOP = "演示门店 Demo shop"
DEMO_TERMINALS = [("收银台 1 Till 1", "demo-model", "DEMO-1"), ("收银台 2 Till 2", "demo-model", "DEMO-2")]
DEMO_STAFF = ["店长 Manager", "收银员 Cashier"]
DEMO_ADMIN = "demo-admin"


def ensure_demo(store: Store, url: str) -> list[str]:
    """Create the demo shop once (idempotent), issue a fresh enrollment code, and say what to open."""
    password = secrets.token_urlsafe(12)  # a fresh one each start, printed below
    with store.write() as db:
        reset_demo_user(db, DEMO_ADMIN, "admin", password, now())
        found = queries.shop_named(db, DEMO_SHOP)
        shop_id = found.id if found else writes.add_shop(db, DEMO_SHOP, now(), DEMO_TERMINALS, DEMO_STAFF)
        code, _ = issue_code(db, shop_id)  # a fresh one each start: a code works once
    return [
        f"demo shop #{shop_id}: {DEMO_SHOP}",
        f"open {url}zh (中文) or {url}en (English)",
        f"head office: open {url}office/ and sign in as {DEMO_ADMIN} with password {password}",
        f"enroll a phone for the demo shop: open {enroll_url(url, code, DEMO_SHOP)} (code {code}, works once within 24 h)",
    ]
