"""Where finished files are kept, by key: a folder on this machine, or an S3-compatible bucket.

The blob store keeps every complete blob on a shelf under ``<sha[:2]>/<sha[2:]>``, and head office
keeps its re-encoded photos on one too. A shelf holds only finished, verified files: an upload in
progress stays a partial file on the app server's own disk (sync/blobs.py) and reaches the shelf
whole, once its hash and type are checked. That keeps the resumable protocol exact (a resume may
append any number of bytes, where an S3 multipart part must be 5 MB or the last) and keeps a
half-verified photo out of the bucket; the price is local disk for the partials, which the
per-device partial quota caps. A phone that resumes on another app server finds no partial there
and starts its photo again: correct, and a photo is a few hundred KB.

Memory stays flat whatever the file's size: a folder moves the file into place; a bucket takes it
with boto3's multipart upload from the file (parts of 8 MB, two at a time) and gives it back in
chunks, spilling to a temporary file past 1 MB when a reader needs to seek (Pillow).
"""

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from sync.errors import BadRequest

_PART = 8 * 1024 * 1024
_SPILL = 1024 * 1024


class Shelf(Protocol):
    """Finished files by key (``aa/bbbb…``); a key once written always holds the same bytes."""

    def put_file(self, key: str, path: Path) -> None:
        """Keep the file at path under key; the file is gone from path afterwards."""

    def put(self, key: str, data: bytes) -> None:
        """Keep small bytes (a thumbnail) under key."""

    def get(self, key: str) -> bytes | None:
        """The whole file under key, or None."""

    def open(self, key: str):
        """A context manager giving a seekable binary file of key; FileNotFoundError when absent."""

    def keys(self) -> Iterator[str]:
        """Every key held."""

    def describe(self) -> str:
        """Where the files are, for a person (logs, `posaid status`)."""


class Folder:
    """A shelf in a folder: keys are paths under it, written atomically and fsynced."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / key

    def put_file(self, key: str, path: Path) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)  # the partials lie under the same root: atomic; a key holds one content
        _fsync_dir(target.parent)

    def put(self, key: str, data: bytes) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}")
        partial.write_bytes(data)
        os.replace(partial, target)  # no reader ever sees half a file

    def get(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            return None

    @contextmanager
    def open(self, key: str):
        with open(self.path(key), "rb") as file:
            yield file

    def keys(self) -> Iterator[str]:
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                yield path.relative_to(self.root).as_posix()

    def describe(self) -> str:
        return str(self.root)


class Bucket:
    """A shelf in an S3-compatible bucket, under a prefix (boto3; path-style addressing, so
    SeaweedFS, MinIO and Ceph answer as AWS does)."""

    def __init__(self, client, bucket: str, prefix: str = ""):
        from boto3.s3.transfer import TransferConfig

        self.client, self.bucket, self.prefix = client, bucket, prefix
        self.transfer = TransferConfig(multipart_threshold=_PART, multipart_chunksize=_PART, max_concurrency=2)

    def put_file(self, key: str, path: Path) -> None:
        self.client.upload_file(str(path), self.bucket, self.prefix + key, Config=self.transfer)
        path.unlink(missing_ok=True)

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    @contextmanager
    def open(self, key: str):
        with tempfile.SpooledTemporaryFile(max_size=_SPILL) as file:
            try:
                self.client.download_fileobj(self.bucket, self.prefix + key, file, Config=self.transfer)
            except self.client.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                    raise FileNotFoundError(key) from None
                raise
            file.seek(0)
            yield file

    def keys(self) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"][len(self.prefix):]

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def check(self, setting: str = "--blobs") -> "Bucket":
        """This bucket, once it answers; else an error naming the setting and what went wrong."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:  # refused, unknown host, no such bucket, bad keys: all say the same
            raise BadRequest(f"{setting}: {self.describe()} cannot be used: {exc}") from None
        return self


def open_shelf(where: str, *, endpoint: str | None = None, region: str | None = None,
               access_key_id: str | None = None, secret_access_key: str | None = None, setting: str = "--blobs"
               ) -> "Folder | Bucket":
    """The shelf a setting names: a folder path, or ``s3://bucket/prefix``. Credentials not given
    come from the usual AWS variables and files (boto3's own chain)."""
    if not where.startswith("s3://"):
        return Folder(Path(where))
    parts = urlsplit(where)
    if not parts.netloc:
        raise BadRequest(f"{setting}: {where!r} names no bucket; write s3://bucket/prefix")
    prefix = parts.path.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise BadRequest(f"{setting}: an S3 bucket needs boto3: pip install 'posaid[s3]'") from None
    client = boto3.client(
        "s3", endpoint_url=endpoint or None, region_name=region or None, aws_access_key_id=access_key_id or None,
        aws_secret_access_key=secret_access_key or None,
        config=Config(s3={"addressing_style": "path"}, connect_timeout=10, read_timeout=60,
                      retries={"max_attempts": 5, "mode": "standard"}),
    )
    return Bucket(client, parts.netloc, prefix).check(setting)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
