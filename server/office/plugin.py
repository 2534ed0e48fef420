"""The office as a Litestar plugin: what server/app.py adds to the app with one line."""


import os
import secrets
from pathlib import Path

from jinja2 import Environment
from litestar import Request, Router
from litestar.config.app import AppConfig
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.plugins import InitPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.registry import StoreRegistry
from litestar.template.config import TemplateConfig

from content.load import Library
from server import odata, writes
from server.alerts import AlertWorker, Changes
from server.office import (
    actions,
    alerts,
    compliance,
    devices,
    feeds,
    home,
    incidents,
    people,
    photos,
    records,
    register,
    signin,
    trends,
)
from server.office.access import OfficeAuth, SignInRequired, to_sign_in
from server.office.render import STATIC, Clock, Renderer, load_strings
from server.office.sessions import STORE_NAME, SessionStore, session_config
from server.settings import Settings
from server.store import Store, side_tables
from sync.shelf import Shelf

ROUTES = [
    signin.login_page, signin.login, signin.logout, signin.choose_lang, home.home,
    incidents.incident_list, incidents.incident_export, incidents.incident_detail, incidents.incidents_csv,
    incidents.incidents_xlsx, incidents.incidents_zip,
    records.run_list, records.run_detail, records.runs_csv, records.runs_xlsx,
    records.maintenance_list, records.maintenance_detail, records.maintenance_csv, records.maintenance_xlsx,
    register.shop_list, register.shop_add, register.shop_detail, register.shop_update, register.terminal_add,
    register.terminal_update, register.terminal_remove, register.staff_add, register.staff_remove,
    register.code_issue, devices.device_list, devices.device_revoke,
    people.people, people.person_add, people.person_disable, people.audit, photos.photo,
    compliance.compliance, compliance.shop_compliance, actions.action_list, actions.action_close, actions.actions_csv,
    actions.actions_xlsx, trends.trends, alerts.alert_list, alerts.alert_detail, alerts.alerts_seen, alerts.rule_add,
    alerts.rule_update, alerts.target_add, alerts.target_enable, alerts.target_log, alerts.live, feeds.feeds,
    feeds.feed_add, feeds.feed_revoke,
]


def _secret(path: Path, side) -> str:
    """The CSRF signing secret, made once and shared by every app server: in the data folder they
    share with SQLite, in the database with PostgreSQL (where they may share no folder)."""
    if side.engine == "postgresql":
        side.run("CREATE TABLE IF NOT EXISTS office_secret (id INTEGER PRIMARY KEY CHECK (id = 1), secret TEXT NOT NULL)")
        side.run("INSERT INTO office_secret (id, secret) VALUES (1, ?) ON CONFLICT (id) DO NOTHING",
                 [secrets.token_hex(32)])
        return side.run("SELECT secret FROM office_secret WHERE id = 1")[0][0]
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text().strip()


class Office(InitPlugin):
    """The office's part of the app (see the module's docstring)."""

    def __init__(self, settings: Settings, store: Store, library: Library, env: Environment, data: Path,
                 photo_shelf: Shelf):
        self.store, self.env = store, env
        self.render = Renderer(library, load_strings(), Clock(settings.timezone))
        # Which maintenance kind closes which checklist item, from the content (sync/views.py's actions).
        with store.write() as db:
            writes.set_item_maintenance(db, [(c.id, item.id, item.maintenance) for c in library.checklists.values()
                                             for item in c.items if item.maintenance])
        self.changes = Changes()
        self.worker = AlertWorker(store, library, self.render.clock, settings, alerts.email_text(self.render),
                                  self.changes) if settings.role == "hq" else None
        self.sessions = SessionStore(side_tables(data, "sessions", store))
        self.photos = photos.PhotoCache(photo_shelf)
        # Secure cookies whenever browsers reach the office over HTTPS: served with TLS here, or
        # behind a proxy that terminates it (the public URL says so).
        secure = settings.certfile is not None or (settings.public_url or "").startswith("https://")
        self.session = session_config(secure)
        self.csrf = CSRFConfig(secret=_secret(data / "office.secret", self.sessions.side), cookie_name="posaid_csrf",
                               cookie_path="/office", cookie_httponly=True, cookie_secure=secure,
                               cookie_samesite="lax")

    def router(self) -> Router:
        return Router(
            path="/office",
            route_handlers=ROUTES,
            middleware=[
                self.session.middleware,
                DefineMiddleware(CSRFMiddleware, config=self.csrf),
                DefineMiddleware(OfficeAuth, store=self.store, exclude_from_auth_key="exclude_from_auth"),
            ],
            dependencies={"render": Provide(lambda: self.render, use_cache=True, sync_to_thread=False),
                          "photos": Provide(lambda: self.photos, use_cache=True, sync_to_thread=False),
                          "changes": Provide(lambda: self.changes, use_cache=True, sync_to_thread=False)},
            exception_handlers={SignInRequired: to_sign_in},
            include_in_schema=False,
        )

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers += [
            self.router(),
            odata.router(),
            create_static_files_router(path="/office/static", directories=[STATIC], include_in_schema=False,
                                       send_as_attachment=False),
        ]
        stores = app_config.stores
        if isinstance(stores, StoreRegistry):
            stores.register(STORE_NAME, self.sessions)
        else:
            app_config.stores = {**(stores or {}), STORE_NAME: self.sessions}
        app_config.template_config = TemplateConfig(instance=JinjaTemplateEngine.from_environment(self.env))
        app_config.on_shutdown.append(self.sessions.close)
        if self.worker is not None:
            app_config.on_startup.append(self.worker.start)
            app_config.on_shutdown.insert(0, self.worker.stop)
        return app_config

    def error_page(self, request: Request, status: int, message: str) -> str:
        """The office's error page: the office's layout, in the user's language, with no phone-app script."""
        lang = self.render.lang(request)
        t = self.render.translators[lang]
        if status == 403 and message.startswith("CSRF"):
            explained = t("error.csrf")
        else:
            explained = t(f"error.{status}") if f"error.{status}" in self.render.strings else t("error.other")
        return self.env.get_template("office/error.html").render(
            **self.render.context(request, lang, status=status, explained=explained, detail=message))

    def __deepcopy__(self, memo) -> "Office":
        return self  # a resource, shared rather than copied (see Store.__deepcopy__)
