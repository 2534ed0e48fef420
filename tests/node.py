"""Node runs the phone's pure modules (no DOM, no IndexedDB) without a browser, for fast parity tests."""

import json
import shutil
import subprocess
from pathlib import Path

REGISTER = Path(__file__).resolve().parent / "js" / "register.mjs"


def node_path() -> str:
    path = shutil.which("node") or shutil.which("nodejs")
    if not path:
        raise RuntimeError("Node.js is missing: `make test` installs Debian's nodejs (apt-get install nodejs)")
    return path


def run_module(source: str, data: object = None) -> object:
    """Run `source` as an ES module with `input` bound to data; return what it prints as JSON.

    The module may import "/static/js/…" as the pages do. It must print one JSON value.
    """
    prelude = f"const input = {json.dumps(data, ensure_ascii=False)};\n"
    result = subprocess.run(
        [node_path(), "--no-warnings", "--import", REGISTER.as_uri(), "--input-type=module", "-e", prelude + source],
        capture_output=True, text=True, timeout=60,
    )
    if result.returncode != 0:
        raise RuntimeError(f"node failed: {result.stderr.strip()}")
    return json.loads(result.stdout)
