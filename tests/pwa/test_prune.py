"""The phone's storage does not grow for ever: what the server holds and is older than 30 days is
pruned, except what the phone still needs (open incidents, each checklist's latest run), and the
photos only pruned records named go with them."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NOW = "2026-06-15T12:00:00Z"
OLD = "2026-05-01T10:00:00Z"  # 45 days before NOW
NEW = "2026-06-10T10:00:00Z"
SHA = {name: name * 64 for name in "abcdefg"}  # photo names, one letter each


def event(id, type, payload, at=OLD, sync="held", blobs=()):
    return {"id": f"01890000-0000-7000-8000-{id:0>12}", "type": type, "device": "d", "at": at,
            "recorded_by": "Wang", "shop": None, "blobs": [SHA[b] for b in blobs], "payload": payload, "sync": sync}


def incident(n, *, opened_at=OLD, closed=None, step=True, blobs=()):
    """An incident's events: opened (with photos), a step, and a close (at, sync) if closed."""
    opened = event(f"{n}01", "incident.opened", {"code": "T2", "terminal": f"Till {n}", "occurred_at": opened_at, "note": ""},
                   at=opened_at, blobs=blobs)
    child = {"incident": opened["id"]}
    events = [opened]
    if step:
        events.append(event(f"{n}02", "incident.step", {**child, "flow": "t2", "step": "power", "answer": "not_fixed"}))
    if closed:
        at, sync = closed
        events.append(event(f"{n}03", "incident.closed", {**child, "outcome": "resolved", "step": "power"}, at=at, sync=sync))
    return events


def run(n, period, at=OLD):
    return event(f"{n}04", "checklist.completed", {"checklist": "daily", "period": period, "signed_by": "Wang", "items": []}, at=at)


def log(n, at=OLD, sync="held", blobs=()):
    return event(f"{n}05", "maintenance.logged", {"terminal": f"Till {n}", "kind": "clean", "done_at": at, "fields": {}, "note": ""},
                 at=at, sync=sync, blobs=blobs)


GONE = [
    *incident(1, closed=(OLD, "held"), blobs="a"),  # closed long ago, all held: goes with its photo
    run(2, "2026-04-30"),  # an older run of the same checklist
    log(3, blobs="bc"),  # its photo c is still named by log 7
]
KEPT = [
    *incident(4, blobs="d"),  # still open however old: kept whole, with its photo
    *incident(5, closed=(NEW, "held")),  # closed lately: its old opening stays with the close
    *incident(6, closed=(OLD, "pending")),  # its close has not reached the server
    log(7, at=NEW, blobs="c"),
    log(8, sync="rejected"),  # the server refused it: the shop must still see it
    log(9, sync="pending", blobs="e"),
    run(10, "2026-05-01"),  # the checklist's latest run decides whether it is due
]
BLOBS = {"a": "held", "b": "held", "c": "held", "d": "held", "e": "pending", "f": "held", "g": "pending"}
# f: a held photo no event names (its event went before); g: still pending, so never pruned


def test_prune_deletes_old_held_records_and_their_photos_only(offline_page, live_server):
    page = offline_page
    page.goto(live_server.url + "/en/records")
    left = page.evaluate("""async ({ events, blobs, now }) => {
        const { getAll, write } = await import('/static/js/db.js');
        const { prune } = await import('/static/js/outbox.js');
        await write(['events', 'blobs', 'drafts'], (s) => {
            for (const event of events) s.events.put(event);
            for (const [sha, sync] of blobs) s.blobs.put({ sha, sync, type: 'image/jpeg', size: 1, blob: new Blob(['x']) });
            s.drafts.put({ id: 'checklist:daily:2026-04-01', items: {}, photos: {} });
        });
        await prune(Date.parse(now));
        return {
            events: (await getAll('events')).map((e) => e.id),
            blobs: (await getAll('blobs')).map((b) => b.sha),
            drafts: (await getAll('drafts')).map((d) => d.id),
        };
    }""", {"events": GONE + KEPT, "blobs": [[SHA[name], sync] for name, sync in BLOBS.items()], "now": NOW})
    assert {
        "events": sorted(e["id"] for e in KEPT),
        "blobs": sorted(SHA[name] for name in "cdeg"),
        "drafts": ["checklist:daily:2026-04-01"],
    } == left

    # The records page shows what is left.
    page.reload()
    expect(page.locator("#list-incidents li")).to_have_count(3)
    expect(page.locator("#list-incidents li").first).to_contain_text("Till 4")  # open first
    expect(page.locator("#list-runs li")).to_have_count(1)
    expect(page.locator("#list-maintenance li")).to_have_count(3)
