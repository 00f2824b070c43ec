"""Sizing images and PDFs given by URL (opt-in): against a loopback HTTP server, never the internet."""

from __future__ import annotations

import base64
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from costplan.tokens.heuristic import estimate, media_sources
from costplan.tokens.media import MediaSettings, _fetch, fetch, fetch_all, host_of

DAY = "2026-11-30"


def png(w: int, h: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\x00" * 4000


def jpeg_after_metadata(w: int, h: int, metadata: int) -> bytes:
    """A JPEG whose frame header comes after `metadata` bytes of APP1 segments (as EXIF data pushes it)."""
    segments = b""
    while metadata > 0:
        size = min(metadata, 60000)
        segments += b"\xff\xe1" + struct.pack(">H", size + 2) + b"\x00" * size
        metadata -= size
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, h, w, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + segments + sof + b"\xff\xd9"


def pdf(pages: int) -> bytes:
    objects = b"".join(b"%d 0 obj << /Type /Page /MediaBox [0 0 612 792] >> endobj\n" % (i + 3) for i in range(pages))
    return b"%PDF-1.4\n" + objects + b"2 0 obj << /Type /Pages /Count %d >> endobj\n%%%%EOF\n" % pages


LINEARIZED_HEAD = b"%PDF-1.5\n1 0 obj << /Linearized 1 /L 99999 /N 7 /T 9999 >> endobj\n"


class Server:
    """Paths: /img.png, /img.jpg (frame after 40 kB), /doc.pdf (2 pages), /lin.pdf (linearized, 7 pages, then a
    stalled body), /noise (5 MB of zeros), /slow (answers after 5 s), /trickle (a byte every 50 ms, forever),
    /to-png (302 to /img.png), /to-file (302 to file:///etc/passwd), anything else 404."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.stop = threading.Event()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def send(self, body: bytes, status: int = 200, kind: str = "application/octet-stream") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.hits.append(self.path)
                server.headers.append(dict(self.headers.items()))
                try:
                    self.route()
                except (BrokenPipeError, ConnectionResetError):
                    return

            def route(self) -> None:
                if self.path == "/img.png":
                    self.send(png(640, 480), kind="image/png")
                elif self.path == "/img.jpg":
                    self.send(jpeg_after_metadata(1000, 750, 40_000), kind="image/jpeg")
                elif self.path == "/doc.pdf":
                    self.send(pdf(2), kind="application/pdf")
                elif self.path == "/lin.pdf":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(LINEARIZED_HEAD) + 10_000_000))
                    self.end_headers()
                    self.wfile.write(LINEARIZED_HEAD)
                    self.wfile.flush()
                    server.stop.wait(10)  # the rest never comes: sizing must not wait for it
                elif self.path == "/noise":
                    self.send(b"\x00" * 5_000_000)
                elif self.path == "/slow":
                    server.stop.wait(5)
                    self.send(png(10, 10))
                elif self.path == "/trickle":
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    for _ in range(100000):
                        if server.stop.wait(0.05):
                            return
                        self.wfile.write(b"\x00")
                        self.wfile.flush()
                elif self.path in ("/to-png", "/to-file"):
                    self.send_response(302)
                    self.send_header("Location", "/img.png" if self.path == "/to-png" else "file:///etc/passwd")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self.send(b"not here", status=404)

        return Handler


@contextmanager
def serving() -> Iterator[tuple[Server, str]]:
    state = Server()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), state.handler())
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        state.stop.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Server, str]]:
    with serving() as running:
        yield running


FAST = MediaSettings(timeout=1.0, max_image_bytes=100_000, max_pdf_bytes=1_000_000)


def test_png_size_from_its_header(server: tuple[Server, str]) -> None:
    _, base = server
    result = fetch(f"{base}/img.png", "image", FAST)
    assert (result.size.width, result.size.height) == (640, 480) and result.reason is None


def test_jpeg_is_read_past_its_metadata_to_the_frame_header(server: tuple[Server, str]) -> None:
    _, base = server
    result = fetch(f"{base}/img.jpg", "image", FAST)
    assert (result.size.width, result.size.height) == (1000, 750)


def test_image_requests_ask_for_a_byte_range_and_send_no_credentials(server: tuple[Server, str]) -> None:
    state, base = server
    fetch(f"{base}/img.png", "image", FAST)
    sent = state.headers[-1]
    assert sent.get("Range") == "bytes=0-99999"
    assert not {"Authorization", "Cookie", "X-Api-Key"} & set(sent)


def test_pdf_pages_are_counted(server: tuple[Server, str]) -> None:
    _, base = server
    assert fetch(f"{base}/doc.pdf", "document", FAST).size.pages == 2


def test_a_linearized_pdf_is_sized_from_its_first_bytes(server: tuple[Server, str]) -> None:
    _, base = server
    started = time.monotonic()
    result = fetch(f"{base}/lin.pdf", "document", MediaSettings(timeout=5.0))
    assert result.size.pages == 7
    assert time.monotonic() - started < 2  # it did not wait for the 10 MB body that never comes


def test_reading_stops_at_the_size_limit(server: tuple[Server, str]) -> None:
    _, base = server
    result = fetch(f"{base}/noise", "image", FAST)
    assert result.size is None and "first 100000 bytes" in result.reason


def test_a_silent_server_is_given_up_at_the_deadline(server: tuple[Server, str]) -> None:
    _, base = server
    started = time.monotonic()
    result = fetch(f"{base}/slow", "image", MediaSettings(timeout=0.5))
    assert result.size is None and "within 0.5 s" in result.reason
    assert time.monotonic() - started < 1.5


def test_a_socket_timeout_that_fires_first_reads_as_the_same_deadline(server: tuple[Server, str]) -> None:
    """The socket's own timeout can fire just before fetch() stops waiting: the same message either way (it
    read "127.0.0.1: TimeoutError" about one run in five on a loaded machine)."""
    _, base = server
    result = _fetch(f"{base}/slow", "image", MediaSettings(timeout=0.3), deadline=time.monotonic() + 10)
    assert result.size is None and result.reason == "127.0.0.1: no answer within 0.3 s"


def test_a_trickling_server_is_given_up_at_the_deadline(server: tuple[Server, str]) -> None:
    _, base = server
    started = time.monotonic()
    result = fetch(f"{base}/trickle", "image", MediaSettings(timeout=0.5))
    assert result.size is None
    assert time.monotonic() - started < 1.5


def test_redirects_are_followed_to_http_only(server: tuple[Server, str]) -> None:
    _, base = server
    assert fetch(f"{base}/to-png", "image", FAST).size.width == 640
    refused = fetch(f"{base}/to-file", "image", FAST)
    assert refused.size is None and refused.reason == "127.0.0.1: HTTP 302"


def test_errors_are_reasons_that_name_the_host_only(server: tuple[Server, str]) -> None:
    _, base = server
    missing = fetch(f"{base}/missing?X-Amz-Signature=SECRET", "image", FAST)
    assert missing.reason == "127.0.0.1: HTTP 404" and "SECRET" not in missing.reason
    assert fetch("file:///etc/passwd", "image", FAST).reason == "only http and https URLs are fetched"
    assert host_of("https://bucket.example.com/a.png?sig=abc") == "bucket.example.com"


def test_a_refused_connection_is_a_reason_not_an_exception() -> None:
    with serving() as (_, base):
        pass  # the server is gone: its port refuses connections
    result = fetch(f"{base}/img.png", "image", FAST)
    assert result.size is None and result.reason.startswith("127.0.0.1: ")


def url_request(url: str, kind: str = "image") -> dict:
    block = {"type": kind, "source": {"type": "url", "url": url}}
    return {"messages": [{"role": "user", "content": [block, {"type": "text", "text": "What is it?"}]}]}


def base64_request(data: bytes, media_type: str, kind: str = "image") -> dict:
    source = {"type": "base64", "media_type": media_type, "data": base64.b64encode(data).decode()}
    return {
        "messages": [
            {"role": "user", "content": [{"type": kind, "source": source}, {"type": "text", "text": "What is it?"}]}
        ]
    }


def test_a_fetched_image_counts_as_the_same_image_sent_inline(server: tuple[Server, str]) -> None:
    _, base = server
    body = url_request(f"{base}/img.png")
    sizes, notes = fetch_all(media_sources(body), FAST)
    fetched = estimate(body, model="claude-sonnet-4-6", media=sizes)
    inline = estimate(base64_request(png(640, 480), "image/png"), model="claude-sonnet-4-6")
    unsized = estimate(body, model="claude-sonnet-4-6")
    assert not notes and (fetched.tokens, fetched.low, fetched.high) == (inline.tokens, inline.low, inline.high)
    assert unsized.high > fetched.high  # unsized, the interval reaches the cap


def test_a_fetched_pdf_counts_its_pages(server: tuple[Server, str]) -> None:
    _, base = server
    body = url_request(f"{base}/doc.pdf", kind="document")
    sizes, _ = fetch_all(media_sources(body), FAST)
    fetched = estimate(body, model="claude-sonnet-4-6", media=sizes)
    inline = estimate(base64_request(pdf(2), "application/pdf", kind="document"), model="claude-sonnet-4-6")
    assert fetched.tokens == inline.tokens


def test_each_url_is_fetched_once_and_failures_become_notes(server: tuple[Server, str]) -> None:
    state, base = server
    before = len(state.hits)
    sources = [("image", f"{base}/img.png"), ("image", f"{base}/img.png"), ("image", f"{base}/missing")]
    sizes, notes = fetch_all(sources, FAST)
    assert len(state.hits) - before == 2
    assert sizes[f"{base}/missing"] is None and notes == ["could not size an image by URL (127.0.0.1: HTTP 404)"]


def test_media_sources_finds_urls_in_messages_system_and_tool_results() -> None:
    body = {
        "system": [{"type": "text", "text": "x"}],
        "messages": [
            {"role": "user", "content": [{"type": "image", "source": {"type": "url", "url": "https://a/1.png"}}]},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t",
                        "content": [{"type": "document", "source": {"type": "url", "url": "https://a/2.pdf"}}],
                    },
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
                ],
            },
        ],
    }
    assert sorted(media_sources(body)) == [("document", "https://a/2.pdf"), ("image", "https://a/1.png")]


def test_count_tokens_fetches_only_when_asked(server: tuple[Server, str]) -> None:
    from costplan.tokens import count_tokens

    state, base = server
    body = {"model": "claude-sonnet-4-6", **url_request(f"{base}/img.png")}
    before = len(state.hits)
    unsized = count_tokens(body, method="heuristic")
    assert len(state.hits) == before  # the default makes no network call
    sized = count_tokens(body, method="heuristic", fetch_media=True)
    assert len(state.hits) == before + 1
    inline = count_tokens(
        {"model": "claude-sonnet-4-6", **base64_request(png(640, 480), "image/png")}, method="heuristic"
    )
    assert (sized.input_tokens, sized.high) == (inline.input_tokens, inline.high) and unsized.high > sized.high
    assert unsized.notes == ("an image's size is unknown (URL, file id or unreadable header): assumed typical",)
    assert sized.notes == () and unsized.notes[0] in (unsized.warning or "")  # the caveats, apart and in the line


def test_count_fetch_media_on_the_command_line(server: tuple[Server, str], tmp_path) -> None:
    import json

    from conftest import run_main

    _, base = server
    path = tmp_path / "body.json"
    path.write_text(json.dumps(url_request(f"{base}/missing")), encoding="utf-8")
    ran = run_main("count", str(path), "--method", "heuristic", "--fetch-media", "--format", "json")
    assert ran.returncode == 0
    counted = json.loads(ran.stdout)["inputs"][0]
    assert "could not size an image by URL (127.0.0.1: HTTP 404)" in counted["warning"]
    assert "could not size an image by URL (127.0.0.1: HTTP 404)" in counted["notes"]
    table = run_main("count", str(path), "--method", "heuristic", "--fetch-media")  # people see why, too
    assert table.returncode == 0
    assert "notes:\n- could not size an image by URL (127.0.0.1: HTTP 404)\n" in table.stdout, table.stdout
    path.write_text(json.dumps(url_request(f"{base}/img.png")), encoding="utf-8")
    inline = tmp_path / "inline.json"
    inline.write_text(json.dumps(base64_request(png(640, 480), "image/png")), encoding="utf-8")

    def total(*args: str) -> int:
        return json.loads(run_main("count", *args, "--method", "heuristic", "--format", "json").stdout)["total"]

    assert total(str(path), "--fetch-media") == total(str(inline)) != total(str(path))
