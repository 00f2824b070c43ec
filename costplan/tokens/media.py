"""Size images and PDFs given by URL, reading as little of each as it takes: opt-in, never by default.

The offline heuristic cannot know what an image or a document behind a URL costs; the API fetches it and counts
its pixels or pages. With `fetch_media=True` (`costplan count --fetch-media`) the heuristic does the same, within
limits: an image is read until its header gives the pixel size (a few bytes for PNG, GIF and WebP, the markers
before the frame for JPEG); a PDF is read until it says how many pages it has (the first kilobytes of a
linearized PDF), else whole up to a size limit. Every fetch has a wall-clock deadline (the caller gets its answer
by then even from a server that trickles one byte at a time); only http and https are followed; nothing is
cached, sent along (no cookies, no keys) or printed beyond the URL's host.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass

from costplan.tokens.images import ImageSize, image_size
from costplan.tokens.pdf import PdfInfo, pdf_info

_LINEARIZED_PAGES = re.compile(rb"/Linearized\b[^>]*?/N\s+(\d+)", re.S)
_CHUNK = 16 << 10


@dataclass(frozen=True)
class MediaSettings:
    """Limits of one fetch: the deadline covers connecting, redirects and reading."""

    timeout: float = 10.0  # seconds per URL, wall clock, connecting and redirects included
    max_image_bytes: int = 1 << 20  # an image header sits in the first bytes; JPEG metadata can push it further
    max_pdf_bytes: int = 32 << 20  # the API's own request limit: a larger PDF could not be sent anyway


@dataclass(frozen=True)
class Fetched:
    """What one URL gave: a size, or the reason there is none (safe to show: no URL path or query in it)."""

    size: ImageSize | PdfInfo | None
    reason: str | None = None


class _HttpOnly(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201 - urllib's signature
        if urllib.parse.urlsplit(newurl).scheme not in ("http", "https"):
            return None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    # No cookie jar, no proxy auth, no credentials of any kind: only the redirect rule above differs from urllib's.
    return urllib.request.build_opener(_HttpOnly)


def host_of(url: str) -> str:
    """The part of a URL that is safe to print (signed URLs carry keys in their query)."""
    return urllib.parse.urlsplit(url).hostname or "?"


def fetch(url: str, kind: str, settings: MediaSettings | None = None) -> Fetched:
    """Size the image (`kind="image"`) or document (`"document"`) at `url`; never raises for network trouble.

    The fetch runs in a daemon thread so that the deadline holds whatever the server does; a thread still
    blocked at the deadline ends at its own socket timeout, and stops reading at the next chunk.
    """
    settings = settings or MediaSettings()
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        return Fetched(None, "only http and https URLs are fetched")
    deadline = time.monotonic() + settings.timeout
    result: list[Fetched] = []
    worker = threading.Thread(target=lambda: result.append(_fetch(url, kind, settings, deadline)), daemon=True)
    worker.start()
    worker.join(settings.timeout)
    return result[0] if result else _late(url, settings)


def _fetch(url: str, kind: str, settings: MediaSettings, deadline: float) -> Fetched:
    limit = settings.max_image_bytes if kind == "image" else settings.max_pdf_bytes
    headers = {"User-Agent": "costplan (sizing media for a token estimate)", "Accept-Encoding": "identity"}
    if kind == "image":
        headers["Range"] = f"bytes=0-{limit - 1}"  # a hint: a server that ignores it is still read only this far
    request = urllib.request.Request(url, headers=headers)
    try:
        with _opener().open(request, timeout=max(0.1, settings.timeout)) as response:
            data = bytearray()
            while len(data) < limit and time.monotonic() < deadline:
                chunk = response.read1(min(_CHUNK, limit - len(data)))  # what has arrived, not a full chunk
                if not chunk:
                    break
                data += chunk
                found = _size(bytes(data), kind, complete=False)
                if found is not None:
                    return Fetched(found)
            found = _size(bytes(data), kind, complete=True)
            if found is not None:
                return Fetched(found)
            if len(data) >= limit:
                return Fetched(None, f"{host_of(url)}: not sized within the first {limit} bytes")
            if time.monotonic() >= deadline:
                return _late(url, settings)
            return Fetched(None, f"{host_of(url)}: not a readable {'image' if kind == 'image' else 'PDF'}")
    except urllib.error.HTTPError as exc:
        return Fetched(None, f"{host_of(url)}: HTTP {exc.code}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc.__class__.__name__
        if isinstance(exc, TimeoutError) or isinstance(reason, TimeoutError):
            return _late(url, settings)  # the socket's timeout can fire just before fetch() stops waiting
        return Fetched(None, f"{host_of(url)}: {reason}")


def _late(url: str, settings: MediaSettings) -> Fetched:
    """One message for a fetch past its deadline, whichever of the socket or the wait noticed first."""
    return Fetched(None, f"{host_of(url)}: no answer within {settings.timeout:g} s")


def _size(data: bytes, kind: str, *, complete: bool) -> ImageSize | PdfInfo | None:
    if kind == "image":
        return image_size(data)
    if not data.startswith(b"%PDF"):
        return None
    linearized = _LINEARIZED_PAGES.search(data[:4096])
    if linearized:  # the first object of a linearized PDF states the page count
        info = pdf_info(data)
        pages = int(linearized.group(1))
        return PdfInfo(pages, info.width_pt, info.height_pt, info.text_chars) if info else None
    return pdf_info(data) if complete else None


def fetch_all(
    sources: Iterable[tuple[str, str]], settings: MediaSettings | None = None
) -> tuple[dict[str, ImageSize | PdfInfo | None], list[str]]:
    """Sizes by URL for `heuristic.estimate(media=...)`, and one note per URL that could not be sized."""
    sizes: dict[str, ImageSize | PdfInfo | None] = {}
    notes: list[str] = []
    for kind, url in sources:
        if url in sizes:
            continue
        result = fetch(url, kind, settings)
        sizes[url] = result.size
        if result.reason:
            notes.append(f"could not size a{'n image' if kind == 'image' else ' document'} by URL ({result.reason})")
    return sizes, notes
