"""The Google Benchmark microbenchmarks (``micro.json``), as dots with intervals.

* ``micro_alloc``: one allocation and free per family (``alloc_free``: a LIFO
  pair; ``alloc_free_random``: a random free over a million live blocks;
  ``alloc_free_empty``: a pair on an empty heap), each backend ÷ pool per
  object size on a log ratio axis, the debug backend in a panel of its own;
  pool's own time in the row label.
* ``micro_refcount``: ns per incref+decref pair, plain and atomic, and per thread
  count for the private and shared variants.
* ``micro_gc``: a full collection per object of the heap, and a young
  allocation (collections included) per threshold0.

Intervals: 95% bootstrap over Google Benchmark's repetitions; with fewer than
three repetitions the dots stand alone and the caption says so.
"""

from __future__ import annotations

import re
from typing import Callable

from matplotlib.axes import Axes
from matplotlib.lines import Line2D

import chartkit as ck
import rtpeers as rp
import rtresults as rr
import rtstats as rs

ALLOC_FAMILIES = {
    "alloc_free": "alloc_free: an allocation and its free (LIFO)",
    "alloc_free_random": "alloc_free_random: free at random, a million live blocks",
    "alloc_free_empty": "alloc_free_empty: a pair on an empty heap",
}
DEBUG = "debug"


def values(bench: rp.MicroBench) -> list[float]:
    """The repetitions' times, or the centre alone."""
    return list(bench.seconds.values) or [bench.seconds.median]


def micro_foot(micro: rp.MicroFile, benches: list[rp.MicroBench], runs) -> list[str]:
    reps = sorted({len(b.seconds.values) or 1 for b in benches})
    counts = "/".join(map(str, reps)) + (" repetition" if reps == [1] else " repetitions")
    foot = [rr.micro_machine_line(micro, runs),
            f"Google Benchmark real time, {counts}; "
            + ("dots: medians, bars: 95% bootstrap interval (seeded)." if reps[-1] >= 3
               else "too few repetitions for an interval.")]
    notes = []
    if micro.context.get("library_build_type") == "debug":
        notes.append("Google Benchmark itself was built as debug (Debian's package)")
    if micro.context.get("cpu_scaling_enabled"):
        notes.append("CPU frequency scaling was enabled")
    return foot + ck.notes_line(notes)


def size_key(text: str) -> tuple:
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


# ---------------------------------------------------------------------------
# Allocation


def alloc_rows(benches: list[rp.MicroBench], family: str):
    """sizes, pool's bench per size, {backend: [Comparison-like (size, ratio)]}."""
    mine = {(b.args[0], b.args[1]): b for b in benches
            if b.family == family and len(b.args) >= 2}
    sizes = sorted({s for _, s in mine}, key=size_key)
    pool = {s: mine.get((rr.DEFAULT_ALLOC, s)) for s in sizes}
    backends = sorted({a for a, _ in mine if a != rr.DEFAULT_ALLOC},
                      key=lambda a: rr.axis_order(a, rr.ALLOC_ORDER))
    ratios = {}
    for alloc in backends:
        ratios[alloc] = {s: rs.ratio_of_medians(values(mine[(alloc, s)]), values(pool[s]),
                                                f"{family}/{alloc}/{s}")
                         for s in sizes if (alloc, s) in mine and pool[s] is not None}
    return sizes, pool, ratios


def ratio_rows_panel(ax: Axes, sizes: list[str], ratios: dict[str, dict], labels: list[str]):
    n = len(ratios)
    for j, (alloc, by_size) in enumerate(ratios.items()):
        offset = (j - (n - 1) / 2) * (0.7 / max(n, 1))
        for i, size in enumerate(sizes):
            if by_size.get(size):
                ck.ratio_dot(ax, i + offset, by_size[size], ck.backend_color(alloc), size=4.5)
    ck.one_line(ax, vertical=True)
    ax.set_yticks(range(len(sizes)))
    ax.set_yticklabels(labels)
    ax.set_ylim(len(sizes) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    low, high = ck.ratio_limits(r for by in ratios.values() for r in by.values())
    ck.ratio_axis(ax, "x", low, high)


def alloc_verdict(family: str, ratios: dict[str, dict]) -> str:
    parts = []
    for alloc, by_size in ratios.items():
        rated = [r for r in by_size.values() if r]
        if rated:
            low, high = min(r.value for r in rated), max(r.value for r in rated)
            span = rs.format_ratio(low) if low == high else \
                f"{rs.format_ratio(low)} to {rs.format_ratio(high)}"
            parts.append(f"{alloc} {span}")
    return f"{family}, backend ÷ pool: " + "; ".join(parts) + "."


def alloc_chart(micro: rp.MicroFile, runs) -> ck.Chart:
    name, title = "micro_alloc", "Allocator microbenchmarks: each backend ÷ pool"
    used = [b for b in micro.benches if b.family in ALLOC_FAMILIES and len(b.args) >= 2]
    families = [f for f in ALLOC_FAMILIES if any(b.family == f for b in used)]
    tables = {f: alloc_rows(used, f) for f in families}
    families = [f for f in families if any(tables[f][2].values())]
    if not families:
        why = ("no alloc_free benchmark" if not used else
               "no backend beside pool to compare (or no pool)")
        return ck.not_drawn(name, "micro", title, why, [micro.path.name])
    has_debug = any(DEBUG in tables[f][2] for f in families)
    ncols = 2 if has_debug else 1
    rows = sum(len(tables[f][0]) for f in families)
    fig, axes = ck.new_figure(10.0 if has_debug else 7.5, 1.2 + 0.3 * rows + 0.9 * len(families),
                              len(families), ncols, width_ratios=[3, 1.3][:ncols],
                              height_ratios=[max(1, len(tables[f][0])) for f in families])
    captions = []
    handles = {}
    for row, family in enumerate(families):
        sizes, pool, ratios = tables[family]
        labels = [f"{s} B  (pool {rs.format_seconds(pool[s].seconds.median)})"
                  if pool[s] else f"{s} B" for s in sizes]
        real = {a: r for a, r in ratios.items() if a != DEBUG}
        debug = {a: r for a, r in ratios.items() if a == DEBUG}
        ratio_rows_panel(axes[row, 0], sizes, real, labels)
        axes[row, 0].set_title(ALLOC_FAMILIES[family], fontsize=8.5)
        if has_debug:
            if debug:
                ratio_rows_panel(axes[row, 1], sizes, debug, [""] * len(sizes))
                axes[row, 1].set_title("debug ÷ pool", fontsize=8.5)
            else:
                axes[row, 1].set_axis_off()
        for alloc in ratios:
            handles[alloc] = Line2D([], [], color=ck.backend_color(alloc), marker="o",
                                    linestyle="none", label=alloc)
        captions.append(alloc_verdict(family, ratios))
    axes[-1, 0].set_xlabel("time ÷ pool's (log scale; below 1×: faster than pool)")
    axes[0, -1].legend(handles=list(handles.values()), title="backend", loc="upper left",
                       bbox_to_anchor=(1.02, 1.0))
    chart = ck.Chart(name, "micro", title, caption=captions, sources=[micro.path.name],
                     figure=fig)
    chart.foot = micro_foot(micro, used, runs) + captions
    return chart


# ---------------------------------------------------------------------------
# Reference counting and the collector


def absolute_panel(ax: Axes, rows: list[tuple[str, rp.MicroBench, float]], color_of: Callable):
    """One dot per benchmark: its median (÷ the row's divisor) and interval, log x,
    the value written beside it."""
    points = [rs.median_interval([v / divisor for v in values(bench)], bench.name)
              for _, bench, divisor in rows]
    for i, ((_, bench, _), point) in enumerate(zip(rows, points)):
        ck.ratio_dot(ax, i, point, color_of(bench), filled=True, size=5)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([label for label, _, _ in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    low, high = ck.ratio_limits(points)
    low, high = low / 1.6, high * 2.5
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ck.log_seconds_axis(ax.xaxis, low, high)
    ax.figure.canvas.draw()
    ck.place_labels(ax, [(p.high or p.value, i, rs.format_seconds(p.value))
                         for i, p in enumerate(points)], fontsize=6.5)


def rc_color(bench: rp.MicroBench):
    return ck.SERIES_COLORS[1] if "atomic" in bench.args and "nonatomic" not in bench.args \
        else ck.SERIES_COLORS[0]


def refcount_chart(micro: rp.MicroFile, runs) -> ck.Chart:
    name, title = "micro_refcount", "Reference counting: one incref and decref"
    benches = [b for b in micro.benches if b.family.startswith("incref_decref")]
    if not benches:
        return ck.not_drawn(name, "micro", title, "no incref_decref benchmark", [micro.path.name])
    rows = [(bench_label(b), b, 1.0) for b in benches]
    fig, axes = ck.new_figure(8.0, 1.3 + 0.32 * len(rows) + 0.6)
    absolute_panel(axes[0, 0], rows, rc_color)
    axes[0, 0].set_xlabel("time per incref+decref pair (log scale)")
    captions = []
    by_name = {b.name: b for b in benches}
    plain, atomic = by_name.get("incref_decref/nonatomic"), by_name.get("incref_decref/atomic")
    if plain and atomic:
        ratio = rs.ratio_of_medians(values(atomic), values(plain), "incref_decref atomic")
        captions.append(f"One thread: atomic ÷ nonatomic {ratio.text()} "
                        f"({rs.format_seconds(atomic.seconds.median)} vs "
                        f"{rs.format_seconds(plain.seconds.median)}).")
    captions.append("private: each thread its own objects; shared: every thread the same "
                    "objects (threads:N).")
    chart = ck.Chart(name, "micro", title, caption=captions, sources=[micro.path.name],
                     figure=fig)
    chart.foot = micro_foot(micro, benches, runs) + captions
    return chart


def bench_label(bench: rp.MicroBench) -> str:
    """``incref_decref_private atomic, 2 threads``."""
    threads = re.search(r"threads:(\d+)", bench.name)
    text = " ".join([bench.family] + bench.args)
    if threads:
        text += f", {rs.plural(int(threads.group(1)), 'thread')}"
    return text


def gc_rows(benches: list[rp.MicroBench]) -> tuple[list, list]:
    """(full-collection rows per object, young-allocation rows)."""
    full, young = [], []
    for b in benches:
        arg = b.args[0] if b.args and b.args[0].isdigit() else None
        if b.family in ("gc_collect_live", "gc_collect_cycles") and arg:
            what = "live heap" if b.family == "gc_collect_live" else "unreachable cycles"
            full.append((f"{what}, {int(arg):,} objects", b, float(arg)))
        elif b.family == "gc_young" and arg:
            young.append((f"threshold0 {arg}", b, 1.0))
    return full, young


def gc_chart(micro: rp.MicroFile, runs) -> ck.Chart:
    name, title = "micro_gc", "The collector: a full collection and a young allocation"
    benches = [b for b in micro.benches if b.family.startswith("gc_")]
    full, young = gc_rows(benches)
    panels = [(rows, label) for rows, label in (
        (full, "full collection, per object of the heap"),
        (young, "tracked allocation dying in a cycle, young collections included"))
        if rows]
    if not panels:
        return ck.not_drawn(name, "micro", title, "no gc_* benchmark", [micro.path.name])
    heights = [len(rows) for rows, _ in panels]
    fig, axes = ck.new_figure(8.0, 1.4 + 0.34 * sum(heights) + 0.8 * len(panels), len(panels), 1,
                              gridspec_kw={"height_ratios": heights})
    for ax, (rows, label) in zip(axes[:, 0], panels):
        absolute_panel(ax, rows, lambda b: ck.SERIES_COLORS[2 if b.family == "gc_young" else 3])
        ax.set_title(label, fontsize=8.5)
        ax.set_xlabel("time (log scale)")
    caption = ["Full collection: Google Benchmark's time per collection divided by the "
               "objects in the heap."] if full else []
    chart = ck.Chart(name, "micro", title, caption=caption, sources=[micro.path.name],
                     figure=fig)
    chart.foot = micro_foot(micro, benches, runs) + caption
    return chart


def charts(results: rr.Results) -> list[ck.Chart]:
    micro = results.micro
    if micro is None:
        return [ck.not_drawn("micro_alloc", "micro", "Microbenchmarks",
                             "no micro.json in the folder")]
    if not micro.benches:
        return [ck.not_drawn("micro_alloc", "micro", "Microbenchmarks",
                             f"{micro.path.name}: no benchmark with a time")]
    return [alloc_chart(micro, results.runs), refcount_chart(micro, results.runs),
            gc_chart(micro, results.runs)]

