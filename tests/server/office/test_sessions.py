"""The sessions store: Litestar's Store interface over a SQLite file every app server shares."""

import time

import anyio
import anyio.from_thread
import pytest

from server.office.sessions import SessionStore
from server.store import SideFile


@pytest.fixture
def stores(tmp_path):
    first, second = SessionStore(SideFile(tmp_path / "sessions.db")), SessionStore(SideFile(tmp_path / "sessions.db"))
    yield first, second
    first.close()
    second.close()


def run(coroutine_function, *args):
    # In a thread of its own: the browser tests' Playwright keeps an event loop on this one.
    with anyio.from_thread.start_blocking_portal() as portal:
        return portal.call(coroutine_function, *args)


def test_what_one_store_sets_the_other_reads_until_it_is_deleted(stores):
    first, second = stores
    run(first.set, "a", b"one", 60)
    assert run(second.get, "a") == b"one"
    assert run(second.exists, "a") is True
    assert 55 <= run(second.expires_in, "a") <= 60
    run(second.set, "a", "two")  # str is stored as UTF-8; no expiry
    assert run(first.get, "a") == b"two" and run(first.expires_in, "a") is None
    run(first.delete, "a")
    assert run(second.get, "a") is None and run(second.exists, "a") is False


def test_an_expired_value_is_gone_and_swept(stores, monkeypatch):
    first, _ = stores
    run(first.set, "old", b"x", 10)
    real = time.time()
    monkeypatch.setattr(time, "time", lambda: real + 11)
    assert run(first.get, "old") is None
    run(first.set, "new", b"y", 10)  # a write sweeps what expired
    assert first._run("SELECT key FROM sessions") == [("new",)]


def test_renew_for_extends_a_value_that_expires(stores):
    first, _ = stores
    run(first.set, "k", b"v", 5)
    assert run(first.get, "k", 100) == b"v"
    assert run(first.expires_in, "k") >= 95


def test_delete_all(stores):
    first, second = stores
    run(first.set, "a", b"1")
    run(first.set, "b", b"2")
    run(second.delete_all)
    assert run(first.get, "a") is None and run(first.get, "b") is None
