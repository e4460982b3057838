#!/usr/bin/env python3
"""Open a results folder's report.html in headless Chromium and check it.

    browser_check.py DIR [--chromium PATH] [--shots DIR/screenshots]

Drives Debian's Chromium through the DevTools protocol over a pipe
(``--remote-debugging-pipe``: JSON messages on descriptors 3 and 4, ended by
NUL), with the standard library only.  Checks, one line per problem on stderr:

* no console error, no uncaught exception, no failed request, and no request
  at all beyond the report itself (it must open offline);
* every section is there, every chart is an inline SVG of non-zero size, and
  every chart left out says why;
* sorting works: a click on a headline column orders its rows by that column,
  ascending, and a second click descending.

It writes screenshots (the top at 1280 px, the same at a phone's 390 px, the
cycle_storm tuning panel if there is one) to ``DIR/screenshots`` and prints a
line with the time from navigation to the load event.  Waits are on Chromium's
own events, each bounded by a timeout that fails the check; nothing sleeps.
Exit status: 0 all is well, 1 a check failed, 2 Chromium could not be driven.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SECTIONS = ("machine", "headline", "workloads", "micro", "hyperfine", "warnings", "methods")
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
            high_in, high_out = os.dup(to_child), os.dup(from_child)
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log,
            preexec_fn=descriptors, pass_fds=(3, 4, to_child, from_child))
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
                self.log.seek(0)
                tail = self.log.read().decode(errors="replace").strip().splitlines()[-3:]
                raise DriverError("Chromium closed the pipe: " + " | ".join(tail))
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, page: bool = True) -> dict:
        """Send a command and wait for its answer (events meanwhile are kept)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if page and self.session:
            message["sessionId"] = self.session
        os.write(self._write, json.dumps(message).encode() + b"\0")
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


# ---------------------------------------------------------------------------
# The checks

PAGE_FACTS = """
(() => {
  const size = el => { const r = el.getBoundingClientRect(); return [r.width, r.height]; };
  return {
    sections: Array.from(document.querySelectorAll('main > section[id]')).map(s => s.id),
    charts: Array.from(document.querySelectorAll('figure.chart')).map(f => {
      f.scrollIntoView();                 // rendered, not skipped (content-visibility)
      const svg = f.querySelector('.svg > svg');
      return {name: f.dataset.chart, svg: !!svg, size: svg ? size(svg) : [0, 0]}; }),
    skipped: Array.from(document.querySelectorAll('.skipped')).map(d => d.textContent),
    headline: document.querySelectorAll('#headline-table tbody tr').length,
    workloads: document.querySelectorAll('#workloads > section').length,
    width: document.documentElement.scrollWidth,
  };
})()
"""

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

SORT_CHECK = """
((column) => {
  const table = document.getElementById('headline-table');
  if (!table) return {error: 'no headline table'};
  const th = table.tHead.rows[0].cells[column];
  const keys = () => Array.from(table.tBodies[0].rows).map(r => {
    const v = r.cells[column].getAttribute('data-sort');
    return v === null || v === '' ? null : Number(v); });
  th.click(); const up = keys(); const upState = th.getAttribute('aria-sort');
  th.click(); const down = keys(); const downState = th.getAttribute('aria-sort');
  return {header: th.textContent, up, down, upState, downState};
})(%d)
"""


def sorted_with_nulls_last(values: list, descending: bool) -> bool:
    present = [v for v in values if v is not None]
    nulls_last = values[len(present):] == [None] * (len(values) - len(present))
    return nulls_last and present == sorted(present, reverse=descending)


def check_sorting(browser: Chromium) -> list[str]:
    header = browser.evaluate("Array.from(document.querySelectorAll('#headline-table th'))"
                              ".map(th => th.textContent)") or []
    column = next((i for i, h in enumerate(header) if "÷ CPython" in h), 2 if header else None)
    if column is None:
        return ["sorting: no headline table"]
    result = browser.evaluate(SORT_CHECK % column)
    if "error" in result:
        return [f"sorting: {result['error']}"]
    problems = []
    if len([v for v in result["up"] if v is not None]) < 2:
        problems.append(f"sorting: column {result['header']!r} has fewer than two values")
    if not sorted_with_nulls_last(result["up"], False) or result["upState"] != "ascending":
        problems.append(f"sorting: first click on {result['header']!r} gave {result['up']}")
    if not sorted_with_nulls_last(result["down"], True) or result["downState"] != "descending":
        problems.append(f"sorting: second click on {result['header']!r} gave {result['down']}")
    return problems


def check_page(facts: dict, width: int) -> list[str]:
    problems = [f"section #{s} missing" for s in SECTIONS if s not in facts["sections"]]
    if not facts["charts"]:
        problems.append("no chart in the report")
    for chart in facts["charts"]:
        w, h = chart["size"]
        if not chart["svg"] or w <= 0 or h <= 0:
            problems.append(f"chart {chart['name']}: no inline SVG of non-zero size ({w}x{h})")
    for text in facts["skipped"]:
        if "not drawn:" not in text:
            problems.append(f"a chart left out without a reason: {text[:80]!r}")
    if facts["headline"] < 1:
        problems.append("headline table has no row")
    if facts["workloads"] < 1:
        problems.append("no workload section")
    if facts["width"] > width + 1:
        problems.append(f"at {width} px the page is {facts['width']} px wide (scrolls sideways)")
    return problems


def check_events(events: list[dict], url: str) -> list[str]:
    problems = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            problems.append(f"console error: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            problems.append("uncaught exception: " + str(
                details.get("exception", {}).get("description") or details.get("text")))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            problems.append(f"browser error: {params['entry'].get('text')}")
        elif method == "Network.loadingFailed":
            problems.append(f"failed request: {params.get('errorText')}")
        elif method == "Network.requestWillBeSent":
            requested = params["request"]["url"]
            if requested != url and not requested.startswith("data:"):
                problems.append(f"request beyond the report: {requested}")
    return problems


def run(folder: Path, binary: str, shots: Path) -> tuple[list[str], dict]:
    report = (folder / "report.html").resolve()
    if not report.is_file():
        return [f"{report}: missing"], {}
    url = report.as_uri()
    shots.mkdir(parents=True, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="rtbench-chromium-")
    browser = Chromium(binary, profile)
    try:
        browser.open_page()
        browser.viewport(1280, 900, mobile=False)
        load_s = browser.navigate(url)
        timing = browser.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0];"
                                  " return n ? n.loadEventEnd : null; })()")
        browser.screenshot(shots / "report-1280.png")
        facts = browser.evaluate(PAGE_FACTS)
        problems = check_page(facts, 1280)
        problems += check_sorting(browser)
        browser.screenshot_element(shots / "report-tuning-cycle_storm.png",
                                   "c-tuning_cycle_storm", 1280)
        browser.viewport(390, 844, mobile=True)
        browser.navigate(url)
        browser.screenshot(shots / "report-390.png")
        phone = browser.evaluate(PAGE_FACTS)
        problems += [f"at 390 px: {p}" for p in check_page(phone, 390)]
        problems += check_events(browser.events, url)
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)
    info = {"load_s": round(load_s, 3),
            "load_event_ms": round(timing, 1) if timing is not None else None,
            "charts": len(facts["charts"]), "not_drawn": len(facts["skipped"]),
            "size_bytes": report.stat().st_size}
    return problems, info


def find_chromium(given: str | None) -> str | None:
    for candidate in (given, "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path, help="a results folder with report.html")
    parser.add_argument("--chromium", help="the browser (default: /usr/bin/chromium)")
    parser.add_argument("--shots", type=Path, help="screenshot folder (default: DIR/screenshots)")
    args = parser.parse_args()
    binary = find_chromium(args.chromium)
    if binary is None:
        print("browser_check: no Chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    try:
        problems, info = run(args.dir, binary, args.shots or args.dir / "screenshots")
    except DriverError as exc:
        print(f"browser_check: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"browser_check: {problem}", file=sys.stderr)
    if not problems:
        print(f"browser_check: {args.dir}/report.html: {info['charts']} charts, "
              f"{info['not_drawn']} not drawn (each says why), sorting works, no console "
              f"error, no request; {info['size_bytes'] / 1e6:.2f} MB, load event at "
              f"{info['load_event_ms']} ms ({info['load_s']} s from navigation)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
