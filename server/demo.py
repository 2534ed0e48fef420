"""The demo shop `make run` creates, so a new user can try everything at once."""

from server.auth import enroll_url, issue_code
from server.db import Store, now

DEMO_SHOP = "演示门店 Demo shop"
DEMO_TERMINALS = [("收银台 1 Till 1", "demo-model"), ("收银台 2 Till 2", "demo-model")]
DEMO_STAFF = ["店长 Manager", "收银员 Cashier"]


def ensure_demo(store: Store, url: str) -> list[str]:
    """Create the demo shop once (idempotent), issue a fresh enrollment code, and say what to open."""
    with store.write() as db:
        row = db.execute("SELECT id FROM shops WHERE name = ?", [DEMO_SHOP]).fetchone()
        if row is None:
            shop_id = db["shops"].insert({"name": DEMO_SHOP, "created_at": now()}).last_pk
            db["terminals"].insert_all(
                {"shop_id": shop_id, "name": name, "model": model, "serial": f"DEMO-{i}"}
                for i, (name, model) in enumerate(DEMO_TERMINALS, start=1)
            )
            db["staff"].insert_all({"shop_id": shop_id, "name": name} for name in DEMO_STAFF)
        else:
            shop_id = row[0]
        code, _ = issue_code(db, shop_id)  # a fresh one each start: a code works once
    return [
        f"demo shop #{shop_id}: {DEMO_SHOP}",
        f"open {url}zh (中文) or {url}en (English)",
        f"enroll a phone for the demo shop: open {enroll_url(url, code)} (code {code}, works once within 24 h)",
    ]
