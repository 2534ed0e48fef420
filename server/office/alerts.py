"""Alerts in the office: the alerts raised (server/alerts.py), the rules and where alerts go (admins
edit them), each target's delivery log with the answer of every try, and the live stream the home
page refreshes itself from (server-sent events).
"""

import json
import secrets
import time

import anyio
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, ServerSentEvent
from litestar.response.sse import ServerSentEventMessage

from server import queries, writes
from server.alerts import Changes
from server.office.access import address_of, admin_only
from server.office.forms import Form, RuleForm, TargetForm, read
from server.office.render import Renderer
from server.queries import AlertRow, AlertRule, OfficeUser
from server.store import Store, now
from sync.errors import BadRequest, NotFound

PAGE = 50
LIVE_SECONDS = 300  # a live stream ends after this; the browser's EventSource reconnects by itself
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def describe(alert: AlertRow, render: Renderer, lang: str) -> str:
    """What an alert says, in one language."""
    t, titles = render.translators[lang], render.titles[lang]
    detail = json.loads(alert.detail)
    shop = alert.shop or ""
    if alert.kind == "shop_code":
        return t("alert.shop_code", shop=shop, count=alert.count, code=titles.code(detail["code"]))
    if alert.kind == "terminal":
        return t("alert.terminal", shop=shop, terminal=detail["terminal"], count=alert.count)
    if alert.kind == "group_code":
        group = detail.get("acquirer") or detail.get("region") or ""
        return t("alert.group_code", count=alert.count, group=group, code=titles.code(detail["code"]))
    return t("alert.checklist_missed", shop=shop, checklist=titles.checklist(detail["checklist"]), count=alert.count)


def describe_rule(rule: AlertRule, render: Renderer, lang: str) -> str:
    t, titles = render.translators[lang], render.titles[lang]
    code = titles.code(rule.code) if rule.code else t("rule.any_code")
    if rule.kind == "terminal":
        return t("rule.terminal", count=rule.count, days=round(rule.minutes / 1440, 1))
    if rule.kind == "group_code":
        return t("rule.group_code", count=rule.count, code=code, minutes=rule.minutes,
                 group=t(f"rule.grouping_{rule.grouping or 'acquirer'}"))
    if rule.kind == "checklist_missed":
        return t("rule.checklist_missed", count=rule.count)
    return t("rule.shop_code", count=rule.count, code=code, minutes=rule.minutes)


def email_text(render: Renderer):
    """For the worker: (subject, text) of an alert's email, in Chinese then English."""

    def make(alert: AlertRow) -> tuple[str, str]:
        zh, en = describe(alert, render, "zh"), describe(alert, render, "en")
        late = "\n" + render.translators["zh"]("alert.late") + " / " + render.translators["en"]("alert.late") \
            if alert.late else ""
        when = f"{render.clock.show(alert.first_at)} – {render.clock.show(alert.last_at)}"
        return f"[posaid] {zh} / {en}", f"{zh}\n{en}\n{when}{late}"

    return make


@get("/alerts", sync_to_thread=True)
def alert_list(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer]) -> Response:
    """Alerts raised, the latest first; for admins, the rules and where alerts go."""
    user: OfficeUser = request.user
    after = request.query_params.get("after", "")
    before = int(after) if after.isdigit() else None
    with store.read() as db:
        rows = queries.alerts(db, user.scope, before, PAGE)
        rules = queries.alert_rules(db) if user.role == "admin" else []
        targets = queries.alert_targets(db) if user.role == "admin" else []
    more = str(rows[-1].id) if len(rows) == PAGE else None
    return render(request, "alerts.html", rows=rows, rules=rules, targets=targets, next=more, after=before,
                  describe=lambda a: describe(a, render, user.lang),
                  describe_rule=lambda r: describe_rule(r, render, user.lang), secret=None)


@get("/alerts/{alert_id:int}", sync_to_thread=True)
def alert_detail(request: Request, alert_id: FromPath[int], store: NamedDependency[Store],
                 render: NamedDependency[Renderer]) -> Response:
    """One alert: what, where, when it happened and when it was noticed, its shops."""
    user: OfficeUser = request.user
    with store.read() as db:
        found = queries.alert(db, user.scope, alert_id)
        if found is None:
            raise NotFound(f"alert {alert_id}: no such alert among the shops you may see")
        detail = json.loads(found.detail)
        shops = [queries.shop_row(db, user.scope, shop) for shop in detail.get("shops", [])]
    return render(request, "alert.html", alert=found, text=describe(found, render, user.lang), detail=detail,
                  shops=[s for s in shops if s])


@post("/alerts/seen", sync_to_thread=True)
def alerts_seen(request: Request, data: Form, store: NamedDependency[Store]) -> Response:
    """Mark alerts seen (those listed on the page the user looked at): they leave the home page."""
    user: OfficeUser = request.user
    ids = [int(i) for i in str(data.get("ids", "")).split(",") if i.strip().isdigit()][:PAGE * 2]
    with store.write() as db:
        visible = [i for i in ids if queries.alert(db, user.scope, i) is not None]
        writes.mark_alerts_seen(db, visible, user.name, now())
    return Redirect("/office/alerts", status_code=303)


@post("/alerts/rules", guards=[admin_only], sync_to_thread=True)
def rule_add(request: Request, data: Form, store: NamedDependency[Store]) -> Response:
    """Add an alert rule."""
    return _save_rule(request, data, store, None)


@post("/alerts/rules/{rule_id:int}", guards=[admin_only], sync_to_thread=True)
def rule_update(request: Request, rule_id: FromPath[int], data: Form, store: NamedDependency[Store]) -> Response:
    """Change an alert rule (its numbers, or whether it is on)."""
    return _save_rule(request, data, store, rule_id)


def _save_rule(request: Request, data: dict, store: Store, rule_id: int | None) -> Response:
    form = read(data, RuleForm)
    minutes = form.minutes * 1440 if form.kind == "terminal" else form.minutes  # a terminal's window is in days
    grouping = (form.grouping or "acquirer") if form.kind == "group_code" else None
    code = form.code if form.kind in ("shop_code", "group_code") else None
    with store.write() as db:
        if rule_id is not None and queries.alert_rule(db, rule_id) is None:
            raise NotFound(f"rule {rule_id}: no such rule")
        saved = writes.set_alert_rule(db, rule_id, form.kind, code, form.count, minutes, grouping, form.enabled, now())
        writes.audit(db, now(), request.user.name, "rule.changed" if rule_id else "rule.added", f"rule {saved}",
                     f"{form.kind} count={form.count} minutes={minutes} code={code or ''} "
                     f"grouping={grouping or ''} enabled={form.enabled}", address_of(request))
    return Redirect("/office/alerts#rules", status_code=303)


@post("/alerts/targets", guards=[admin_only], sync_to_thread=True)
def target_add(request: Request, data: Form, store: NamedDependency[Store], render: NamedDependency[Renderer]
               ) -> Response:
    """Add a webhook (its signing secret is made here and shown once) or an email address."""
    import re

    form = read(data, TargetForm)
    address = form.address.strip()
    if form.kind == "webhook" and not address.startswith(("https://", "http://")):
        raise BadRequest("address: a webhook is an http:// or https:// URL")
    if form.kind == "email" and not re.match(EMAIL, address):
        raise BadRequest("address: not an email address")
    secret = secrets.token_urlsafe(32) if form.kind == "webhook" else None
    with store.write() as db:
        target = writes.add_alert_target(db, form.kind, address, secret, now())
        writes.audit(db, now(), request.user.name, "target.added", f"target {target}", f"{form.kind} {address}",
                     address_of(request))
    if secret is None:
        return Redirect("/office/alerts#targets", status_code=303)
    user: OfficeUser = request.user
    with store.read() as db:
        rules, targets = queries.alert_rules(db), queries.alert_targets(db)
        rows = queries.alerts(db, user.scope, None, PAGE)
    return render(request, "alerts.html", rows=rows, rules=rules, targets=targets, next=None, after=None,
                  describe=lambda a: describe(a, render, user.lang),
                  describe_rule=lambda r: describe_rule(r, render, user.lang), secret=(address, secret))


@post("/alerts/targets/{target_id:int}/{switch:str}", guards=[admin_only], sync_to_thread=True)
def target_enable(request: Request, target_id: FromPath[int], switch: FromPath[str], store: NamedDependency[Store]
                  ) -> Response:
    """Turn a target on or off (its log is kept)."""
    if switch not in ("enable", "disable"):
        raise NotFound(f"{switch}: say enable or disable")
    with store.write() as db:
        if not writes.set_alert_target_enabled(db, target_id, switch == "enable"):
            raise NotFound(f"target {target_id}: no such target")
        writes.audit(db, now(), request.user.name, f"target.{switch}d", f"target {target_id}", "",
                     address_of(request))
    return Redirect("/office/alerts#targets", status_code=303)


@get("/alerts/targets/{target_id:int}", guards=[admin_only], sync_to_thread=True)
def target_log(request: Request, target_id: FromPath[int], store: NamedDependency[Store],
               render: NamedDependency[Renderer]) -> Response:
    """A target's delivery log: each delivery, its state, and the answer of every try."""
    with store.read() as db:
        target = next((t for t in queries.alert_targets(db) if t.id == target_id), None)
        if target is None:
            raise NotFound(f"target {target_id}: no such target")
        log = queries.deliveries(db, target_id)
    return render(request, "target.html", target=target, log=log)


@get("/live")
async def live(changes: NamedDependency[Changes]) -> ServerSentEvent:
    """Server-sent events: `records` when records arrive, `alert` when an alert is raised."""

    async def stream():
        seen = (changes.records, changes.alerts)
        yield ServerSentEventMessage(comment="posaid live", retry=5000)
        ends, quiet = time.monotonic() + LIVE_SECONDS, 0
        while time.monotonic() < ends:
            await anyio.sleep(1)
            current = (changes.records, changes.alerts)
            if current != seen:
                event = "alert" if current[1] != seen[1] else "records"
                seen, quiet = current, 0
                yield ServerSentEventMessage(data=str(current[0]), event=event)
            else:
                quiet += 1
                if quiet >= 15:  # a comment now and then keeps proxies from closing a quiet stream
                    quiet = 0
                    yield ServerSentEventMessage(comment="still here")

    return ServerSentEvent(stream(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
