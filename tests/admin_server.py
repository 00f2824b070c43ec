"""A loopback stand-in for the Admin API endpoints costplan reads, faults included.

GET /v1/organizations/rate_limits and GET /v1/organizations/cost_report answer with the pages a test sets
(`ServerState.pages[path]`, a list: page 1 without a `page` parameter, page n for `page=cursor-n`), in the
documented shapes; `hits`, `queries` and `keys` record what arrived, so a test can prove a call was (not) made.

Like the real API (as far as its docs say), a key that is not an Admin API key (`sk-ant-admin...`) gets a 401
`authentication_error` when `admin_only` is set: what the real API answers for a normal key is not
documented, so the client's message must not depend on the exact status (403 is tested too).

Modes: ok, 400, 401, 403, 404, 429 (retry-after 0), 429-long (retry-after 1 h), 500, 529, flaky (a 500, then
ok), slow (sleeps `slow_seconds`, then answers), trickle (headers at once, then the body one byte every
`trickle_seconds`), malformed (JSON of the wrong shape), not-json, redirect (302 to another address, which
must not be followed), repeat-cursor (next_page never changes), echo-401 (the error repeats every request
header, credentials included, as a careless proxy does).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.loopback import JsonHandler, serving

ADMIN_KEY = "sk-ant-admin01-test-ADMINSECRET777"
NORMAL_KEY = "sk-ant-api03-test-NORMALSECRET555"
RATE_LIMITS = "/v1/organizations/rate_limits"
COST_REPORT = "/v1/organizations/cost_report"

# The Rate Limits API guide's example entries (2026-05-29 copy), in the older documented shape, plus the other
# group kinds; `newer_shape` turns them into the SDK 2.14 shape (`group: {id, type, display_name}`).
EXAMPLE_GROUPS: list[dict[str, Any]] = [
    {
        "type": "rate_limit",
        "group_type": "model_group",
        "models": ["claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-sonnet-4-6"],
        "limits": [
            {"type": "requests_per_minute", "value": 4000},
            {"type": "input_tokens_per_minute", "value": 2000000},
            {"type": "output_tokens_per_minute", "value": 400000},
        ],
    },
    {
        "type": "rate_limit",
        "group_type": "model_group",
        "models": ["claude-opus-5-5", "claude-opus-5-5-20261103"],
        "limits": [
            {"type": "requests_per_minute", "value": 2000},
            {"type": "input_tokens_per_minute", "value": 1000000},
            {"type": "output_tokens_per_minute", "value": 200000},
        ],
    },
    {
        "type": "rate_limit",
        "group_type": "batch",
        "models": None,
        "limits": [{"type": "enqueued_batch_requests", "value": 250000}],
    },
    {
        "type": "rate_limit",
        "group_type": "token_count",
        "models": None,
        "limits": [{"type": "requests_per_minute", "value": 2000}],
    },
    {
        "type": "rate_limit",
        "group_type": "web_search",
        "models": None,
        "limits": [{"type": "tool_uses_per_second", "value": 30}],
    },
]


def newer_shape(entry: dict[str, Any], index: int) -> dict[str, Any]:
    """An entry as SDK 2.14 types it: `id`, and the group as an object (display_name on model groups)."""
    group: dict[str, Any] = {"id": f"rlg_test{index:02d}", "type": entry["group_type"]}
    if entry["group_type"] == "model_group":
        group["display_name"] = "Claude Sonnet 4.x" if "claude-sonnet-4-6" in entry["models"] else "Claude Opus 5.5"
    out = {k: v for k, v in entry.items() if k != "group_type"}
    return {"id": f"rl_test{index:02d}", **out, "group": group}


@dataclass
class ServerState:
    mode: str = "ok"
    admin_only: bool = True
    pages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    slow_seconds: float = 1.0
    trickle_seconds: float = 0.1
    hits: int = 0
    paths: list[str] = field(default_factory=list)
    queries: list[list[tuple[str, str]]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopped: threading.Event = field(default_factory=threading.Event)


def _handler(state: ServerState) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def _error(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> None:
            body = {"type": "error", "error": {"type": kind, "message": message}}
            self._send(status, json.dumps(body).encode(), headers)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            query = parse_qsl(parts.query, keep_blank_values=True)
            auth = self.headers.get("authorization") or ""
            key = self.headers.get("x-api-key") or auth.removeprefix("Bearer ")  # the SDK 2.x sends a bearer
            with state.lock:
                state.hits += 1
                hit = state.hits
                state.paths.append(parts.path)
                state.queries.append(query)
                state.keys.append(key)
            pages = state.pages.get(parts.path)
            if pages is None:
                self._error(404, "not_found_error", f"no route {parts.path}")
                return
            if state.admin_only and not key.startswith("sk-ant-admin"):
                self._error(401, "authentication_error", "invalid x-api-key")
                return
            mode = state.mode
            if mode == "flaky":
                mode = "500" if hit == 1 else "ok"
            simple = {
                "400": (400, "invalid_request_error", "starting_at: invalid datetime"),
                "401": (401, "authentication_error", "invalid x-api-key"),
                "403": (403, "permission_error", "this key cannot use the Admin API"),
                "404": (404, "not_found_error", "model not found"),
                "500": (500, "api_error", "internal error"),
                "529": (529, "overloaded_error", "overloaded"),
            }
            if mode in simple:
                self._error(*simple[mode])
                return
            if mode == "429":
                self._error(429, "rate_limit_error", "slow down", {"retry-after": "0"})
                return
            if mode == "429-long":
                self._error(429, "rate_limit_error", "slow down", {"retry-after": "3600"})
                return
            if mode == "echo-401":
                seen = "; ".join(f"{name}={value}" for name, value in self.headers.items())
                self._error(401, "authentication_error", f"rejected request with headers {seen}")
                return
            if mode == "redirect":
                self.send_response(302)
                self.send_header("location", "http://127.0.0.2:9/steal" + self.path)
                self.send_header("content-length", "0")
                self.end_headers()
                return
            if mode == "not-json":
                self._send(200, b"<html>gateway</html>")
                return
            if mode == "malformed":
                self._send(200, json.dumps({"data": [{"limits": "lots"}], "results": 5}).encode())
                return
            cursor = dict(query).get("page")
            index = int(cursor.rsplit("-", 1)[1]) - 1 if cursor else 0
            if not 0 <= index < len(pages):
                self._error(400, "invalid_request_error", f"unknown page {cursor}")
                return
            page = dict(pages[index])
            if mode == "repeat-cursor":
                page.update(has_more=True, next_page="cursor-1")
            payload = json.dumps(page).encode()
            if mode == "slow":
                time.sleep(state.slow_seconds)
            if mode == "trickle":
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.flush()
                for index in range(len(payload)):
                    if state.stopped.wait(state.trickle_seconds):
                        return
                    try:
                        self.wfile.write(payload[index : index + 1])
                        self.wfile.flush()
                    except OSError:  # the client gave up: stop trickling
                        return
                return
            self._send(200, payload)

    return Handler


def paginate(items: list[Any], per_page: int, *, key: str = "data", cursor_field: bool = True) -> list[dict[str, Any]]:
    """`items` split into pages linked by `next_page` cursors (`cursor-2`, ...) and `has_more`."""
    chunks = [items[i : i + per_page] for i in range(0, len(items), per_page)] or [[]]
    pages = []
    for number, chunk in enumerate(chunks, 1):
        last = number == len(chunks)
        page: dict[str, Any] = {key: chunk, "next_page": None if last else f"cursor-{number + 1}"}
        if cursor_field:
            page["has_more"] = not last
        pages.append(page)
    return pages


@contextmanager
def admin_server(mode: str = "ok", **pages: list[dict[str, Any]]) -> Iterator[tuple[str, ServerState]]:
    """(base_url, state) of a running server; `rate_limits=` and `cost_report=` set the pages; shut down on exit."""
    state = ServerState(mode=mode)
    state.pages[RATE_LIMITS] = pages.get("rate_limits") or [{"data": EXAMPLE_GROUPS, "next_page": None}]
    state.pages[COST_REPORT] = pages.get("cost_report") or [{"data": [], "has_more": False, "next_page": None}]
    with serving(_handler(state), state.stopped) as url:
        yield url, state
