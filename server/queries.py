"""Every read the server makes outside the ingest: plain SQL functions that take a connection and
the caller's scope (a shop, a device) and return named rows.

Pages, the API, the CLI and the forwarder all read through here, so a filter means the same
everywhere and the SQL stays in one place. Writes live in server/writes.py.
"""

import msgspec
from sqlite_utils import Database

from sync.types import RunInfo, ShopInfo, TerminalInfo


class Shop(msgspec.Struct, frozen=True):
    id: int
    name: str


class ShopListed(msgspec.Struct, frozen=True):
    id: int
    name: str
    devices: int  # enrolled and not revoked


class DeviceListed(msgspec.Struct, frozen=True):
    id: str
    shop_id: int
    name: str
    enrolled_at: str
    revoked_at: str | None


class EnrollCode(msgspec.Struct, frozen=True):
    shop_id: int
    shop_name: str
    expires_at: str
    used_by: str | None
    kind: str  # "phone" or "hub": what the code enrolls


class EnrolledDevice(msgspec.Struct, frozen=True):
    shop_id: int
    revoked_at: str | None


class TokenHolder(msgspec.Struct, frozen=True):
    """Who a live token speaks for: the device, the one shop it may reach, and whether it is a hub."""

    id: str
    shop_id: int
    hub: bool = False


class Upstream(msgspec.Struct, frozen=True):
    """Head office as a hub knows it: where to forward, with what token, and how far it got."""

    url: str
    device: str
    token: str
    cursor: int


# ---- the shop register --------------------------------------------------------------------------


def shop(db: Database, shop_id: int) -> Shop | None:
    row = db.execute("SELECT id, name FROM shops WHERE id = ?", [shop_id]).fetchone()
    return Shop(*row) if row else None


def shop_named(db: Database, name: str) -> Shop | None:
    row = db.execute("SELECT id, name FROM shops WHERE name = ? ORDER BY id LIMIT 1", [name]).fetchone()
    return Shop(*row) if row else None


def shops(db: Database) -> list[ShopListed]:
    """Every shop with its count of live devices, by id."""
    rows = db.execute(
        "SELECT s.id, s.name, count(d.id) FROM shops s LEFT JOIN devices d "
        "ON d.shop_id = s.id AND d.revoked_at IS NULL GROUP BY s.id, s.name ORDER BY s.id"
    )
    return [ShopListed(*row) for row in rows]


def shop_info(db: Database, shop_id: int) -> ShopInfo | None:
    """The shop as its devices see it, register fields and all."""
    row = db.execute(
        "SELECT id, name, region, address, acquirer_phone, vendor_phone FROM shops WHERE id = ?", [shop_id]
    ).fetchone()
    return ShopInfo(*row) if row else None


def terminals(db: Database, shop_id: int) -> list[TerminalInfo]:
    rows = db.execute(
        "SELECT id, name, model, serial, tid, mid, acquirer, software_version FROM terminals WHERE shop_id = ? "
        "ORDER BY id", [shop_id]
    )
    return [TerminalInfo(*row) for row in rows]


def staff_names(db: Database, shop_id: int) -> list[str]:
    return [name for (name,) in db.execute("SELECT name FROM staff WHERE shop_id = ? ORDER BY id", [shop_id])]


# ---- devices and enrollment ---------------------------------------------------------------------


def devices(db: Database, shop_id: int | None = None) -> list[DeviceListed]:
    """Every device (of one shop, if given), in the order they enrolled."""
    sql = "SELECT id, shop_id, name, enrolled_at, revoked_at FROM devices"
    params: list = []
    if shop_id is not None:
        sql += " WHERE shop_id = ?"
        params.append(shop_id)
    return [DeviceListed(*row) for row in db.execute(sql + " ORDER BY enrolled_at, id", params)]


def device_exists(db: Database, device_id: str) -> bool:
    return db.execute("SELECT 1 FROM devices WHERE id = ?", [device_id]).fetchone() is not None


def enrolled_device(db: Database, device_id: str) -> EnrolledDevice | None:
    row = db.execute("SELECT shop_id, revoked_at FROM devices WHERE id = ?", [device_id]).fetchone()
    return EnrolledDevice(*row) if row else None


def enroll_code(db: Database, code_hash: str) -> EnrollCode | None:
    row = db.execute(
        "SELECT c.shop_id, s.name, c.expires_at, c.used_by, c.kind FROM enroll_codes c JOIN shops s ON s.id = c.shop_id "
        "WHERE c.code_hash = ?",
        [code_hash],
    ).fetchone()
    return EnrollCode(*row) if row else None


def token_holder(db: Database, token_hash: str) -> TokenHolder | None:
    """The device a live (not revoked) token belongs to."""
    row = db.execute(
        "SELECT t.device_id, t.shop_id, d.kind FROM tokens t JOIN devices d ON d.id = t.device_id "
        "WHERE t.token_hash = ? AND t.revoked_at IS NULL", [token_hash]
    ).fetchone()
    return TokenHolder(id=row[0], shop_id=row[1], hub=row[2] == "hub") if row else None


# ---- what a device's pull learns ----------------------------------------------------------------


def held_event_ids(db: Database, shop_id: int, device: str, limit: int) -> list[str]:
    """Ids of a device's events the server holds, newest first."""
    rows = db.execute(
        "SELECT id FROM events WHERE shop_id = ? AND device = ? ORDER BY seq DESC LIMIT ?", [shop_id, device, limit]
    )
    return [event_id for (event_id,) in rows]


def shop_runs_since(db: Database, shop_id: int, period: str) -> list[RunInfo]:
    """The shop's checklist runs of periods starting on or after `period` (a date), any device's."""
    rows = db.execute(
        "SELECT id, checklist, period, signed_by, completed_at, device, problems_count FROM checklist_runs "
        "WHERE shop_id = ? AND period >= ? ORDER BY period, checklist, completed_at", [shop_id, period]
    )
    return [RunInfo(*row) for row in rows]


# ---- blobs --------------------------------------------------------------------------------------


def blob_size(db: Database, shop_id: int, sha: str) -> int | None:
    """The size of a blob the shop holds, or None."""
    row = db.execute("SELECT size FROM blobs WHERE sha256 = ? AND shop_id = ?", [sha, shop_id]).fetchone()
    return row[0] if row else None


# ---- the hub's log, as its forwarder reads it ---------------------------------------------------


def upstream(db: Database) -> Upstream | None:
    row = db.execute("SELECT url, device, token, cursor FROM upstream WHERE id = 1").fetchone()
    return Upstream(*row) if row else None


def events_after(db: Database, seq: int, limit: int) -> list[tuple[int, str]]:
    """(seq, body) of the events received after seq, in receive order."""
    return db.execute("SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", [seq, limit]).fetchall()


def events_count_after(db: Database, seq: int) -> int:
    return db.execute("SELECT count(*) FROM events WHERE seq > ?", [seq]).fetchone()[0]
