"""A TCP proxy for the fault tests and bench/forward.py: between a hub and head office, it passes
bytes on, cuts connections part-way, goes silent without closing, or answers every request with an
HTTP error; and it counts the requests that went through.

Its mode can change at any moment; a connection already open follows the new mode from its next
chunk, as a real link failing mid-transfer does.
"""

import random
import re
import socket
import threading

CHUNK = 16 * 1024
REQUEST_LINE = re.compile(rb"(?:GET|HEAD|POST|PUT) /\S* HTTP/1\.1\r\n")


class Proxy:
    """Listens on a free loopback port and forwards to target_port, as `mode` says:

    - "pass": every byte goes through;
    - "cut": each connection is closed, both ways, after a random number of bytes from the client
      (between `cut_after` bounds), so requests break mid-batch and mid-photo;
    - "silent": nothing more goes through either way, and nothing is closed (a half-open link);
    - "500" / "503": each new connection gets that HTTP status and is closed, head office failing.
    """

    def __init__(self, target_port: int, seed: int = 7, cut_after: tuple[int, int] = (2_000, 200_000)):
        self.target_port, self.cut_after = target_port, cut_after
        self.mode = "pass"
        self.rng = random.Random(seed)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self.requests = 0  # request lines seen from clients (photo bytes never look like one)
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def set(self, mode: str) -> None:
        assert mode in ("pass", "cut", "silent", "500", "503"), mode
        self.mode = mode

    def close(self) -> None:
        self.listener.close()
        with self._lock:
            for sock in self._open:
                _close(sock)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            if self.mode in ("500", "503"):
                threading.Thread(target=self._fail, args=(client, self.mode), daemon=True).start()
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._open += [client, server]
            budget = [self.rng.randint(*self.cut_after)]
            threading.Thread(target=self._pump, args=(client, server, budget), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, None), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, budget: list[int] | None) -> None:
        """Copy source to sink; `budget` (the client's side) counts down its bytes in "cut" mode."""
        tail = b""
        try:
            while chunk := source.recv(CHUNK):
                if budget is not None:  # a request line may straddle two chunks: look across
                    self.requests += sum(1 for m in REQUEST_LINE.finditer(tail + chunk) if m.end() > len(tail))
                    tail = chunk[-40:]
                while self.mode == "silent":
                    threading.Event().wait(0.05)  # hold the bytes: the link says nothing, closes nothing
                if self.mode == "cut" and budget is not None:
                    budget[0] -= len(chunk)
                    if budget[0] <= 0:
                        sink.sendall(chunk[: len(chunk) + budget[0]])
                        break
                sink.sendall(chunk)
        except OSError:
            pass
        _close(source)
        _close(sink)

    @staticmethod
    def _fail(client: socket.socket, status: str) -> None:
        try:
            client.settimeout(5)
            client.recv(65536)  # the request's start: enough to answer it
            body = b'{"status": %s, "detail": "head office is failing on purpose"}' % status.encode()
            client.sendall(b"HTTP/1.1 %s Error\r\nContent-Type: application/problem+json\r\nContent-Length: %d\r\n"
                           b"Connection: close\r\n\r\n%s" % (status.encode(), len(body), body))
        except OSError:
            pass
        _close(client)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
