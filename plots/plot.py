#!/usr/bin/python3
"""Chart an rtbench results folder, and write its summary and HTML report.

    plot.py DIR [--out CHARTDIR] [--format png,svg] [--no-summary] [--no-report]
                [--screenshots]

Writes, for whichever inputs DIR holds (CHARTDIR defaults to DIR/charts):

    tuning_all, tuning_<workload>   what threshold0 does: time, peak RSS, pauses,
                                    collections, as ratios to the default (chart_tuning)
    pauses_<workload>               GC pause percentile spectrum per threshold0 (chart_pauses)
    rss_timeline_<workload>         RSS over time with every GC pause (chart_timeline)
    arena_decay_<workload>          RSS over time at each arena decay, where a workload
                                    ran at two or more (chart_timeline)
    vs_cpython, variants, backends  ratios with intervals (chart_compare)
    micro_alloc, micro_refcount,    Google Benchmark microbenchmarks (chart_micro)
    micro_gc
    hyperfine_<name>                one chart per hyperfine-<name>.json (chart_hyperfine)
    threads                         throughput and GC pauses against threads, the
                                    threaded variants (threads.json; chart_threads)

and DIR/summary.md (summary.py) and DIR/report.html (report.py); with
--screenshots (what ``rtbench plot`` passes), pictures of the report taken in
headless Chromium, in DIR/screenshots (chromium.py; skipped, saying so, without
a Chromium).  A chart without enough data to say something is not drawn: stderr
and the report say why.

Problems go to stderr, one line each, prefixed ``plot:``; the files written go to
stdout, one path a line.  Exit status: 0, or 1 when a file could not be read (the
rest is still charted), or 2 when DIR is missing or holds no usable file.

Files are reproducible: the same input gives the same files (no date in the SVG,
no Software tag in the PNG, SVG ids numbered in order, seeded bootstrap).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chart_compare  # noqa: E402
import chart_hyperfine  # noqa: E402
import chart_micro  # noqa: E402
import chart_pauses  # noqa: E402
import chart_threads  # noqa: E402
import chart_timeline  # noqa: E402
import chart_tuning  # noqa: E402
import chartkit as ck  # noqa: E402
import chromium  # noqa: E402
import report  # noqa: E402
import rtresults as rr  # noqa: E402
import summary  # noqa: E402

# The chart families, in the order the report shows them.
FAMILIES: list[tuple[str, Callable[[rr.Results], list[ck.Chart]]]] = [
    ("chart_tuning", chart_tuning.charts),
    ("chart_pauses", chart_pauses.charts),
    ("chart_timeline", chart_timeline.charts),
    ("chart_compare", chart_compare.charts),
    ("chart_threads", chart_threads.charts),
    ("chart_micro", chart_micro.charts),
    ("chart_hyperfine", chart_hyperfine.charts),
]


def warn(message: str) -> None:
    print(f"plot: {message}", file=sys.stderr)


def save(chart: ck.Chart, out: Path, formats: list[str], keep_svg: bool) -> None:
    """Finish the figure, check its text, write its files, keep the report's SVG."""
    ck.finish(chart)
    out.mkdir(parents=True, exist_ok=True)
    if "png" in formats:
        chart.files.append(write(out / f"{chart.name}.png", ck.png_bytes(chart.figure)))
    if "svg" in formats or keep_svg:
        svg = ck.svg_text(chart.figure)
        if "svg" in formats:
            chart.files.append(write(out / f"{chart.name}.svg",
                                     ck.renumber_svg_ids(svg).encode("utf-8")))
        if keep_svg:
            chart.svg = ck.report_svg(svg, chart.body)
    chart.figure = None                         # the memory goes; ``drawn`` stays true


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def draw_all(results: rr.Results, out: Path, formats: list[str],
             keep_svg: bool) -> list[ck.Chart]:
    charts = []
    with ck.style():
        for module, family in FAMILIES:
            for chart in family(results):
                chart.module = module
                if chart.drawn:
                    save(chart, out, formats, keep_svg)
                    for overlap in chart.overlaps:
                        warn(f"{chart.name}: overlapping text: {overlap}")
                else:
                    warn(f"{chart.name} not drawn: {chart.skipped}")
                charts.append(chart)
    return charts


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="plot.py", description="Chart an rtbench results folder; write its summary "
                                    "and report.")
    parser.add_argument("dir", type=Path, help="the results folder")
    parser.add_argument("--out", type=Path, help="chart folder (default: DIR/charts)")
    parser.add_argument("--format", default="png,svg",
                        help="comma-separated formats among png, svg (default: png,svg)")
    parser.add_argument("--no-summary", action="store_true", help="do not write summary.md")
    parser.add_argument("--no-report", action="store_true", help="do not write report.html")
    parser.add_argument("--screenshots", action="store_true",
                        help="picture the report in headless Chromium (DIR/screenshots)")
    args = parser.parse_args(argv)
    args.formats = [f.strip().lower() for f in args.format.split(",") if f.strip()]
    bad = [f for f in args.formats if f not in ("png", "svg")]
    if bad or not args.formats:
        parser.error(f"--format: unsupported {', '.join(bad) or 'empty list'} "
                     "(use png, svg)")
    return args


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    results = rr.load_for_script(args.dir, "charting", warn)
    if results is None:
        return 2
    out = args.out or args.dir / "charts"
    charts = draw_all(results, out, args.formats, keep_svg=not args.no_report)
    written = [path for chart in charts for path in chart.files]
    if not args.no_summary:
        written.append(summary.write(results, args.dir / "summary.md"))
    if not args.no_report:
        page = report.write(results, charts, args.dir / "report.html", command=plot_command(args))
        written.append(page)
        if args.screenshots:
            written += screenshots(page, args.dir / "screenshots")
    for path in written:
        print(path)
    return 1 if results.errors else 0


def screenshots(page: Path, shots: Path) -> list[Path]:
    try:
        return chromium.screenshots(page, shots)
    except (chromium.DriverError, OSError) as exc:
        warn(f"no screenshots of the report: {exc}")
        return []


def plot_command(args: argparse.Namespace) -> str:
    """How to draw these charts again, for the report."""
    text = f"rtbench plot {args.dir}"
    return text + (f" --out {args.out}" if args.out else "")


if __name__ == "__main__":
    sys.exit(main())
