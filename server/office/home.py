"""The office's home: what needs attention today, within the user's scope; it refreshes itself
when records arrive (server/office/alerts.py's live stream, static/office.js)."""

from litestar import Request, Response, get
from litestar.di import NamedDependency

from server import queries
from server.office.alerts import describe
from server.office.render import Renderer
from server.store import Store

RECENT_DAYS = 7
ALERTS = 10


def home_reads(db, scope, since: str):
    """Everything the home page reads (the benchmark times it bare)."""
    return queries.attention(db, scope, since), queries.alerts(db, scope, None, ALERTS, unseen=True), \
        queries.alerts_unseen(db, scope)


@get("/", sync_to_thread=True)
def home(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer]) -> Response:
    """Open incidents, recent escalations, checklist runs with problems, devices not heard from, new alerts."""
    since = render.clock.days_ago(RECENT_DAYS)
    with store.read() as db:
        attention, alerts, unseen = home_reads(db, request.user.scope, since)
    lang = render.lang(request)
    return render(request, "home.html", attention=attention, days=RECENT_DAYS, since_date=since[:10], alerts=alerts,
                  unseen=unseen, describe=lambda alert: describe(alert, render, lang))
