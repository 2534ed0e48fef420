"""Alerts: rules kept in the database, judged on what arrives, raised once per episode, delivered.

The rules (alert_rules, edited by an admin on /office/alerts):

- shop_code: a shop with `count` incidents of a code (any code if none) within `minutes`;
- terminal: one terminal with `count` incidents within `minutes` (shown in days): a recurring fault;
- group_code: `count` shops of one acquirer (by the register's terminals) or one region with the
  same code within `minutes`: an acquirer's or a network's outage;
- checklist_missed: a shop that missed `count` periods of a checklist in a row.

Records are judged by when they happened (the phones' clocks), not by when they arrived, so a
shop's records synced after an outage raise what they would have raised at the time, and the
alert says it is late (what completed it reached head office more than LATE_AFTER after it
happened). An episode raises one alert: while more records of it come (within the rule's window
of its last one) the alert counts them instead of raising another.

`evaluate` reads the log from a cursor (alert_cursor.seq) inside one write transaction, so two app
servers never judge the same events twice. The `AlertWorker` thread, which the app runs on head
office, does that when records arrive (it looks every `alert_poll_seconds`: another app server's
pushes are seen too), runs the periodic rule, and delivers: each delivery (an alert to a webhook
or an email address) is claimed in the database, tried, its answer kept, and retried with
exponential backoff and jitter until it succeeds or MAX_TRIES have failed.

A webhook gets a POST of JSON (`id`, the same on every try, to de-duplicate; the alert) with the
header X-Posaid-Signature: sha256=<hex HMAC-SHA256 of the body with the target's secret>, and
X-Posaid-Delivery: <id>. Email goes through the SMTP server of the settings.
"""

import hashlib
import hmac
import json
import logging
import random
import secrets
import smtplib
import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

import msgspec

from content.load import Library
from server import dialect, periods, queries, writes
from server.background import Background
from server.queries import AlertRow, AlertRule, NewIncident
from server.settings import Settings
from server.store import Store, now
from sync.views import iso

log = logging.getLogger("posaid.alerts")
LATE_AFTER = timedelta(minutes=15)
MAX_TRIES = 8
MAX_BACKOFF_SECONDS = 3600
BATCH = 5000  # events judged per transaction
CLAIM_SECONDS = 120  # a claimed delivery not answered for this long may be claimed by another worker
PERIODIC_SECONDS = 600  # how often the periodic rule (missed checklists) runs
ANSWER_CHARS = 500  # of a try's answer, kept


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _shift(text: str, minutes: float) -> str:
    return iso(_time(text) + timedelta(minutes=minutes))


def _late(became: str, at: str) -> bool:
    """Noticed more than LATE_AFTER after the condition became true (by the records' own times)."""
    return _time(at) - _time(became) > LATE_AFTER


def _densest(times: list[tuple[str, object]], minutes: int, need: int, new: set, distinct: bool
             ) -> tuple[str, str, int, str] | None:
    """The window of `minutes` (from one record on) with the most records (or distinct shops, if
    `distinct`) that holds one of the `new` records and reaches `need`: (first, last, count, and
    when it reached `need`). One walk with two ends (records sorted by time)."""
    best, j, inside = None, 0, Counter()
    fresh = [0]
    for record in times:
        fresh.append(fresh[-1] + (record in new))
    ends = [_shift(at, minutes) for at, _ in times]
    for i, (start, _) in enumerate(times):
        while j < len(times) and times[j][0] <= ends[i]:
            inside[times[j][1]] += 1
            j += 1
        count = len(inside) if distinct else j - i
        if count >= need and fresh[j] > fresh[i] and (best is None or count > best[2]):
            seen: set = set()
            became = times[j - 1][0]
            for k in range(i, j):
                seen.add(times[k][1] if distinct else k)
                if len(seen) >= need:
                    became = times[k][0]
                    break
            best = (start, times[j - 1][0], count, became)
        inside[times[i][1]] -= 1
        if not inside[times[i][1]]:
            del inside[times[i][1]]
    return best


class Judge:
    """Raises or widens the alerts of one evaluation, inside the caller's write transaction."""

    def __init__(self, db, at: str):
        self.db, self.at, self.raised = db, at, []

    def going_on(self, rule: AlertRule, subject: str, lo: str, hi: str, shop: int, code: str | None = None,
                 terminal: str | None = None) -> bool:
        """New records of a shop within a rule's window of an alert already raised: it counts them
        (its records from its first on) and nothing else is judged (a busy terminal's fortnight of
        records is not walked again at every push)."""
        ongoing = queries.alert_episode(self.db, rule.id, subject, _shift(lo, -rule.minutes))
        if ongoing is None or ongoing.first_at > lo:
            return False
        last = max(hi, ongoing.last_at)
        count = queries.shop_incident_count(self.db, shop, ongoing.first_at, last, code=code, terminal=terminal)
        writes.widen_alert(self.db, ongoing.id, count, ongoing.first_at, last, None)
        return True

    def episode(self, rule: AlertRule, subject: str, found: tuple, shop: int | None, region: str | None,
                detail: dict) -> None:
        first, last, count, became = found
        late = _late(became, self.at)
        ongoing = queries.alert_episode(self.db, rule.id, subject, _shift(first, -rule.minutes))
        text = json.dumps(detail, ensure_ascii=False, sort_keys=True)
        if ongoing is not None:
            writes.widen_alert(self.db, ongoing.id, count, first, last, text)
            return
        alert_id = writes.raise_alert(self.db, rule.id, rule.kind, f"{rule.id}:{subject}:{first}", subject, shop,
                                      region, count, first, last, late, text, self.at)
        if alert_id is not None:
            self.raised.append(alert_id)


def _judge_incidents(judge: Judge, rules: list[AlertRule], new: list[NewIncident]) -> None:
    db = judge.db
    for rule in rules:
        if rule.kind == "shop_code":
            groups: dict[tuple[int, str], list[NewIncident]] = {}
            for record in new:
                if rule.code is None or record.code == rule.code:
                    groups.setdefault((record.shop_id, record.code), []).append(record)
            for (shop, code), records in groups.items():
                lo, hi = min(r.opened_at for r in records), max(r.opened_at for r in records)
                if judge.going_on(rule, f"shop:{shop}:{code}", lo, hi, shop, code=code):
                    continue
                times = [(at, at) for at, _ in queries.shop_incident_times(
                    db, shop, code, _shift(lo, -rule.minutes), _shift(hi, rule.minutes))]
                found = _densest(times, rule.minutes, rule.count, {(r.opened_at, r.opened_at) for r in records}, False)
                if found:
                    judge.episode(rule, f"shop:{shop}:{code}", found, shop, records[0].region,
                                  {"shop": shop, "code": code})
        elif rule.kind == "terminal":
            groups = {}
            for record in new:
                groups.setdefault((record.shop_id, record.terminal), []).append(record)
            for (shop, terminal), records in groups.items():
                lo, hi = min(r.opened_at for r in records), max(r.opened_at for r in records)
                if judge.going_on(rule, f"terminal:{shop}:{terminal}", lo, hi, shop, terminal=terminal):
                    continue
                times = [(at, at) for at in queries.terminal_incident_times(
                    db, shop, terminal, _shift(lo, -rule.minutes), _shift(hi, rule.minutes))]
                found = _densest(times, rule.minutes, rule.count, {(r.opened_at, r.opened_at) for r in records}, False)
                if found:
                    judge.episode(rule, f"terminal:{shop}:{terminal}", found, shop, records[0].region,
                                  {"shop": shop, "terminal": terminal})
        elif rule.kind == "group_code":
            groups = {}
            for record in new:
                value = record.region if rule.grouping == "region" else record.acquirer
                if value and (rule.code is None or record.code == rule.code):
                    groups.setdefault((value, record.code), []).append(record)
            for (value, code), records in groups.items():
                lo, hi = min(r.opened_at for r in records), max(r.opened_at for r in records)
                times = queries.group_incidents(db, code, _shift(lo, -rule.minutes), _shift(hi, rule.minutes),
                                                rule.grouping or "acquirer", value)
                found = _densest(times, rule.minutes, rule.count, {(r.opened_at, r.shop_id) for r in records}, True)
                if found:
                    shops = sorted({shop for at, shop in times if found[0] <= at <= found[1]})
                    judge.episode(rule, f"{rule.grouping}:{value}:{code}", found, None,
                                  value if rule.grouping == "region" else None,
                                  {rule.grouping or "acquirer": value, "code": code, "shops": shops})


def evaluate(db, at: str | None = None, limit: int = BATCH) -> tuple[list[int], bool]:
    """Judge the events received since the cursor (inside the caller's write transaction): the ids
    of the alerts raised, and whether more events wait."""
    at = at or now()
    dialect.serialise(db, dialect.ALERTS)  # another app server judging the same records: after it
    cursor = queries.alert_cursor(db)
    upto = min(cursor.newest, cursor.seq + limit)
    judge = Judge(db, at)
    if upto > cursor.seq:
        rules = [r for r in queries.alert_rules(db, enabled_only=True) if r.kind != "checklist_missed"]
        if rules:
            _judge_incidents(judge, rules, queries.incidents_received(db, cursor.seq, upto))
        writes.advance_alert_cursor(db, upto)
    return judge.raised, upto < cursor.newest


def evaluate_periodic(db, library: Library, clock, today: date, at: str | None = None) -> list[int]:
    """The checklist rule: each shop that missed the last `count` ended periods of a checklist in a
    row (inside the caller's write transaction); the ids of the alerts raised."""
    at = at or now()
    dialect.serialise(db, dialect.ALERTS)
    judge = Judge(db, at)
    for rule in queries.alert_rules(db, enabled_only=True):
        if rule.kind != "checklist_missed":
            continue
        for checklist in library.checklists.values():
            ended = [p for p in periods.periods(checklist, today, clock, past=rule.count) if not p.current]
            missed: dict[int, int] = {}
            for shop, _, _ in queries.missed_candidates(db, ended):
                missed[shop] = missed.get(shop, 0) + 1
            first, last = clock.start_of(ended[0].start), clock.start_of(ended[-1].start)
            for shop in sorted(s for s, n in missed.items() if n == len(ended)):
                subject = f"checklist:{shop}:{checklist.id}"
                # A streak still going (its alert reaches the period before the last): counted, not raised again.
                ongoing = queries.alert_episode(db, rule.id, subject, clock.start_of(ended[-2].start)
                                                if len(ended) > 1 else last)
                if ongoing is not None:
                    if ongoing.last_at < last:
                        writes.widen_alert(db, ongoing.id, ongoing.count + 1, ongoing.first_at, last,
                                           json.dumps({"shop": shop, "checklist": checklist.id}))
                    continue
                region = queries.shop_info(db, shop).region
                judge.episode(rule, subject, (first, last, len(ended), at), shop, region,
                              {"shop": shop, "checklist": checklist.id})
    writes.periodic_rules_ran(db, at)
    return judge.raised


# ---- delivery ----


class Outcome(msgspec.Struct, frozen=True):
    ok: bool
    status: str
    answer: str


def payload(alert: AlertRow, delivery_id: int, public_url: str, at: str) -> bytes:
    """The JSON a webhook receives: `id` is the same on every try of this delivery."""
    return json.dumps({
        "id": f"posaid-delivery-{delivery_id}", "sent_at": at,
        "alert": {"id": alert.id, "kind": alert.kind, "subject": alert.subject, "shop": alert.shop_id,
                  "shop_name": alert.shop, "region": alert.region, "count": alert.count, "first_at": alert.first_at,
                  "last_at": alert.last_at, "raised_at": alert.raised_at, "late": alert.late,
                  "detail": json.loads(alert.detail), "url": f"{public_url}office/alerts/{alert.id}"},
    }, ensure_ascii=False, sort_keys=True).encode()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_webhook(url: str, secret: str, body: bytes, delivery_id: int, timeout: float) -> Outcome:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "posaid-alerts",
        "X-Posaid-Delivery": f"posaid-delivery-{delivery_id}", "X-Posaid-Signature": signature(secret, body)})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Outcome(True, str(response.status), response.read(ANSWER_CHARS).decode(errors="replace"))
    except urllib.error.HTTPError as exc:
        return Outcome(False, str(exc.code), exc.read(ANSWER_CHARS).decode(errors="replace"))
    except (OSError, ValueError) as exc:  # refused, timed out, unreachable, a bad URL
        return Outcome(False, "error", str(exc)[:ANSWER_CHARS])


def send_email(settings: Settings, to: str, subject: str, text: str) -> Outcome:
    if not settings.smtp_host:
        return Outcome(False, "error", "no SMTP server is set (--smtp-host / POSAID_SMTP_HOST)")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.smtp_sender, to, subject
    message.set_content(text)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.alert_timeout_seconds) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            refused = smtp.send_message(message)
            code, answer = smtp.noop()
    except smtplib.SMTPResponseException as exc:
        return Outcome(False, str(exc.smtp_code), exc.smtp_error.decode(errors="replace")[:ANSWER_CHARS])
    except (OSError, smtplib.SMTPException) as exc:
        return Outcome(False, "error", str(exc)[:ANSWER_CHARS])
    if refused:
        return Outcome(False, "refused", str(refused)[:ANSWER_CHARS])
    return Outcome(True, "250", f"accepted for {to}")


def backoff(tries: int, base: float) -> float:
    """Seconds before the next try after `tries` failed ones: doubling, capped, with jitter."""
    return min(MAX_BACKOFF_SECONDS, base * 2 ** (tries - 1)) * random.uniform(0.8, 1.2)


class Changes:
    """What the office home's live refresh watches: the newest record and alert the worker has seen.
    Plain counters read by the server-sent events loop (each app server keeps its own, from the
    database it polls, so they never disagree about anything that matters)."""

    def __init__(self):
        self.records = 0
        self.alerts = 0


class AlertWorker(Background):
    """Head office's alert thread: judges new records, runs the periodic rule, delivers."""

    thread_name = "posaid-alerts"

    def __init__(self, store: Store, library: Library, clock, settings: Settings, describe, changes: Changes):
        super().__init__(stop_wait=settings.alert_timeout_seconds + 5)
        self.store, self.library, self.clock, self.settings = store, library, clock, settings
        self.describe, self.changes = describe, changes  # describe(alert) -> (subject, text) for email
        self.name = f"worker-{secrets.token_hex(4)}"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.round()
            except Exception:  # the database or a bug: logged, and tried again at the next tick
                log.exception("alert round failed")
            self._wake.wait(self.settings.alert_poll_seconds)
            self._wake.clear()

    def round(self, today: date | None = None) -> None:
        """One pass: new records judged, the periodic rule when due, due deliveries sent."""
        with self.store.read() as db:
            cursor = queries.alert_cursor(db)
        self.changes.records = cursor.newest
        more = cursor.newest > cursor.seq
        while more:
            with self.store.write() as db:
                raised, more = evaluate(db)
            self.changes.alerts += len(raised)
        stamp = now()
        if cursor.periodic_at is None or _time(cursor.periodic_at) < _time(stamp) - timedelta(seconds=PERIODIC_SECONDS):
            today = today or self.clock.local(stamp).date()
            with self.store.write() as db:
                self.changes.alerts += len(evaluate_periodic(db, self.library, self.clock, today))
        self.deliver()

    def deliver(self) -> int:
        """Send every due delivery this worker can claim; how many were tried."""
        tried = 0
        while not self._stop.is_set():
            at = now()
            until = iso(datetime.now(UTC) + timedelta(seconds=CLAIM_SECONDS))
            with self.store.write(durable=False) as db:
                ids = writes.claim_deliveries(db, self.name, at, until)
            if not ids:
                return tried
            with self.store.read() as db:
                work = queries.delivery_work(db, ids)
            for item in work:
                outcome = self.send(item)
                tries = item.tries + 1
                retry = None if outcome.ok or tries >= MAX_TRIES else iso(
                    datetime.now(UTC) + timedelta(seconds=backoff(tries, self.settings.alert_retry_seconds)))
                with self.store.write() as db:
                    writes.delivery_tried(db, item.id, self.name, outcome.ok, outcome.status, outcome.answer, now(),
                                          retry)
                tried += 1
        return tried

    def send(self, item: queries.DueDelivery) -> Outcome:
        base = self.settings.public_url or f"http://{self.settings.host}:{self.settings.port}/"
        base = base if base.endswith("/") else base + "/"
        if item.target.kind == "webhook":
            body = payload(item.alert, item.id, base, now())
            return post_webhook(item.target.address, item.target.secret or "", body, item.id,
                                self.settings.alert_timeout_seconds)
        subject, text = self.describe(item.alert)
        return send_email(self.settings, item.target.address, subject, f"{text}\n\n{base}office/alerts/{item.alert.id}")
