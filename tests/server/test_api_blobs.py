"""Blob uploads over the API: verified against name, type and size; a broken upload resumes. Each
test with the photos in the data folder and in a bucket of a real S3 server."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time

import msgspec
import pytest
from litestar.testing import TestClient

from server import writes
from server.app import create_app, shelves
from server.settings import Settings
from server.store import now
from sync.blobs import blob_key
from tests import images
from tests.fixtures import ROOT, LiveServer, add_shop, count, enroll, free_port, posaid
from tests.images import sha


@pytest.fixture
def settings(tmp_path, content_dir, deployment) -> Settings:
    return Settings(data=str(tmp_path / "data"), content=str(content_dir), **deployment)


@pytest.fixture
def phone(client):
    return enroll(client, add_shop(client))


def stored(data_dir, deployment: dict, digest: str) -> bytes | None:
    """A blob as a server with these settings keeps it (read beside the server, as it would)."""
    return shelves(Settings(data=str(data_dir), **deployment))[0].read(digest)


def url(data_or_name) -> str:
    name = data_or_name if isinstance(data_or_name, str) else sha(data_or_name)
    return f"/api/v1/blobs/{name}"


def blob_files(client) -> list:
    """Every blob held (by its key) and every partial upload kept (partial/<name>)."""
    blobs = client.app.state.blob_store
    return sorted([blob_key(digest) for digest in blobs.held()] + [f"partial/{p.name}" for p in blobs.partials.iterdir()])


@pytest.mark.parametrize(("make", "media_type"), [
    (images.jpeg, "image/jpeg"), (lambda: images.noise_png(3000), "image/png"), (images.webp, "image/webp"),
])
def test_a_photo_is_kept_byte_for_byte_and_then_held(client, phone, make, media_type):
    data = make()
    response = client.put(url(data), headers=phone.headers, content=data)
    assert response.status_code == 201
    assert response.json() == {"sha256": sha(data), "offset": len(data), "complete": True, "media_type": media_type}
    assert client.app.state.blob_store.read(sha(data)) == data
    head = client.head(url(data), headers=phone.headers)
    assert head.status_code == 200
    assert (head.headers["upload-offset"], head.headers["upload-complete"]) == (str(len(data)), "?1")
    again = client.put(url(data), headers=phone.headers, content=data)
    assert (again.status_code, again.json()["complete"]) == (200, True)
    assert client.app.state.store.db.execute("SELECT size, media_type FROM blobs").fetchall() == [(len(data), media_type)]


def test_an_unknown_blob_is_404_with_offset_0(client, phone):
    head = client.head(url("e" * 64), headers=phone.headers)
    assert head.status_code == 404
    assert (head.headers["upload-offset"], head.headers["upload-complete"]) == ("0", "?0")


def test_a_blob_another_shop_holds_is_not_held_for_this_one(client, phone):
    stranger = enroll(client, add_shop(client, "B"), device="5d1f0c3e-2b4a-4c6d-8e9f-0a1b2c3d4e5f")
    data = images.jpeg()
    client.put(url(data), headers=stranger.headers, content=data)
    assert client.head(url(data), headers=phone.headers).status_code == 404
    assert client.put(url(data), headers=phone.headers, content=data).status_code == 201
    assert count(client, "blobs") == 2
    assert len(blob_files(client)) == 1  # one file for one content


def test_an_upload_cut_half_way_resumes_from_the_offset_the_server_reports(client, phone):
    data = images.noise_png(400_000)
    half = len(data) // 2
    first = client.put(url(data), headers={**phone.headers, "Upload-Length": str(len(data))}, content=data[:half])
    assert first.status_code == 200
    assert first.json() == {"sha256": sha(data), "offset": half, "complete": False, "media_type": None}
    head = client.head(url(data), headers=phone.headers)
    assert (head.status_code, head.headers["upload-offset"], head.headers["upload-complete"]) == (404, str(half), "?0")
    wrong = client.put(url(data), headers={**phone.headers, "Upload-Offset": "0"}, content=data)
    assert wrong.status_code == 409
    assert wrong.headers["upload-offset"] == str(half)
    assert wrong.json()["detail"] == f"Upload-Offset 0 does not match the {half} bytes held; resume from {half}"
    offset = int(head.headers["upload-offset"])
    rest = client.put(url(data), headers={**phone.headers, "Upload-Offset": str(offset),
                                          "Upload-Length": str(len(data))}, content=data[offset:])
    assert rest.status_code == 201
    assert client.app.state.blob_store.read(sha(data)) == data
    assert blob_files(client) == [f"{sha(data)[:2]}/{sha(data)[2:]}"]


def claim(client, shop: int, data: bytes, touched_at: str) -> None:
    """Another request (on this or another app server) is uploading this blob, last heard of at touched_at."""
    with client.app.state.store.write() as db:
        writes.claim_upload(db, shop, sha(data), "another-request", touched_at)


def test_one_upload_of_a_blob_at_a_time_and_a_stalled_one_is_taken_over(client, phone):
    data = images.jpeg()
    claim(client, phone.shop, data, now())
    busy = client.put(url(data), headers=phone.headers, content=data)
    assert (busy.status_code, busy.headers["upload-offset"]) == (409, "0")
    assert busy.json()["detail"] == "another upload of this blob is in progress; retry later"
    with client.app.state.store.write() as db:
        db.execute("UPDATE uploads SET touched_at = '2026-01-01T00:00:00+00:00'")  # it stopped sending long ago
    assert client.put(url(data), headers=phone.headers, content=data).status_code == 201
    assert count(client, "uploads") == 0  # released once done


@pytest.mark.parametrize(("data", "name", "status", "detail"), [
    (images.jpeg(), "0" * 64, 422, "hash mismatch: the bytes received hash to"),
    (b"just some text, not a photo", None, 415, "not an image: only JPEG, PNG or WebP images are accepted"),
    (images.gif(), None, 415, "a GIF image: only JPEG, PNG or WebP images are accepted"),
    (images.bomb_png(), None, 422, "decompression bomb refused: 8000×6000 pixels"),
    (images.png_with_text(), None, 422, "photo: it carries text metadata (a PNG text chunk)"),
])
def test_a_bad_blob_is_refused_and_nothing_kept(client, phone, data, name, status, detail):
    response = client.put(url(name or data), headers=phone.headers, content=data)
    assert response.status_code == status
    assert response.json()["detail"].startswith(detail)
    assert blob_files(client) == []
    assert count(client, "blobs") == 0
    assert client.head(url(name or data), headers=phone.headers).headers["upload-offset"] == "0"


def test_a_40_mb_body_is_refused_before_it_is_read(client, phone):
    data = b"\0" * (40 * 1024 * 1024)
    response = client.put(url(data), headers=phone.headers, content=data)
    assert response.status_code == 413
    assert response.json()["detail"] == (
        f"Content-Length {len(data)} from offset 0 is over the {15 * 1024 * 1024}-byte limit for a blob")
    assert blob_files(client) == []


def test_an_upload_length_over_the_cap_is_refused(client, phone):
    response = client.put(url("f" * 64), headers={**phone.headers, "Upload-Length": str(16 * 1024 * 1024)},
                          content=b"x")
    assert (response.status_code, response.json()["detail"]) == (
        413, f"Upload-Length {16 * 1024 * 1024} is over the {15 * 1024 * 1024}-byte limit for a blob")


def test_a_stream_without_length_over_the_cap_is_cut_and_removed(settings):
    small = type(settings)(**{**{f: getattr(settings, f) for f in settings.__struct_fields__}, "max_blob_bytes": 500_000})
    with TestClient(app=create_app(small)) as client:
        phone = enroll(client, add_shop(client))
        data = images.noise_png(900_000)
        chunks = (data[i:i + 65536] for i in range(0, len(data), 65536))  # chunked: no Content-Length
        response = client.put(url(data), headers=phone.headers, content=chunks)
        assert response.status_code == 413
        assert response.json()["detail"] == "the blob is over the 500000-byte limit"
        assert blob_files(client) == []


@pytest.mark.parametrize(("path", "headers", "detail"), [
    ("/api/v1/blobs/NOT-A-HASH", {}, "blob name: expected the sha256 of the bytes as 64 lowercase hex digits"),
    (url("a" * 64), {"Upload-Offset": "-3"}, "Upload-Offset: expected a whole number of bytes, got '-3'"),
    (url("a" * 64), {"Upload-Length": "1e6"}, "Upload-Length: expected a whole number of bytes, got '1e6'"),
    (url("a" * 64), {"Upload-Length": "10"}, "Content-Length 20 from offset 0 runs past Upload-Length 10"),
])
def test_bad_names_and_headers_are_400(client, phone, path, headers, detail):
    response = client.put(path, headers={**phone.headers, **headers}, content=b"x" * 20)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)
    assert blob_files(client) == []


def test_blobs_need_a_token(client):
    data = images.jpeg()
    assert client.put(url(data), content=data).status_code == 401
    assert client.head(url(data)).status_code == 401
    assert blob_files(client) == []


def _code(data_dir, env: dict | None = None) -> str:
    result = subprocess.run([sys.executable, "-m", "server", "codes", "issue", "1", "--data", str(data_dir)],
                            cwd=ROOT, capture_output=True, text=True, check=True, env={**os.environ, **(env or {})})
    return result.stdout.split("code: ")[1].split()[0]


def _request(server, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()  # headers: case-insensitive
    finally:
        conn.close()


@pytest.mark.slow
def test_a_connection_cut_mid_upload_resumes_over_real_http(tmp_path, content_dir, deployment):
    """A real server, a real socket closed half-way through a PUT, then the upload resumed."""
    live_server = LiveServer(tmp_path / "data", content_dir, free_port(), **deployment).start()
    try:
        _cut_and_resume(live_server, deployment)
    finally:
        live_server.stop()


def _cut_and_resume(live_server, deployment):
    subprocess.run([sys.executable, "-m", "server", "shops", "add", "Shop", "--data", str(live_server.data)],
                   cwd=ROOT, check=True, capture_output=True, env={**os.environ, **live_server.env})
    body = (b'{"code": "%s", "device": "0b7c5a52-8d3e-4d2a-9f1e-3c1a2b4d5e6f", "name": "p"}'
            % _code(live_server.data, live_server.env).encode())
    status, _, answer = _request(live_server, "POST", "/api/v1/enroll", body, {"Content-Type": "application/json"})
    assert status == 200, answer
    auth = {"Authorization": "Bearer " + json.loads(answer)["token"]}
    data = images.noise_png(3_000_000)
    half = len(data) // 2
    path = f"/api/v1/blobs/{sha(data)}"

    with socket.create_connection(("127.0.0.1", live_server.port)) as sock:
        head = (f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{'Authorization: ' + auth['Authorization']}\r\n"
                f"Content-Length: {len(data)}\r\nUpload-Length: {len(data)}\r\nUpload-Offset: 0\r\n\r\n")
        sock.sendall(head.encode() + data[:half])
        time.sleep(0.5)  # let the server take in what was sent before the line drops
    # the server notices the broken connection and keeps what arrived; ask where to resume
    deadline = time.monotonic() + 10
    while True:
        status, headers, _ = _request(live_server, "HEAD", path, headers=auth)
        offset = int(headers["Upload-Offset"])
        resumed = _request(live_server, "PUT", path, data[offset:],
                           {**auth, "Upload-Offset": str(offset), "Upload-Length": str(len(data))})
        if resumed[0] != 409 or time.monotonic() > deadline:  # 409: the cut upload is still winding down
            break
        time.sleep(0.1)
    assert status == 404 and 0 < offset <= half, (offset, half)
    assert resumed[0] == 201, resumed
    assert stored(live_server.data, deployment, sha(data)) == data
    status, headers, _ = _request(live_server, "HEAD", path, headers=auth)
    assert (status, headers["Upload-Offset"], headers["Upload-Complete"]) == (200, str(len(data)), "?1")


@pytest.mark.slow
def test_a_body_that_stops_arriving_is_ended_and_resumes(tmp_path, content_dir):
    """A phone out of range mid-upload, its connection left open: the server ends the request after
    body_idle_seconds, keeps what came, lets go of its claim, and the upload resumes."""
    server = LiveServer(tmp_path / "data", content_dir, free_port(), body_idle_seconds=1).start()
    try:
        posaid("shops", "add", "Shop", "--data", str(server.data))
        body = (b'{"code": "%s", "device": "0b7c5a52-8d3e-4d2a-9f1e-3c1a2b4d5e6f", "name": "p"}'
                % _code(server.data).encode())
        status, _, answer = _request(server, "POST", "/api/v1/enroll", body, {"Content-Type": "application/json"})
        auth = {"Authorization": "Bearer " + json.loads(answer)["token"]}
        data = images.noise_png(1_000_000)
        half = len(data) // 2
        path = f"/api/v1/blobs/{sha(data)}"
        with socket.create_connection(("127.0.0.1", server.port)) as silent:
            head = (f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth['Authorization']}\r\n"
                    f"Content-Length: {len(data)}\r\nUpload-Length: {len(data)}\r\nUpload-Offset: 0\r\n\r\n")
            silent.sendall(head.encode() + data[:half])
            silent.settimeout(10)
            answer = b""
            while chunk := silent.recv(65536):  # the server speaks first: it gave up waiting, and closes
                answer += chunk
            answer = answer.decode(errors="replace")
            assert answer.startswith("HTTP/1.1 408"), answer
            assert "nothing arrived for 1 s" in answer
            status, headers, _ = _request(server, "HEAD", path, headers=auth)
            offset = int(headers["Upload-Offset"])
            assert (status, offset) == (404, half)
            resumed = _request(server, "PUT", path, data[offset:],
                               {**auth, "Upload-Offset": str(offset), "Upload-Length": str(len(data))})
            assert resumed[0] == 201, resumed  # not 409: the silent upload's claim was let go
        assert (server.data / "blobs" / sha(data)[:2] / sha(data)[2:]).read_bytes() == data
    finally:
        server.stop()


def test_a_device_keeps_only_so_many_bytes_of_unfinished_uploads(settings):
    quota = dict(partial_bytes_per_device=500_000)
    with TestClient(app=create_app(msgspec.structs.replace(settings, **quota))) as client:
        phone = enroll(client, add_shop(client))
        first, second = images.noise_png(400_000), images.noise_png(350_000)
        half = client.put(url(first), headers={**phone.headers, "Upload-Length": str(len(first))},
                          content=first[:200_000])
        assert half.json()["offset"] == 200_000
        refused = client.put(url(second), headers={**phone.headers, "Upload-Length": str(len(second))}, content=second)
        assert refused.status_code == 413
        assert refused.json()["detail"].startswith("partial uploads: this device keeps 200000 bytes of unfinished")
        rest = client.put(url(first), headers={**phone.headers, "Upload-Offset": "200000",
                                               "Upload-Length": str(len(first))}, content=first[200_000:])
        assert rest.status_code == 201  # finishing it frees the room
        assert client.put(url(second), headers=phone.headers, content=second).status_code == 201


def test_an_upload_abandoned_for_days_is_given_up(client, phone):
    data = images.noise_png(300_000)
    client.put(url(data), headers={**phone.headers, "Upload-Length": str(len(data))}, content=data[:100_000])
    assert client.head(url(data), headers=phone.headers).headers["upload-offset"] == "100000"
    with client.app.state.store.write() as db:
        db.execute("UPDATE partials SET touched_at = '2020-01-01T00:00:00+00:00'")
    client.put(url(images.jpeg()), headers=phone.headers, content=images.jpeg())  # any upload sweeps
    assert client.head(url(data), headers=phone.headers).headers["upload-offset"] == "0"
    assert count(client, "partials") == 0 and blob_files(client) == [
        f"{sha(images.jpeg())[:2]}/{sha(images.jpeg())[2:]}"]
