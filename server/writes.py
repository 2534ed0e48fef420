"""Every change to the database outside the event ingest (sync/ingest.py): the shop register,
enrollment codes, devices and tokens, blobs held, uploads in progress, the hub's upstream.

Each function runs inside the caller's `Store.write()` transaction and does one thing; the
rules (who may, what is valid) live with the callers (server/auth.py, the CLI, the routes).
"""

from sqlite_utils import Database

from sync.blobs import BlobInfo

# ---- the shop register --------------------------------------------------------------------------


def _insert(db: Database, sql: str, params: list) -> int:
    """An INSERT's new id (RETURNING: SQLite and PostgreSQL alike, where lastrowid is SQLite's)."""
    return db.execute(f"{sql} RETURNING id", params).fetchone()[0]


def add_shop(db: Database, name: str, created_at: str, terminals=(), staff=()) -> int:
    """A new shop, with its terminals ((name, model, serial) each) and staff names; its id."""
    shop_id = _insert(db, "INSERT INTO shops (name, created_at) VALUES (?, ?)", [name, created_at])
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


def keep_partial(db: Database, shop_id: int, sha: str, device: str, size: int, at: str) -> None:
    """An unfinished upload kept for resuming, of this size, by this device."""
    db.execute(
        "INSERT INTO partials (shop_id, sha256, device, size, touched_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (shop_id, sha256) DO UPDATE SET device = excluded.device, size = excluded.size, "
        "touched_at = excluded.touched_at",
        [shop_id, sha, device, size, at],
    )


def drop_partial(db: Database, shop_id: int, sha: str) -> None:
    db.execute("DELETE FROM partials WHERE shop_id = ? AND sha256 = ?", [shop_id, sha])


# ---- the hub's upstream -------------------------------------------------------------------------


def set_upstream(db: Database, url: str, device: str, token: str, local_shop: int, enrolled_at: str) -> None:
    """Where this hub forwards to from now on, starting from the first event."""
    db.execute("DELETE FROM upstream")
    db.execute(
        "INSERT INTO upstream (id, url, device, token, cursor, local_shop, enrolled_at) VALUES (1, ?, ?, ?, 0, ?, ?)",
        [url, device, token, local_shop, enrolled_at],
    )


def advance_upstream(db: Database, cursor: int, at: str) -> None:
    """Head office has answered for every event up to cursor (a cursor never goes back: two
    forwarders racing, the CLI's beside the server's, only send some events twice)."""
    db.execute(
        "UPDATE upstream SET cursor = CASE WHEN cursor < ? THEN ? ELSE cursor END, last_forward_at = ? WHERE id = 1",
        [cursor, cursor, at],
    )


def add_forward_refusals(db: Database, refused: list[tuple[int, str, str]], at: str) -> None:
    """Events head office refused as they are: (seq, event id, reason) each."""
    db.conn.executemany(
        "INSERT INTO forward_refusals (seq, event_id, reason, refused_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (seq) DO UPDATE SET reason = excluded.reason, refused_at = excluded.refused_at",
        [(seq, event_id, reason, at) for seq, event_id, reason in refused],
    )


def hold_back(db: Database, events: list[tuple[int, str, int]], at: str) -> None:
    """Events (seq, id, format) not sent: head office does not accept their format yet."""
    db.conn.executemany(
        "INSERT INTO forward_waiting (seq, event_id, v, since) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(seq, event_id, version, at) for seq, event_id, version in events],
    )


def release_held_back(db: Database, seqs: list[int]) -> None:
    db.conn.executemany("DELETE FROM forward_waiting WHERE seq = ?", [(seq,) for seq in seqs])


def add_forwarded_blobs(db: Database, shas: list[str], at: str) -> None:
    db.conn.executemany(
        "INSERT INTO forwarded_blobs (sha256, forwarded_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(sha, at) for sha in shas],
    )


def upstream_attempt(db: Database, at: str) -> None:
    db.execute("UPDATE upstream SET last_attempt_at = ? WHERE id = 1", [at])


def upstream_up(db: Database, at: str) -> None:
    db.execute("UPDATE upstream SET link = 'up', register_at = ? WHERE id = 1", [at])


def upstream_down(db: Database, error: str, at: str) -> None:
    db.execute("UPDATE upstream SET link = 'down', last_error = ?, last_error_at = ? WHERE id = 1", [error, at])


def replace_register(db: Database, shop_id: int, shop, terminals, staff: list[str]) -> None:
    """The shop's register as head office has it (a ShopInfo, TerminalInfos, staff names)."""
    db.execute(
        "UPDATE shops SET name = ?, region = ?, address = ?, acquirer_phone = ?, vendor_phone = ? WHERE id = ?",
        [shop.name, shop.region, shop.address, shop.acquirer_phone, shop.vendor_phone, shop_id],
    )
    db.execute("DELETE FROM terminals WHERE shop_id = ?", [shop_id])
    db.conn.executemany(
        "INSERT INTO terminals (shop_id, name, model, serial, tid, mid, acquirer, software_version) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(shop_id, t.name, t.model, t.serial, t.tid, t.mid, t.acquirer, t.software_version) for t in terminals],
    )
    db.execute("DELETE FROM staff WHERE shop_id = ?", [shop_id])
    db.conn.executemany("INSERT INTO staff (shop_id, name) VALUES (?, ?)", [(shop_id, name) for name in staff])


# ---- head office --------------------------------------------------------------------------------
#
# The office's changes: people, the register's details, the audit log. Every string a person typed
# reaches here masked for card numbers already (the office's forms and commands mask them).


def add_user(db: Database, name: str, role: str, password_hash: str, regions: tuple[str, ...], created_at: str
             ) -> int:
    """A new head-office user with their regions (a regional user's); their id."""
    user_id = _insert(db, "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                      [name, role, password_hash, created_at])
    db.conn.executemany("INSERT INTO user_regions (user_id, region) VALUES (?, ?) ON CONFLICT DO NOTHING",
                        [(user_id, region) for region in regions])
    return user_id


def set_password_hash(db: Database, user_id: int, password_hash: str) -> None:
    db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [password_hash, user_id])


def disable_user(db: Database, user_id: int, at: str) -> bool:
    """Disable a user; False if they were disabled already."""
    return db.execute("UPDATE users SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL",
                      [at, user_id]).rowcount == 1


def enable_user(db: Database, user_id: int) -> bool:
    return db.execute("UPDATE users SET disabled_at = NULL WHERE id = ? AND disabled_at IS NOT NULL",
                      [user_id]).rowcount == 1


def set_user_lang(db: Database, user_id: int, lang: str) -> None:
    db.execute("UPDATE users SET lang = ? WHERE id = ?", [lang, user_id])


def audit(db: Database, at: str, actor: str, action: str, target: str = "", detail: str = "", address: str = ""
          ) -> None:
    """Append to the audit log (the database refuses to change or delete an entry)."""
    db.execute("INSERT INTO audit_log (at, actor, action, target, detail, address) VALUES (?, ?, ?, ?, ?, ?)",
               [at, actor, action, target, detail, address])


def update_shop(db: Database, shop_id: int, name: str, region: str | None, address: str | None,
                acquirer_phone: str | None, vendor_phone: str | None) -> bool:
    """A shop's register details as given; False if there is no such shop."""
    return db.execute(
        "UPDATE shops SET name = ?, region = ?, address = ?, acquirer_phone = ?, vendor_phone = ? WHERE id = ?",
        [name, region, address, acquirer_phone, vendor_phone, shop_id],
    ).rowcount == 1


TERMINAL_FIELDS = ("name", "model", "serial", "tid", "mid", "acquirer", "software_version")


def add_terminal(db: Database, shop_id: int, fields: dict[str, str | None]) -> int:
    """A terminal of a shop (its TERMINAL_FIELDS); its id."""
    return _insert(db, f"INSERT INTO terminals (shop_id, {', '.join(TERMINAL_FIELDS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [shop_id, *(fields.get(name) for name in TERMINAL_FIELDS)])


def update_terminal(db: Database, shop_id: int, terminal_id: int, fields: dict[str, str | None]) -> bool:
    return db.execute(
        f"UPDATE terminals SET {', '.join(f'{name} = ?' for name in TERMINAL_FIELDS)} WHERE id = ? AND shop_id = ?",
        [*(fields.get(name) for name in TERMINAL_FIELDS), terminal_id, shop_id],
    ).rowcount == 1


def remove_terminal(db: Database, shop_id: int, terminal_id: int) -> bool:
    return db.execute("DELETE FROM terminals WHERE id = ? AND shop_id = ?", [terminal_id, shop_id]).rowcount == 1


def add_staff(db: Database, shop_id: int, name: str) -> int:
    return _insert(db, "INSERT INTO staff (shop_id, name) VALUES (?, ?)", [shop_id, name])


def remove_staff(db: Database, shop_id: int, staff_id: int) -> bool:
    return db.execute("DELETE FROM staff WHERE id = ? AND shop_id = ?", [staff_id, shop_id]).rowcount == 1


def device_seen(db: Database, device_id: str, at: str, not_since: str) -> bool:
    """Note that a device called the API at `at`, unless it was noted at or after `not_since` already
    (so a busy device costs a write every few minutes, not one per request)."""
    return db.execute(
        "UPDATE devices SET last_seen_at = ? WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at < ?)",
        [at, device_id, not_since],
    ).rowcount == 1


# ---- head office: corrective actions ----


def set_item_maintenance(db: Database, pairs: list[tuple[str, str, str]]) -> None:
    """Which maintenance kind closes which checklist item ((checklist, item, kind) from the content),
    then close the open actions a maintenance entry of the kind, logged after them, puts right."""
    db.execute("DELETE FROM item_maintenance")
    db.conn.executemany("INSERT INTO item_maintenance (checklist, item, kind) VALUES (?, ?, ?)", pairs)
    db.execute(
        "UPDATE actions SET state = 'closed', closed_kind = 'maintenance', "
        "closed_at = (SELECT m.done_at FROM maintenance m JOIN item_maintenance k ON k.kind = m.kind "
        "  WHERE k.checklist = actions.checklist AND k.item = actions.item AND m.shop_id = actions.shop_id "
        "  AND m.done_at > actions.opened_at ORDER BY m.done_at LIMIT 1), "
        "closed_by = (SELECT m.id FROM maintenance m JOIN item_maintenance k ON k.kind = m.kind "
        "  WHERE k.checklist = actions.checklist AND k.item = actions.item AND m.shop_id = actions.shop_id "
        "  AND m.done_at > actions.opened_at ORDER BY m.done_at LIMIT 1) "
        "WHERE state = 'open' AND EXISTS (SELECT 1 FROM maintenance m JOIN item_maintenance k ON k.kind = m.kind "
        "  WHERE k.checklist = actions.checklist AND k.item = actions.item AND m.shop_id = actions.shop_id "
        "  AND m.done_at > actions.opened_at)")


def close_action(db: Database, shop_id: int, run: str, item: str, by: str, note: str, at: str) -> bool:
    """Close an open action by hand, with a note; False if it is not open (closed meanwhile)."""
    return db.execute(
        "UPDATE actions SET state = 'closed', closed_kind = 'office', closed_by = ?, close_note = ?, closed_at = ? "
        "WHERE shop_id = ? AND run = ? AND item = ? AND state = 'open'", [by, note, at, shop_id, run, item]
    ).rowcount == 1


# ---- head office: alerts ----


def set_alert_rule(db: Database, rule_id: int | None, kind: str, code: str | None, count: int, minutes: int,
                   grouping: str | None, enabled: bool, at: str) -> int:
    """Add a rule (rule_id None) or change one; its id."""
    if rule_id is None:
        return _insert(db, "INSERT INTO alert_rules (kind, code, count, minutes, grouping, enabled, created_at, "
                       "changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [kind, code, count, minutes, grouping, int(enabled), at, at])
    db.execute("UPDATE alert_rules SET kind = ?, code = ?, count = ?, minutes = ?, grouping = ?, enabled = ?, "
               "changed_at = ? WHERE id = ?", [kind, code, count, minutes, grouping, int(enabled), at, rule_id])
    return rule_id


def raise_alert(db: Database, rule_id: int, kind: str, key: str, subject: str, shop_id: int | None,
                region: str | None, count: int, first_at: str, last_at: str, late: bool, detail: str, at: str
                ) -> int | None:
    """A new alert (None if its key was raised already), with a pending delivery to every enabled target."""
    alert_id = db.execute(
        "INSERT INTO alerts (rule_id, kind, key, subject, shop_id, region, count, first_at, last_at, raised_at, late, "
        "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id",
        [rule_id, kind, key, subject, shop_id, region, count, first_at, last_at, at, int(late), detail]).fetchone()
    if alert_id is None:
        return None
    db.execute("INSERT INTO deliveries (alert_id, target_id, state, next_at, created_at) "
               "SELECT ?, id, 'pending', ?, ? FROM alert_targets WHERE enabled = 1", [alert_id[0], at, at])
    return alert_id[0]


def widen_alert(db: Database, alert_id: int, count: int, first_at: str, last_at: str, detail: str | None) -> None:
    """More records of an episode already alerted: the alert counts them (it is not raised again)."""
    db.execute("UPDATE alerts SET count = CASE WHEN count < ? THEN ? ELSE count END, "
               "first_at = CASE WHEN first_at > ? THEN ? ELSE first_at END, "
               "last_at = CASE WHEN last_at < ? THEN ? ELSE last_at END, detail = coalesce(?, detail) WHERE id = ?",
               [count, count, first_at, first_at, last_at, last_at, detail, alert_id])


def advance_alert_cursor(db: Database, seq: int) -> None:
    db.execute("UPDATE alert_cursor SET seq = CASE WHEN seq < ? THEN ? ELSE seq END WHERE id = 1", [seq, seq])


def periodic_rules_ran(db: Database, at: str) -> None:
    db.execute("UPDATE alert_cursor SET periodic_at = ? WHERE id = 1", [at])


def mark_alerts_seen(db: Database, ids: list[int], by: str, at: str) -> int:
    return sum(db.execute("UPDATE alerts SET seen_at = ?, seen_by = ? WHERE id = ? AND seen_at IS NULL",
                          [at, by, alert_id]).rowcount for alert_id in ids)


def add_alert_target(db: Database, kind: str, address: str, secret: str | None, at: str) -> int:
    return _insert(db, "INSERT INTO alert_targets (kind, address, secret, created_at) VALUES (?, ?, ?, ?)",
                   [kind, address, secret, at])


def set_alert_target_enabled(db: Database, target_id: int, enabled: bool) -> bool:
    return db.execute("UPDATE alert_targets SET enabled = ? WHERE id = ?", [int(enabled), target_id]).rowcount == 1


def claim_deliveries(db: Database, worker: str, at: str, until: str, limit: int = 10) -> list[int]:
    """Claim pending deliveries that are due and not claimed by a live worker; their ids. In one write
    transaction, so two app servers on one database never claim the same delivery."""
    return [row[0] for row in db.execute(
        "UPDATE deliveries SET claimed_by = ?, claimed_until = ? WHERE id IN (SELECT id FROM deliveries "
        "WHERE state = 'pending' AND next_at <= ? AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY next_at "
        "LIMIT ?) RETURNING id", [worker, until, at, at, limit]).fetchall()]


def delivery_tried(db: Database, delivery_id: int, worker: str, ok: bool, status: str, answer: str, at: str,
                   next_at: str | None) -> None:
    """One try's answer; the delivery done (ok), retried at next_at, or given up (next_at None)."""
    db.execute("INSERT INTO delivery_tries (delivery_id, at, ok, status, answer) VALUES (?, ?, ?, ?, ?)",
               [delivery_id, at, int(ok), status, answer])
    state = "done" if ok else "pending" if next_at else "failed"
    db.execute("UPDATE deliveries SET state = ?, tries = tries + 1, next_at = coalesce(?, next_at), "
               "done_at = CASE WHEN ? = 'pending' THEN NULL ELSE ? END, claimed_by = NULL, claimed_until = NULL "
               "WHERE id = ? AND claimed_by = ?", [state, next_at, state, at, delivery_id, worker])


# ---- head office: feed tokens ----


def add_feed_token(db: Database, user_id: int, token_hash: str, name: str, at: str) -> int:
    return _insert(db, "INSERT INTO feed_tokens (user_id, token_hash, name, created_at) VALUES (?, ?, ?, ?)",
                   [user_id, token_hash, name, at])


def revoke_feed_token(db: Database, user_id: int, token_id: int, at: str) -> bool:
    return db.execute("UPDATE feed_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
                      [at, token_id, user_id]).rowcount == 1


def feed_token_used(db: Database, token_id: int, at: str, not_since: str) -> None:
    """Note when a feed token was last used, at most every few minutes (like device_seen)."""
    db.execute("UPDATE feed_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
               [at, token_id, not_since])
