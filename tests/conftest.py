"""Fixtures that build real things in tmp dirs: content copies, apps, server processes, a browser."""

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from litestar.testing import TestClient

from content.load import DEFAULT_ROOT
from server.app import create_app
from server.settings import Settings
from tests.fixtures import (
    LiveServer,
    SeaweedFS,
    ThrowawayPostgres,
    chromium_path,
    free_port,
)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A private copy of the bundled content, safe to edit."""
    target = tmp_path / "content"
    shutil.copytree(DEFAULT_ROOT, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


@pytest.fixture
def settings(tmp_path: Path, content_dir: Path) -> Settings:
    return Settings(data=str(tmp_path / "data"), content=str(content_dir))


@pytest.fixture
def client(settings: Settings):
    """Litestar's test client over an app with its own database and content."""
    with TestClient(app=create_app(settings)) as client:
        yield client


@pytest.fixture
def live_server(tmp_path: Path, content_dir: Path):
    server = LiveServer(tmp_path / "data", content_dir, free_port()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    """A fresh phone-sized browser context (360 px wide), closed after the test."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True)
    yield context
    context.close()


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    """A real S3-compatible server (SeaweedFS) on loopback, started once per test process."""
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs")).start()
    yield server
    server.stop()


@pytest.fixture(params=["folder", "s3"])
def blobs_where(request) -> dict:
    """Where a server keeps its photos, each way: its data folder, or a bucket on a real S3 server."""
    if request.param == "folder":
        return {}
    seaweed = request.getfixturevalue("seaweed")
    return {"blobs": seaweed.prefix(), **seaweed.settings()}


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server, started once per test process, with a template database that has
    every migration applied (each test copies it: a fresh database in some 50 ms)."""
    from server.postgres import Store as PostgresStore

    server = ThrowawayPostgres()
    template = server.database()
    PostgresStore(template).close()
    server.template = urlsplit(template).path.lstrip("/")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_where(request) -> dict:
    """Where a server keeps its records, each way: SQLite in its data folder, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return {}
    postgres = request.getfixturevalue("postgres")
    return {"database": postgres.database(template=postgres.template)}


@pytest.fixture(params=["one-machine", "beyond"])
def deployment(request) -> dict:
    """Head office both ways: SQLite and a blob folder in its data folder, or PostgreSQL and a
    bucket on a real S3 server (the settings beyond the data folder)."""
    if request.param == "one-machine":
        return {}
    postgres, seaweed = request.getfixturevalue("postgres"), request.getfixturevalue("seaweed")
    return {"database": postgres.database(template=postgres.template), "blobs": seaweed.prefix(),
            **seaweed.settings()}
