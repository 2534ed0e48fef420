"""What the benchmarks share: a real `posaid serve` process on a free port, the CLI, an enrolled
device, ids as a phone makes them. (Benchmarks stand apart from the tests: they import nothing
from tests/.)"""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEVICE = "6f1c2d3e-4b5a-4c7d-9e8f-1a2b3c4d5e6f"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def uuid7(ms: int) -> str:
    """A UUIDv7 for the given millisecond, as a phone makes one."""
    value = ms << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    return str(uuid.UUID(int=value))


class Server:
    """`posaid serve` in its own process with its own data folder; stopped by stop()."""

    def __init__(self, data: Path, content: Path | None = None, **settings: object):
        self.data, self.port = data, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env = {**os.environ, "POSAID_DEMO": "",
                          **{f"POSAID_{k.upper()}": str(v) for k, v in settings.items()}}
        cmd = [sys.executable, "-m", "server", "serve", "--data", str(data), "--port", str(self.port)]
        if content:
            cmd += ["--content", str(content)]
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"server did not start: {self.process.stderr.read().decode()}") from None
                time.sleep(0.1)

    def request(self, method: str, path: str, body=None, headers=None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def posaid(self, *args: str) -> str:
        """Run a `posaid` command against this server's data folder; its output."""
        return subprocess.run([sys.executable, "-m", "server", *args, "--data", str(self.data)], cwd=ROOT,
                              env=self.env, check=True, capture_output=True, text=True).stdout

    def enroll(self, shop_name: str = "bench shop", device: str = DEVICE) -> dict[str, str]:
        """A new shop and a device enrolled in it: the headers its pushes carry."""
        shop = self.posaid("shops", "add", shop_name).strip()
        code = self.posaid("codes", "issue", shop).split("code: ")[1].split()[0]
        body = json.dumps({"code": code, "device": device, "name": "bench phone"}).encode()
        status, answer = self.request("POST", "/api/v1/enroll", body, {"Content-Type": "application/json"})
        if status != 200:
            raise SystemExit(f"enrollment failed: {status} {answer[:300]!r}")
        return {"Authorization": "Bearer " + json.loads(answer)["token"], "Content-Type": "application/json"}

    def enroll_many(self, count: int, per_shop: int = 5) -> list[tuple[str, str]]:
        """`count` phones enrolled over the API, `per_shop` to a shop: (device, token) each. The shops
        and codes are made in this process, straight in the server's database (WAL: safe beside it)."""
        from server import writes
        from server.auth import issue_code
        from server.store import Store, now

        store = Store(self.data / "posaid.db")
        with store.write() as db:
            shops = [writes.add_shop(db, f"load shop {n}", now()) for n in range(0, count, per_shop)]
            codes = [issue_code(db, shops[n // per_shop])[0] for n in range(count)]
        store.close()
        phones = []
        for code in codes:
            device = str(uuid.uuid4())
            body = json.dumps({"code": code, "device": device, "name": "load phone"}).encode()
            status, answer = self.request("POST", "/api/v1/enroll", body, {"Content-Type": "application/json"})
            if status != 200:
                raise SystemExit(f"enrollment failed: {status} {answer[:300]!r}")
            phones.append((device, json.loads(answer)["token"]))
        return phones

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
