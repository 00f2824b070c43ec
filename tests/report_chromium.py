"""Open a report in real headless Chromium, as a person would, with the network off; say what rendered.

Debian's `chromium` is driven over the Chrome DevTools Protocol through `--remote-debugging-pipe` (JSON
messages separated by NUL bytes on file descriptors 3 and 4): no websocket client, no downloaded browser.
The network is off three ways: the machine's flags against background traffic, a proxy on a closed loopback
port for anything else, and DevTools' offline emulation for the page; and every request the page makes is
recorded, so a test can assert it made none beyond its own file.

Used by `tests/test_report_browser.py` and by `python tests/report_chromium.py` to refresh the screenshots
in docs/.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VIEWPORT_HEIGHT = 1000
CHROMIUM = os.environ.get("COSTPLAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    "--proxy-server=127.0.0.1:9",  # the discard port, closed: any request that escapes the checks fails
    "--proxy-bypass-list=<-loopback>",
    "--remote-debugging-pipe",
]

# Resolves once the page is loaded and every chart has said it drew, or after WAIT_MS; then INSPECT runs.
WAIT = r"""
new Promise(resolve => {
  const until = Date.now() + WAIT_MS;
  const done = () => {
    const root = document.documentElement;
    return document.readyState === 'complete' && root.dataset.charts !== undefined
      && Number(root.dataset.chartsRendered || 0) >= Number(root.dataset.charts);
  };
  const poll = () => (done() || Date.now() > until) ? resolve() : setTimeout(poll, 10);
  poll();
}).then(() => """

# What the page says about its charts.
INSPECT = r"""
(() => {
  const boxes = [...document.querySelectorAll('[data-chart]')];
  return JSON.stringify({
    expected: Number(document.documentElement.dataset.charts),
    rendered: Number(document.documentElement.dataset.chartsRendered || 0),
    charts: boxes.map(box => {
      const svg = box.querySelector('svg');
      return {
        id: box.id,
        label: box.getAttribute('aria-label'),
        height: box.getBoundingClientRect().height,
        shapes: svg ? svg.querySelectorAll('path, rect, polyline, polygon, circle').length : 0,
        text: svg ? [...svg.querySelectorAll('text')].map(t => t.textContent).join(' | ') : '',
        table: !!box.parentElement.querySelector('details table'),
      };
    }),
    height: document.documentElement.scrollHeight,
  });
})())
"""


@dataclass
class PageResult:
    """What a page did: its charts as the DOM shows them, its console errors, every URL it requested."""

    expected: int
    rendered: int
    charts: list[dict[str, Any]]
    errors: list[str]
    requests: list[str]
    height: int
    seconds: float
    screenshot: Path | None = None
    events: list[str] = field(default_factory=list)


class BrowserError(RuntimeError):
    pass


class Chromium:
    """One headless browser for many pages; one tab at a time."""

    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="costplan-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # the browser's ends above 9, so moving them to 3 and 4 in the shell never closes one over another
        to_browser_r, from_browser_w = (_above_nine(fd) for fd in (to_browser_r, from_browser_w))
        script = f'exec "$@" 3<&{to_browser_r} 4>&{from_browser_w} {to_browser_r}<&- {from_browser_w}>&-'
        self.process = subprocess.Popen(
            ["/bin/bash", "-c", script, "bash", CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            pass_fds=(to_browser_r, from_browser_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    # --- the protocol ---------------------------------------------------------------------------------

    def _read_message(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium closed its pipe (exit code {self.process.poll()})")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self._events.append(answer)

    def _drain(self, session: str, until: float) -> None:
        """Collect events until `until` (monotonic), without sending anything."""
        while time.monotonic() < until:
            try:
                self._events.append(self._read_message(until))
            except BrowserError:
                return

    # --- a page ---------------------------------------------------------------------------------------

    def open(
        self, path: Path, *, width: int = 1280, screenshot: Path | None = None, clip_height: int | None = None
    ) -> PageResult:
        """Load `path`, wait until every chart says it rendered, inspect the DOM, and take a screenshot."""
        started = time.monotonic()
        self._events = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.send(f"{domain}.enable", session=session)
            self.send(
                "Network.emulateNetworkConditions",
                {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
                session=session,
            )
            self.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": VIEWPORT_HEIGHT, "deviceScaleFactor": 1, "mobile": False},
                session=session,
            )
            self.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
            self._wait_for_event("Page.loadEventFired", time.monotonic() + self.timeout)
            info = self._wait_for_charts(session, time.monotonic() + self.timeout)
            shot = None
            if screenshot is not None:
                height = min(info["height"], clip_height or VIEWPORT_HEIGHT)
                shot_params: dict[str, Any] = {"format": "png"}
                if height > VIEWPORT_HEIGHT:  # beyond the window: slower, for the documentation's long shots
                    clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
                    shot_params.update({"captureBeyondViewport": True, "clip": clip})
                data = self.send("Page.captureScreenshot", shot_params, session=session)["data"]
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                screenshot.write_bytes(base64.b64decode(data))
                shot = screenshot
            self._drain(session, time.monotonic() + 0.1)  # late console messages
        finally:
            self.send("Target.closeTarget", {"targetId": target})
        return PageResult(
            expected=info["expected"],
            rendered=info["rendered"],
            charts=info["charts"],
            errors=self._errors(),
            requests=self._requests(),
            height=info["height"],
            seconds=time.monotonic() - started,
            screenshot=shot,
        )

    def _wait_for_event(self, method: str, deadline: float) -> None:
        """Read until `method` arrives (it may have already), so nothing is asked of the page before it loads."""
        seen = len([e for e in self._events if e.get("method") == method])
        while not seen:
            event = self._read_message(deadline)
            self._events.append(event)
            seen = event.get("method") == method

    def _wait_for_charts(self, session: str, deadline: float) -> dict[str, Any]:
        """Inspect the page once every chart says it drew (or at the deadline, to report what did)."""
        wait_ms = max(0, int((deadline - time.monotonic()) * 1000) - 500)
        waiting = WAIT.replace("WAIT_MS", str(wait_ms)) + INSPECT
        answer = self.send(
            "Runtime.evaluate", {"expression": waiting, "returnByValue": True, "awaitPromise": True}, session=session
        )
        value = answer.get("result", {}).get("value")
        if not isinstance(value, str):
            raise BrowserError(f"the page never answered: {answer}")
        return dict(json.loads(value))

    def _errors(self) -> list[str]:
        out = []
        for event in self._events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                out.append(f"exception: {details.get('exception', {}).get('description') or details.get('text')}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
                out.append(
                    f"console.{params['type']}: "
                    + " ".join(str(a.get("value", a.get("description"))) for a in params.get("args", []))
                )
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
                out.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
        return out

    def _requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self._events if e.get("method") == "Network.requestWillBeSent"]

    def close(self) -> None:
        with contextlib.suppress(BrowserError, OSError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _above_nine(fd: int) -> int:
    import fcntl

    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


def available() -> bool:
    return os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


if __name__ == "__main__":  # refresh docs/report-*.png: python tests/report_chromium.py
    import sys

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    import costplan
    import costplan.report

    out = root / "docs"
    with tempfile.TemporaryDirectory() as tmp, Chromium() as browser:
        for workload in sorted((root / "examples").glob("*.yaml")):
            estimate = costplan.estimate(workload, samples=300, method="heuristic")
            page = Path(tmp) / f"{workload.stem}.html"
            page.write_text(costplan.report.html(estimate, workload=workload), encoding="utf-8")
            result = browser.open(page, screenshot=out / f"report-{workload.stem}.png", clip_height=1700)
            drew = f"{result.rendered}/{result.expected} charts"
            print(f"{workload.name}: {drew}, {result.seconds:.1f} s, errors {result.errors}")
