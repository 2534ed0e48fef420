"""Every change to the database outside the event ingest (sync/ingest.py): the shop register,
enrollment codes, devices and tokens, blobs held, uploads in progress, the hub's upstream.

Each function runs inside the caller's `Store.write()` transaction and does one thing; the
rules (who may, what is valid) live with the callers (server/auth.py, the CLI, the routes).
"""

from sqlite_utils import Database

from sync.blobs import BlobInfo

# ---- the shop register --------------------------------------------------------------------------


def add_shop(db: Database, name: str, created_at: str, terminals=(), staff=()) -> int:
    """A new shop, with its terminals ((name, model, serial) each) and staff names; its id."""
    shop_id = db.execute("INSERT INTO shops (name, created_at) VALUES (?, ?)", [name, created_at]).lastrowid
    db.conn.executemany(
        "INSERT INTO terminals (shop_id, name, model, serial) VALUES (?, ?, ?, ?)",
        [(shop_id, *terminal) for terminal in terminals],
    )
    db.conn.executemany("INSERT INTO staff (shop_id, name) VALUES (?, ?)", [(shop_id, name) for name in staff])
    return shop_id


# ---- enrollment, devices, tokens ----------------------------------------------------------------


def add_enroll_code(db: Database, code_hash: str, shop_id: int, created_at: str, expires_at: str,
                    kind: str = "phone") -> None:
    db.execute(
        "INSERT INTO enroll_codes (code_hash, shop_id, created_at, expires_at, kind) VALUES (?, ?, ?, ?, ?)",
        [code_hash, shop_id, created_at, expires_at, kind],
    )


def use_enroll_code(db: Database, code_hash: str, device_id: str, at: str) -> None:
    db.execute("UPDATE enroll_codes SET used_at = ?, used_by = ? WHERE code_hash = ?", [at, device_id, code_hash])


def enroll_device(db: Database, device_id: str, shop_id: int, name: str, kind: str, at: str) -> None:
    """The device as enrolled now: in this shop, under this name, of this kind, not revoked."""
    db.execute(
        "INSERT INTO devices (id, shop_id, name, kind, enrolled_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE "
        "SET shop_id = excluded.shop_id, name = excluded.name, kind = excluded.kind, enrolled_at = excluded.enrolled_at, "
        "revoked_at = NULL",
        [device_id, shop_id, name, kind, at],
    )


def add_token(db: Database, token_hash: str, device_id: str, shop_id: int, issued_at: str) -> None:
    db.execute(
        "INSERT INTO tokens (token_hash, device_id, shop_id, issued_at) VALUES (?, ?, ?, ?)",
        [token_hash, device_id, shop_id, issued_at],
    )


def revoke_tokens(db: Database, device_id: str, at: str) -> int:
    """Revoke every live token of a device; how many there were."""
    return db.execute(
        "UPDATE tokens SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL", [at, device_id]
    ).rowcount


def revoke_device(db: Database, device_id: str, at: str) -> int:
    """Revoke a device and every token it holds; the number of live tokens revoked."""
    db.execute("UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [at, device_id])
    return revoke_tokens(db, device_id, at)


# ---- blobs and uploads --------------------------------------------------------------------------


def record_blob(db: Database, info: BlobInfo, shop_id: int, received_at: str) -> bool:
    """Note that a shop holds a blob; False if it was held already."""
    cursor = db.execute(
        "INSERT INTO blobs (sha256, shop_id, size, media_type, received_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [info.sha256, shop_id, info.size, info.media_type, received_at],
    )
    return cursor.rowcount == 1


def claim_upload(db: Database, shop_id: int, sha: str, holder: str, at: str) -> bool:
    """Claim the upload of a blob for one request; False if another holds it."""
    cursor = db.execute(
        "INSERT INTO uploads (shop_id, sha256, holder, started_at, touched_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [shop_id, sha, holder, at, at],
    )
    return cursor.rowcount == 1


def take_over_upload(db: Database, shop_id: int, sha: str, holder: str, idle_before: str, at: str) -> bool:
    """Take the claim from a holder that has sent nothing since idle_before; False if it is still busy."""
    cursor = db.execute(
        "UPDATE uploads SET holder = ?, started_at = ?, touched_at = ? WHERE shop_id = ? AND sha256 = ? "
        "AND touched_at < ?",
        [holder, at, at, shop_id, sha, idle_before],
    )
    return cursor.rowcount == 1


def touch_upload(db: Database, shop_id: int, sha: str, holder: str, at: str) -> bool:
    """The holder is still sending; False if its claim was taken over meanwhile."""
    cursor = db.execute(
        "UPDATE uploads SET touched_at = ? WHERE shop_id = ? AND sha256 = ? AND holder = ?", [at, shop_id, sha, holder]
    )
    return cursor.rowcount == 1


def release_upload(db: Database, shop_id: int, sha: str, holder: str) -> None:
    db.execute("DELETE FROM uploads WHERE shop_id = ? AND sha256 = ? AND holder = ?", [shop_id, sha, holder])


# ---- the hub's upstream -------------------------------------------------------------------------


def set_upstream(db: Database, url: str, device: str, token: str, enrolled_at: str) -> None:
    """Where this hub forwards to from now on, starting from the first event."""
    db.execute("DELETE FROM upstream")
    db.execute(
        "INSERT INTO upstream (id, url, device, token, cursor, enrolled_at) VALUES (1, ?, ?, ?, 0, ?)",
        [url, device, token, enrolled_at],
    )


def advance_upstream(db: Database, cursor: int, at: str) -> None:
    """Head office has answered for every event up to cursor."""
    db.execute("UPDATE upstream SET cursor = ?, last_forward_at = ? WHERE id = 1", [cursor, at])
