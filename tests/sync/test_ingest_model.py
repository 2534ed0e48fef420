"""Ingest against a model: hypothesis drives pushes, replays, conflicts, the same ids in another
shop, and restarts of the store, and after every step the database holds what the model says."""

import tempfile
from pathlib import Path

import msgspec
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from server import writes
from server.store import Store
from sync.ingest import ingest
from tests import factories as f

NOW = "2026-05-01T12:00:00+00:00"
SHOPS = (1, 2)
KINDS = {"opened": f.opened, "checklist": f.checklist, "maintenance": f.maintenance}
# Free text as cashiers type it, card numbers included: whatever it holds, an event is one event.
NOTES = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=40)


class Ingest(RuleBasedStateMachine):
    """The model: for each shop, the event ids held and the content (as first pushed) of each."""

    events = Bundle("events")

    def __init__(self):
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.path = Path(self.folder.name) / "posaid.db"
        self.store = Store(self.path)
        with self.store.write() as db:
            for shop in SHOPS:
                writes.add_shop(db, f"shop {shop}", NOW)
        self.held: dict[tuple[int, str], bytes] = {}  # (shop, id) -> the event as first pushed

    def teardown(self):
        self.store.close()
        self.folder.cleanup()

    def push(self, shop: int, events: list[dict]) -> list[str]:
        raws = [msgspec.Raw(msgspec.json.encode(e)) for e in events]
        with self.store.write() as db:
            return [r.status for r in ingest(db, shop, f.DEVICE, raws, NOW)]

    def expected(self, shop: int, event: dict) -> str:
        pushed = msgspec.json.encode(event)
        first = self.held.setdefault((shop, event["id"]), pushed)
        if first is pushed:
            return "stored"
        return "duplicate" if first == pushed else "conflict"

    @rule(target=events, shop=st.sampled_from(SHOPS), kind=st.sampled_from(sorted(KINDS)), note=NOTES)
    def push_new(self, shop, kind, note):
        event = KINDS[kind](note=note)
        assert self.push(shop, [event]) == [self.expected(shop, event)] == ["stored"]
        return shop, event

    @rule(item=events)
    def replay(self, item):
        shop, event = item
        assert self.push(shop, [event]) == [self.expected(shop, event)]

    @rule(item=events, note=st.text(alphabet="abcdefghij", min_size=1, max_size=8))
    def change_content(self, item, note):
        shop, event = item
        changed = {**event, "recorded_by": f"someone {note}"}
        assert self.push(shop, [changed]) == [self.expected(shop, changed)]

    @rule(item=events)
    def same_id_in_the_other_shop(self, item):
        shop, event = item
        other = SHOPS[1 - SHOPS.index(shop)]
        assert self.push(other, [event]) == [self.expected(other, event)]

    @rule(batch=st.lists(events, min_size=2, max_size=6))
    def replay_a_batch(self, batch):
        by_shop: dict[int, list[dict]] = {}
        for shop, event in batch:
            by_shop.setdefault(shop, []).append(event)
        for shop, events in by_shop.items():
            assert self.push(shop, events) == [self.expected(shop, event) for event in events]

    @precondition(lambda self: self.held)
    @rule()
    def restart(self):
        self.store.close()
        self.store = Store(self.path)

    @invariant()
    def the_database_holds_the_model(self):
        with self.store.read() as db:
            held = set(db.execute("SELECT shop_id, id FROM events").fetchall())
            incidents = set(db.execute("SELECT shop_id, id FROM incidents").fetchall())
        assert held == set(self.held)
        opened = {key for key, body in self.held.items() if b'"type":"incident.opened"' in body}
        assert incidents == opened


Ingest.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None, derandomize=True,
                                    suppress_health_check=[HealthCheck.too_slow])
test_ingest_matches_its_model = Ingest.TestCase
