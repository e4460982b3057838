#!/usr/bin/env python3
"""Open a results folder's report.html in headless Chromium and check it.

    browser_check.py DIR [--chromium PATH] [--shots DIR/screenshots] [--loads N]

Drives Debian's Chromium through the DevTools protocol over a pipe
(plots/chromium.py: standard library only).  Checks, one line per problem on
stderr:

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
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "plots"))
from chromium import Chromium, DriverError, find_chromium, take_screenshots  # noqa: E402

SECTIONS = ("machine", "headline", "workloads", "micro", "threads", "hyperfine", "warnings", "methods")


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


def timed_load(browser: Chromium, url: str) -> tuple[float, float]:
    """(seconds to the load event, Chromium's CPU seconds meanwhile) of one load."""
    cpu = browser.cpu_seconds()
    wall = browser.navigate(url)
    return wall, browser.cpu_seconds() - cpu


def run(folder: Path, binary: str, shots: Path, repeat: int = 1) -> tuple[list[str], dict]:
    report = (folder / "report.html").resolve()
    if not report.is_file():
        return [f"{report}: missing"], {}
    url = report.as_uri()
    profile = tempfile.mkdtemp(prefix="rtbench-chromium-")
    browser = Chromium(binary, profile)
    try:
        browser.open_page()
        browser.viewport(1280, 900, mobile=False)
        cpu_before = browser.cpu_seconds()
        load_s = browser.navigate(url)
        cpu_s = browser.cpu_seconds() - cpu_before
        timing = browser.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0];"
                                  " return n ? n.loadEventEnd : null; })()")
        timings = [(load_s, cpu_s)] + [timed_load(browser, url) for _ in range(repeat - 1)]
        facts = browser.evaluate(PAGE_FACTS)
        problems = check_page(facts, 1280)
        problems += check_sorting(browser)
        browser.viewport(390, 844, mobile=True)
        browser.navigate(url)
        phone = browser.evaluate(PAGE_FACTS)
        problems += [f"at 390 px: {p}" for p in check_page(phone, 390)]
        take_screenshots(browser, url, shots)
        problems += check_events(browser.events, url)
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)
    walls, cpus = sorted(w for w, _ in timings), sorted(c for _, c in timings)
    info = {"load_s": round(load_s, 3), "cpu_s": round(cpu_s, 3), "loads": len(timings),
            "min_s": round(walls[0], 3), "median_s": round(walls[len(walls) // 2], 3),
            "min_cpu_s": round(cpus[0], 3),
            "load_event_ms": round(timing, 1) if timing is not None else None,
            "charts": len(facts["charts"]), "not_drawn": len(facts["skipped"]),
            "size_bytes": report.stat().st_size}
    return problems, info


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path, help="a results folder with report.html")
    parser.add_argument("--chromium", help="the browser (default: /usr/bin/chromium)")
    parser.add_argument("--shots", type=Path, help="screenshot folder (default: DIR/screenshots)")
    parser.add_argument("--loads", type=int, default=1, metavar="N",
                        help="load the page N times and give the fastest and median time")
    args = parser.parse_args()
    binary = find_chromium(args.chromium)
    if binary is None:
        print("browser_check: no Chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    try:
        problems, info = run(args.dir, binary, args.shots or args.dir / "screenshots",
                             max(1, args.loads))
    except DriverError as exc:
        print(f"browser_check: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"browser_check: {problem}", file=sys.stderr)
    if not problems:
        print(f"browser_check: {args.dir}/report.html: {info['charts']} charts, "
              f"{info['not_drawn']} not drawn (each says why), sorting works, no console "
              f"error, no request; {info['size_bytes'] / 1e6:.2f} MB, load event at "
              f"{info['load_event_ms']} ms ({info['load_s']} s from navigation, "
              f"{info['cpu_s']} s of CPU in Chromium; load average {os.getloadavg()[0]:.1f})")
        if info["loads"] > 1:
            print(f"browser_check: {info['loads']} loads: fastest {info['min_s']} s, median "
                  f"{info['median_s']} s to the load event; least CPU {info['min_cpu_s']} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
