"""A loopback stand-in for POST /v1/messages/count_tokens, for the token counter's tests.

Each server runs in its own thread on 127.0.0.1 with an ephemeral port; `mode` picks the behaviour and
`hits` counts requests, so a test can prove that a cached count made no call.

Modes: ok, 400, 401, 429 (retry-after 0), 429-long (retry-after 1 h), 500, 529, slow (sleeps, then answers),
trickle (headers at once, then the body one byte every `trickle_seconds`: per-read timeouts never fire),
first-ok (the first request answered, then 500s), malformed, not-json, huge (an integer count of 10**30),
echo-401 / echo-500 (the error message repeats every request header value, credentials included, as a
careless proxy does), measure (a count computed from the body by a fixed rule, see `measured_tokens`, so
differences between requests are known by hand).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.loopback import JsonHandler, serving

FAKE_KEY = "sk-ant-test-SECRET123"
FAKE_TOKEN = "oauth-token-TOPSECRET-456"  # an ANTHROPIC_AUTH_TOKEN: not shaped like an API key on purpose


def measured_tokens(body: dict) -> int:
    """The `measure` mode's count: 3 per request, 4 per message plus len(text) // 4 of string content, and for
    a string system prompt 2 + len(system) // 4. Simple enough to compute by hand in a test."""
    total = 3
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        total += 4 + (len(content) // 4 if isinstance(content, str) else 0)
    system = body.get("system")
    if isinstance(system, str) and system:
        total += 2 + len(system) // 4
    return total


@dataclass
class ServerState:
    mode: str = "ok"
    value: int = 42
    slow_seconds: float = 1.0
    trickle_seconds: float = 0.1
    trickle_bytes: int = 200
    hits: int = 0
    bodies: list[dict] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopped: threading.Event = field(default_factory=threading.Event)


def _handler(state: ServerState) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def _error(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> None:
            body = {"type": "error", "error": {"type": kind, "message": message}}
            self._send(status, json.dumps(body).encode(), {"x-should-retry": "false", **(headers or {})})

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            with state.lock:
                state.hits += 1
                auth = self.headers.get("authorization") or ""
                state.keys.append(self.headers.get("x-api-key") or auth.removeprefix("Bearer "))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                state.bodies.append(body)
            if self.path.split("?")[0] != "/v1/messages/count_tokens":
                self._error(404, "not_found_error", f"no route {self.path}")
                return
            mode = state.mode
            if mode == "first-ok":  # the first request is answered, every later one is a 500
                mode = "ok" if state.hits == 1 else "500"
            if mode == "ok":
                self._send(200, json.dumps({"input_tokens": state.value}).encode())
            elif mode == "400":
                self._error(400, "invalid_request_error", "messages: field required")
            elif mode == "401":
                self._error(401, "authentication_error", "invalid x-api-key")
            elif mode == "429":
                self._error(429, "rate_limit_error", "slow down", {"retry-after": "0"})
            elif mode == "429-long":
                self._error(429, "rate_limit_error", "slow down", {"retry-after": "3600"})
            elif mode == "500":
                self._error(500, "api_error", "internal error")
            elif mode == "529":
                self._error(529, "overloaded_error", "overloaded")
            elif mode == "slow":
                time.sleep(state.slow_seconds)
                self._send(200, json.dumps({"input_tokens": state.value}).encode())
            elif mode == "trickle":
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(state.trickle_bytes))
                self.end_headers()
                self.wfile.flush()
                payload = json.dumps({"input_tokens": state.value}).encode().ljust(state.trickle_bytes)
                for index in range(state.trickle_bytes):
                    if state.stopped.wait(state.trickle_seconds):
                        return
                    try:
                        self.wfile.write(payload[index : index + 1])
                        self.wfile.flush()
                    except OSError:  # the client gave up: stop trickling
                        return
            elif mode in ("echo-401", "echo-500"):
                plain = ("host", "accept", "accept-encoding", "connection", "content-type", "content-length")
                headers = sorted(self.headers.items(), key=lambda item: item[0].lower() in plain)  # unusual first
                seen = "; ".join(
                    f"{name}={value}" for name, value in headers if not name.lower().startswith("x-stainless")
                )
                self._error(int(mode[-3:]), "authentication_error", f"rejected request with headers {seen}")
            elif mode == "huge":
                self._send(200, b'{"input_tokens": 1000000000000000000000000000000}')
            elif mode == "measure":
                self._send(200, json.dumps({"input_tokens": measured_tokens(body)}).encode())
            elif mode == "malformed":
                self._send(200, b'{"tokens": "many"}')
            elif mode == "not-json":
                self._send(200, b"<html>gateway</html>")
            else:
                self._error(500, "api_error", f"unknown mode {mode}")

    return Handler


@contextmanager
def count_server(mode: str = "ok", value: int = 42) -> Iterator[tuple[str, ServerState]]:
    """(base_url, state) of a running server; shut down on exit."""
    state = ServerState(mode=mode, value=value)
    with serving(_handler(state), state.stopped) as url:
        yield url, state


def closed_port_url() -> str:
    """A loopback URL nothing listens on (the port was bound, then released): connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
