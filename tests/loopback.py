"""What the loopback stand-ins for Anthropic's endpoints share: a JSON answer, and a server on 127.0.0.1 with
an ephemeral port, run in a thread for the length of a `with` block."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler that answers JSON and keeps test output clean."""

    def log_message(self, *args: object) -> None:
        return None

    def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(payload)
        except OSError:  # the client gave up waiting (slow modes): nothing to tell it
            return


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], stopped: threading.Event) -> Iterator[str]:
    """The base URL of a running server; on exit `stopped` is set (so sleeping handlers wake), then it stops."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stopped.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
