"""Headless Chromium over the DevTools pipe, with the standard library only.

``Chromium`` starts Debian's chromium with ``--remote-debugging-pipe`` (JSON
messages on descriptors 3 and 4, each ended by NUL), opens one page and sends
it commands; events that arrive meanwhile are kept for the caller.  Every wait
is on Chromium's own answer or event, bounded by TIMEOUT_S; nothing sleeps.

``screenshots`` takes the report's pictures: the top at 1280 px, the same at a
phone's 390 px, and cycle_storm's tuning panel whole.  ``plot.py --screenshots``
and ``tests/browser_check.py`` use it.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional

TIMEOUT_S = 120
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                  "--remote-debugging-pipe")


class DriverError(Exception):
    """Chromium could not be started or stopped answering."""


class Chromium:
    """A headless Chromium and one page, spoken to over the DevTools pipe."""

    def __init__(self, binary: str, profile: str):
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()

        def descriptors():               # in the child: the pipe on 3 (in) and 4 (out)
            # Copies above 4 first (either end may be 3 or 4 already); dup2's copies
            # are inherited by chromium, every other descriptor is close-on-exec.
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_child, from_child)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log,
            preexec_fn=descriptors, close_fds=False)
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        self.session = None

    # -- the protocol --------------------------------------------------------

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._read], [], [], max(left, 0))
            if not ready:
                raise DriverError("no answer from Chromium in time")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise DriverError("Chromium closed the pipe: " + self.log_tail())
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def log_tail(self) -> str:
        """The last lines Chromium wrote on stderr."""
        self.log.seek(0)
        lines = self.log.read().decode(errors="replace").strip().splitlines()[-3:]
        code = self.proc.poll()
        return " | ".join(lines + ([f"exit status {code}"] if code is not None else []))

    def send(self, method: str, params: dict | None = None, page: bool = True) -> dict:
        """Send a command and wait for its answer (events meanwhile are kept)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if page and self.session:
            message["sessionId"] = self.session
        try:
            os.write(self._write, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise DriverError("Chromium is gone: " + self.log_tail()) from None
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise DriverError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict:
        """The next event named ``method`` (one already received counts)."""
        deadline = time.monotonic() + TIMEOUT_S
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        while True:
            event = self._receive(deadline)
            if event.get("method") == method:
                return event
            self.events.append(event)

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise DriverError(f"script failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    # -- a page ----------------------------------------------------------------

    def open_page(self) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"}, page=False)
        attached = self.send("Target.attachToTarget",
                             {"targetId": target["targetId"], "flatten": True}, page=False)
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")

    def viewport(self, width: int, height: int, mobile: bool) -> None:
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def navigate(self, url: str) -> float:
        """Load ``url``; returns the seconds from the request to the load event."""
        started = time.monotonic()
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")
        return time.monotonic() - started

    def cpu_seconds(self) -> float:
        """User and system CPU time of Chromium's processes so far (on a busy
        machine a fairer measure of work than the wall clock)."""
        children: dict[int, list[int]] = {}
        ticks: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
            ticks[int(entry)] = int(fields[11]) + int(fields[12])      # utime, stime
        total, todo = 0, [self.proc.pid]
        while todo:
            pid = todo.pop()
            total += ticks.get(pid, 0)
            todo += children.get(pid, [])
        return total / os.sysconf("SC_CLK_TCK")

    def screenshot(self, path: Path) -> None:
        """The viewport, as PNG."""
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))

    def screenshot_element(self, path: Path, ident: str, width: int) -> bool:
        """One element, whole: the viewport is made as tall as the element, the
        element rendered and scrolled to its top; False when there is no such
        element."""
        box = self.evaluate(ELEMENT_BOX % ident)
        if box is None:
            return False
        self.viewport(width, int(box["height"]) + 1, mobile=False)
        self.evaluate(ELEMENT_BOX % ident)          # again, in the taller viewport
        self.screenshot(path)
        return True

    def close(self) -> None:
        try:
            self.send("Browser.close", page=False)
        except (DriverError, OSError):
            pass
        try:
            self.proc.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._write)
        os.close(self._read)
        self.log.close()


# An element made visible (content-visibility skips what is off screen) and
# scrolled to the top of the viewport; its size resolves after two frames.
ELEMENT_BOX = """
new Promise(resolve => {
  const e = document.getElementById('%s');
  if (!e) { resolve(null); return; }
  e.style.contentVisibility = 'visible';
  e.scrollIntoView({block: 'start'});
  requestAnimationFrame(() => requestAnimationFrame(() => {
    const r = e.getBoundingClientRect();
    resolve({width: r.width, height: r.height});
  }));
})
"""

SHOTS = {"desktop": "report-1280.png", "phone": "report-390.png",
         "tuning": "report-tuning-cycle_storm.png"}


def take_screenshots(browser: Chromium, url: str, shots: Path) -> list[Path]:
    """The report's pictures, with ``browser`` already on a page."""
    shots.mkdir(parents=True, exist_ok=True)
    written = []
    browser.viewport(1280, 900, mobile=False)
    browser.navigate(url)
    browser.screenshot(shots / SHOTS["desktop"])
    written.append(shots / SHOTS["desktop"])
    if browser.screenshot_element(shots / SHOTS["tuning"], "c-tuning_cycle_storm", 1280):
        written.append(shots / SHOTS["tuning"])
    browser.viewport(390, 844, mobile=True)
    browser.navigate(url)
    browser.screenshot(shots / SHOTS["phone"])
    written.append(shots / SHOTS["phone"])
    return written


def screenshots(report: Path, shots: Path, binary: Optional[str] = None) -> list[Path]:
    """Open ``report`` in a fresh headless Chromium and take its pictures."""
    binary = find_chromium(binary)
    if binary is None:
        raise DriverError("no Chromium (apt-get install chromium)")
    profile = tempfile.mkdtemp(prefix="rtbench-chromium-")
    browser = Chromium(binary, profile)
    try:
        browser.open_page()
        return take_screenshots(browser, report.resolve().as_uri(), shots)
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)


def find_chromium(given: Optional[str] = None) -> Optional[str]:
    for candidate in (given, "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None
