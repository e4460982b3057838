#!/usr/bin/python3
"""Chart an rtbench results folder.

    plot.py DIR [--out CHARTDIR] [--format png,svg]

Writes, for whichever inputs DIR holds (CHARTDIR defaults to DIR/charts):

    sweep_all, sweep_<workload>     time and peak RSS against threshold0
    pareto_<workload>               time against peak RSS over a sweep
    gc_pause_cdf_<workload>         GC pause distribution per threshold0
    variants                        refcount variants x allocator backends
    rss_timeline_<workload>         RSS over time of the default configuration
                                    (<workload>_<params> where a workload has several)
    vs_cpython                      rtbench against the CPython twins
    micro, micro_other              Google Benchmark microbenchmarks
    hyperfine_<name>                one chart per hyperfine-<name>.json

Problems go to stderr, one line each, prefixed ``plot:``; the charts written go to
stdout, one path a line.  Exit status: 0, or 1 when a file could not be read (the
rest is still charted), or 2 when DIR is missing or holds no usable file.

Files are reproducible: the same input gives the same files (no date in the SVG,
no Software tag in the PNG, a fixed SVG id salt, no randomness).
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from pathlib import Path
from typing import Callable, Iterable, Optional

import matplotlib

matplotlib.use("Agg")            # before pyplot: no display, same output everywhere

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np               # noqa: E402
from matplotlib import ticker    # noqa: E402
from matplotlib.lines import Line2D    # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.patches import Patch   # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rtresults as rr           # noqa: E402

STYLE = {
    "svg.hashsalt": "rtbench",   # stable element ids in the SVG
    "svg.fonttype": "path",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "legend.title_fontsize": 8,
    "legend.frameon": False,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "0.9",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "savefig.dpi": 150,
}

# One colour per allocator backend, kept across charts; others take the rest.
BACKEND_COLORS = {"pool": "#1f77b4", "malloc": "#ff7f0e", "debug": "#7f7f7f",
                  "mimalloc": "#2ca02c", "jemalloc": "#9467bd"}
SPARE_COLORS = ["#8c564b", "#e377c2", "#bcbd22", "#17becf", "#d62728"]
LINE_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
               "#8c564b", "#17becf", "#7f7f7f"]
RTBENCH_COLOR, CPYTHON_COLOR = "#1f77b4", "#f2b01e"
FRONT_COLOR = "0.15"
# GC pause ticks on the RSS timeline: colour and height (axes fraction) per generation.
PAUSE_TICKS = {0: ("0.7", 0.03), 1: ("0.4", 0.05), 2: ("#9467bd", 0.09)}
FOOT_SIZE = 7                    # points
MAX_FOOT_NOTES = 4


def warn(message: str) -> None:
    print(f"plot: {message}", file=sys.stderr)


# ---------------------------------------------------------------------------
# Figures, footnotes and files


class Charts:
    """Saves figures in the requested formats and remembers what it wrote."""

    def __init__(self, out: Path, formats: list[str]):
        self.out = out
        self.formats = formats
        self.written: list[Path] = []

    def save(self, fig: plt.Figure, name: str) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        for fmt in self.formats:
            path = self.out / f"{name}.{fmt}"
            meta = {"Software": None} if fmt == "png" else {"Date": None}
            fig.savefig(path, format=fmt, metadata=meta)
            self.written.append(path)
        plt.close(fig)


def figure(nrows: int = 1, ncols: int = 1, *, size=(8.0, 4.5), **kwargs):
    """A constrained-layout figure and its 2-D array of axes."""
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False,
                             layout="constrained", **kwargs)
    return fig, axes


def finish(fig: plt.Figure, title: str, foot: list[str]) -> None:
    """Add the title and a footnote, and keep the axes clear of the footnote."""
    fig.suptitle(title, fontsize=11, fontweight="bold")
    width_chars = int(fig.get_figwidth() * 72 / (FOOT_SIZE * 0.52))
    lines = [part for line in foot
             for part in textwrap.wrap(line, width_chars, subsequent_indent="  ")]
    fig.text(0.01, 0.012, "\n".join(lines), ha="left", va="bottom",
             fontsize=FOOT_SIZE, color="0.35", linespacing=1.3)
    reserved = (len(lines) * FOOT_SIZE * 1.3 + 10) / 72 / fig.get_figheight()
    fig.get_layout_engine().set(rect=(0, reserved, 1, 1 - reserved))


def notes_line(notes: list[str]) -> list[str]:
    """At most MAX_FOOT_NOTES notes for a footnote; the rest are on stderr."""
    if not notes:
        return []
    shown = list(dict.fromkeys(notes))
    extra = len(shown) - MAX_FOOT_NOTES
    text = "; ".join(shown[:MAX_FOOT_NOTES])
    if extra > 0:
        text += f"; +{extra} more (see stderr)"
    return [f"Note: {text}."]


def run_notes(runs: Iterable[rr.Run]) -> list[str]:
    """``cycle_storm/atomic/malloc: 1 of 3 samples failed`` for runs with problems."""
    out = []
    for run in runs:
        problem = run.sample_problem()
        if problem:
            out.append(f"{run.short_label}: {problem}")
    return out


def slug(text: str) -> str:
    """A file-name-safe form of a workload name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "unnamed"


def key_slug(results: rr.Results, key: tuple[str, str]) -> str:
    """The workload, with its params where the workload was run with several."""
    label = rr.key_label(results, key)
    return slug(label.replace("=", "-"))


# ---------------------------------------------------------------------------
# Units and axes


def seconds_formatter() -> ticker.FuncFormatter:
    return ticker.FuncFormatter(lambda v, _pos: rr.format_seconds(v) if v > 0 else "0")


def threshold_axis(ax: plt.Axes, values: Iterable[int], width_in: float = 6.0) -> None:
    """Log x axis with a tick at each swept threshold0, labelled where there is room.

    ``width_in`` is about the axes' width; a label that would touch one already
    kept is left blank (the default threshold0 is labelled first).
    """
    ticks = sorted(set(values))
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(ticker.FixedLocator(ticks))
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    if not ticks:
        return
    low, high = ticks[0] / 1.35, ticks[-1] * 1.35
    ax.set_xlim(low, high)
    decades_per_in = np.log10(high / low) / width_in
    char_in = 8 * 0.6 / 72                       # tick labels are 8 pt
    kept: list[int] = []
    for t in sorted(ticks, key=lambda t: (t != rr.DEFAULT_THRESHOLD[0], t)):
        room = [abs(np.log10(t / k)) / decades_per_in
                >= (len(str(t)) + len(str(k))) / 2 * char_in + 0.08 for k in kept]
        if all(room):
            kept.append(t)
    ax.xaxis.set_major_formatter(ticker.FixedFormatter(
        [str(t) if t in kept else "" for t in ticks]))


def mark_default(ax: plt.Axes, label: bool) -> None:
    """A dotted vertical line at the default threshold0."""
    t0 = rr.DEFAULT_THRESHOLD[0]
    ax.axvline(t0, color="0.45", linestyle=":", linewidth=1, zorder=1)
    if label:
        ax.annotate(f"default {t0}", xy=(t0, 1), xycoords=("data", "axes fraction"),
                    xytext=(3, -2), textcoords="offset points", va="top",
                    fontsize=7, color="0.35")


def bar_errors(stats: list[Optional[rr.Stat]]) -> np.ndarray:
    """Matplotlib's (2, n) yerr: distances from the median to min and max."""
    low = [s.median - s.min if s else 0 for s in stats]
    high = [s.max - s.median if s else 0 for s in stats]
    return np.array([low, high])


def backend_color(alloc: Optional[str], spare: dict) -> str:
    if alloc in BACKEND_COLORS:
        return BACKEND_COLORS[alloc]
    return spare.setdefault(alloc, SPARE_COLORS[len(spare) % len(SPARE_COLORS)])


def lighten(color: str, amount: float = 0.5) -> tuple:
    """``color`` mixed with white."""
    rgb = np.array(to_rgb(color))
    return tuple(rgb + (1 - rgb) * amount)


# ---------------------------------------------------------------------------
# Sweeps


def sweep_panel(ax: plt.Axes, group: rr.SweepGroup, metric: str, scale: float,
                color: str, norm: Optional[float] = None, label: str = "") -> None:
    """One sweep line: the medians joined, the min-max range as a band."""
    points = [(t, s) for t, s in group.points(metric) if t > 0]
    if not points:
        return
    factor = scale / norm if norm else scale
    x = [t for t, _ in points]
    ax.fill_between(x, [s.min * factor for _, s in points],
                    [s.max * factor for _, s in points],
                    color=color, alpha=0.18, linewidth=0)
    ax.plot(x, [s.median * factor for _, s in points], marker="o", markersize=3.5,
            color=color, linewidth=1.5, label=label or group.label)


def sweep_legend(ax: plt.Axes, title: Optional[str] = None) -> None:
    """The lines' legend plus what the band means, right of the axes."""
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Patch(color="0.5", alpha=0.3, linewidth=0))
    labels.append("min–max of the samples")
    ax.legend(handles, labels, title=title, loc="upper left",
              bbox_to_anchor=(1.01, 1.0))


def sweep_samples_line(groups: list[rr.SweepGroup]) -> str:
    counts = sorted({len(r.ok_samples) for g in groups for r in g.runs})
    n = "/".join(map(str, counts)) if counts else "0"
    return f"Each point: median of {n} ok samples; band: min–max."


def chart_sweep(charts: Charts, workload: str, groups: list[rr.SweepGroup]) -> None:
    runs = [r for g in groups for r in g.runs]
    longest = max((s.max for g in groups for _, s in g.points("wall_s")), default=1)
    factor, unit = rr.time_unit(longest)
    fig, axes = figure(2, 1, size=(8.0, 6.0), sharex=True)
    ax_t, ax_r = axes[:, 0]
    for i, group in enumerate(groups):
        color = LINE_COLORS[i % len(LINE_COLORS)]
        sweep_panel(ax_t, group, "wall_s", factor, color)
        sweep_panel(ax_r, group, "peak_rss_bytes", 1 / rr.MIB, color)
    for ax in (ax_t, ax_r):
        threshold_axis(ax, [r.threshold0 for r in runs if (r.threshold0 or 0) > 0])
        mark_default(ax, label=ax is ax_t)
    ax_t.set_ylabel(f"time ({unit})")
    ax_r.set_ylabel("peak RSS (MiB)")
    ax_r.set_xlabel("threshold0 (log scale)")
    ax_r.tick_params(labelbottom=True)
    sweep_legend(ax_t)
    finish(fig, f"{workload}: threshold0 sweep",
           [rr.machines_line(runs), sweep_samples_line(groups)] + notes_line(run_notes(runs)))
    charts.save(fig, f"sweep_{slug(workload)}")


def norm_value(group: rr.SweepGroup, metric: str) -> Optional[tuple[int, float]]:
    """(threshold0, median) at the swept threshold0 nearest the default (log distance)."""
    points = [(t, s.median) for t, s in group.points(metric) if t > 0 and s.median]
    if not points:
        return None
    return min(points, key=lambda p: abs(np.log(p[0] / rr.DEFAULT_THRESHOLD[0])))


def chart_sweep_all(charts: Charts, by_workload: dict[str, list[rr.SweepGroup]]) -> None:
    """One line per workload (its line nearest the default), relative to t0 = 700."""
    groups = [g[0] for g in by_workload.values()]
    fig, axes = figure(2, 1, size=(8.0, 6.0), sharex=True)
    ax_t, ax_r = axes[:, 0]
    off_default = set()
    for i, group in enumerate(groups):
        color = LINE_COLORS[i % len(LINE_COLORS)]
        for ax, metric in ((ax_t, "wall_s"), (ax_r, "peak_rss_bytes")):
            norm = norm_value(group, metric)
            if norm is None:
                continue
            if norm[0] != rr.DEFAULT_THRESHOLD[0]:
                off_default.add(f"{group.workload} (to t0={norm[0]})")
            sweep_panel(ax, group, metric, 1.0, color, norm=norm[1], label=group.workload)
    runs = [r for g in groups for r in g.runs]
    for ax in (ax_t, ax_r):
        threshold_axis(ax, [r.threshold0 for r in runs if (r.threshold0 or 0) > 0])
        mark_default(ax, label=ax is ax_t)
        ax.axhline(1.0, color="0.6", linewidth=0.8, zorder=1)
    t0 = rr.DEFAULT_THRESHOLD[0]
    ax_t.set_ylabel(f"time relative to t0={t0} (= 1)")
    ax_r.set_ylabel(f"peak RSS relative to t0={t0} (= 1)")
    ax_r.set_xlabel("threshold0 (log scale)")
    ax_r.tick_params(labelbottom=True)
    sweep_legend(ax_t, title="workload")
    foot = [rr.machines_line(runs),
            sweep_samples_line(groups) + f" Each line divided by its median at t0={t0}.",
            "Lines: " + "; ".join(f"{g.workload}: {g.variant.label}" for g in groups) + "."]
    if off_default:
        foot.append("Normalized elsewhere: " + ", ".join(sorted(off_default)) + ".")
    finish(fig, "threshold0 sweeps, all workloads", foot + notes_line(run_notes(runs)))
    charts.save(fig, "sweep_all")


def chart_pareto(charts: Charts, workload: str, groups: list[rr.SweepGroup]) -> None:
    """Time against peak RSS for every swept configuration, the front joined."""
    points, runs = [], []           # (rss MiB, time s) and the run of each point
    fig, axes = figure(size=(8.0, 5.2))
    ax = axes[0, 0]
    longest = max((s.max for g in groups for _, s in g.points("wall_s")), default=1)
    factor, unit = rr.time_unit(longest)
    for i, group in enumerate(groups):
        color = LINE_COLORS[i % len(LINE_COLORS)]
        for run in group.runs:
            t, m = run.stat("wall_s"), run.stat("peak_rss_bytes")
            if t is None or m is None:
                continue
            t, m = t.scaled(factor), m.scaled(1 / rr.MIB)
            ax.errorbar(m.median, t.median, xerr=bar_errors([m]), yerr=bar_errors([t]),
                        fmt="o", color=color, markersize=5, elinewidth=0.8,
                        alpha=0.9, zorder=3, label=group.label)
            points.append((m.median, t.median))
            runs.append(run)
    front = rr.pareto_front(points)
    ax.plot([points[i][0] for i in front], [points[i][1] for i in front],
            color=FRONT_COLOR, linewidth=1.2, linestyle="--", zorder=2,
            label="Pareto front (lower-left is better)")
    skipped = label_points(ax, points, runs, set(front))
    ax.set_xlabel("peak RSS (MiB)")
    ax.set_ylabel(f"time ({unit})")
    dedup_legend(ax, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                 extra=[(Line2D([], [], marker="*", color="k", linestyle="none",
                                markersize=10, markerfacecolor="none"),
                         f"default threshold0 ({rr.DEFAULT_THRESHOLD[0]})")])
    foot = [rr.machines_line(runs),
            "Each point: median of the ok samples (whiskers min–max); labels: threshold0 "
            f"(bold: on the front{'; labels that would overlap left out' if skipped else ''}); "
            "the front joins the configurations no other beats on both time and RSS."]
    finish(fig, f"{workload}: time against peak RSS over the threshold0 sweep",
           foot + notes_line(run_notes(runs)))
    charts.save(fig, f"pareto_{slug(workload)}")


def label_points(ax: plt.Axes, points: list, runs: list[rr.Run], front: set) -> int:
    """Write threshold0 beside the points, ring the default ones.

    Labels go in order of interest (default, front, the rest) and one that would
    sit on a label already written is left out, so crossed sweeps stay readable.
    """
    ax.autoscale_view()
    to_axes = (ax.transScale + ax.transLimits).transform     # data -> axes fraction
    order = sorted(range(len(points)), key=lambda i: (
        runs[i].threshold0 != rr.DEFAULT_THRESHOLD[0], i not in front, i))
    placed: list[np.ndarray] = []
    skipped = 0
    for i in order:
        (x, y), run = points[i], runs[i]
        default = run.threshold0 == rr.DEFAULT_THRESHOLD[0]
        if default:
            ax.plot(x, y, marker="*", markersize=15, markerfacecolor="none",
                    markeredgecolor="k", markeredgewidth=0.9, zorder=4)
        at = to_axes((x, y))
        if any(abs(at[0] - p[0]) < 0.06 and abs(at[1] - p[1]) < 0.035 for p in placed):
            skipped += 1
            continue
        placed.append(at)
        ax.annotate(str(run.threshold0), (x, y), xytext=(5, 4),
                    textcoords="offset points", fontsize=7,
                    fontweight="bold" if i in front else "normal",
                    color="0.1" if default else "0.3")
    return skipped


def dedup_legend(ax: plt.Axes, extra: list = (), **kwargs) -> None:
    """A legend with one entry per label (errorbar calls repeat them)."""
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    for handle, label in extra:
        unique[label] = handle
    ax.legend(list(unique.values()), list(unique.keys()), **kwargs)


def ecdf(values: np.ndarray, steps: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """The empirical CDF of sorted ``values`` as step vertices, starting at 0.

    Beyond ``steps`` values the curve keeps every ``n/steps``-th one (always the
    first and the last): finer than a pixel, and the SVG stays small.
    """
    n = len(values)
    keep = np.unique(np.linspace(0, n - 1, min(n, steps)).round().astype(int))
    x = np.concatenate([values[:1], values[keep]])
    y = np.concatenate([[0.0], (keep + 1) / n])
    return x, y


def chart_pause_cdf(charts: Charts, workload: str, groups: list[rr.SweepGroup]) -> bool:
    """The distribution of GC pauses per threshold0 (the line nearest the default)."""
    group = groups[0]
    series, notes = [], run_notes(group.runs)
    for run in group.runs:
        pauses = [p for s in run.ok_samples for p in (rr.dig(s, "gc.pauses.seconds") or [])
                  if rr.is_number(p)]
        positive = np.sort([p for p in pauses if p > 0])
        if len(positive) < len(pauses):
            notes.append(f"t0:{run.threshold0}: {len(pauses) - len(positive)} pauses "
                         "of 0 s not shown")
        if any(rr.dig(s, "gc.pauses.subsampled") for s in run.ok_samples):
            notes.append(f"t0:{run.threshold0}: pauses subsampled (uniformly)")
        if len(positive):
            series.append((run, positive))
    if not series:
        warn(f"{workload}: no GC pauses recorded in the sweep: skipping gc_pause_cdf")
        return False
    fig, axes = figure(size=(8.0, 4.8))
    ax = axes[0, 0]
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(series)))
    for (run, pauses), color in zip(series, colors):
        x, y = ecdf(pauses)
        ax.step(x, y, where="post", color=color, linewidth=1.4,
                label=f"{run.threshold0} ({len(pauses)} pauses)")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(seconds_formatter())
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("GC pause (log scale)")
    ax.set_ylabel("fraction of pauses ≤ x")
    ax.legend(title="threshold0", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    foot = [rr.machines_line(group.runs),
            f"Pauses of all ok samples pooled per threshold0; configuration "
            f"{group.variant.label.split(' t:')[0]}"
            + (" (other sweep lines not shown)." if len(groups) > 1 else ".")]
    finish(fig, f"{workload}: GC pause distribution per threshold0", foot + notes_line(notes))
    charts.save(fig, f"gc_pause_cdf_{slug(workload)}")
    return True


def sweep_charts(charts: Charts, results: rr.Results) -> None:
    by_workload = rr.sweeps(results)
    if not by_workload:
        warn(f"no sweep runs in {results.folder}: skipping sweep, pareto and "
             "gc_pause_cdf charts")
        return
    if len(by_workload) > 1:
        chart_sweep_all(charts, by_workload)
    for workload, groups in by_workload.items():
        hidden = sorted({r.threshold0 for g in groups for r in g.runs
                         if r.threshold0 is None or r.threshold0 <= 0}, key=str)
        if hidden:
            warn(f"{workload}: threshold0 {', '.join(map(str, hidden))} cannot be shown "
                 "on a log axis: left out of the sweep charts")
        if not any(g.points("wall_s") for g in groups):
            warn(f"{workload}: no ok sample in the sweep: skipping its sweep charts")
            continue
        chart_sweep(charts, workload, groups)
        chart_pareto(charts, workload, groups)
        chart_pause_cdf(charts, workload, groups)


# ---------------------------------------------------------------------------
# Variants and backends


def grouped_bars(ax: plt.Axes, groups: list[str], series: list[tuple[str, list, dict]],
                 annotate: bool) -> list:
    """Bars per group (x) and series; each series is (label, stats, bar style).

    A None stat (not measured, or no ok sample) leaves its slot empty, marked
    "n/a".  Returns one legend handle per series, in order.
    """
    width = 0.8 / max(1, len(series))
    handles = []
    for j, (label, stats, style) in enumerate(series):
        handles.append(Patch(label=label, **style))
        slots = [(i - 0.4 + width * (j + 0.5), s) for i, s in enumerate(stats)]
        for xi, _ in filter(lambda slot: slot[1] is None, slots):
            ax.annotate("n/a", (xi, 0), xycoords=("data", "axes fraction"),
                        xytext=(0, 3), textcoords="offset points",
                        ha="center", va="bottom", fontsize=6.5, color="0.45", rotation=90)
        slots = [(xi, s) for xi, s in slots if s]
        if not slots:
            continue
        x = [xi for xi, _ in slots]
        present = [s for _, s in slots]
        ax.bar(x, [s.median for s in present], width * 0.92, label=label,
               yerr=bar_errors(present),
               error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "0.2"}, **style)
        if annotate:
            for xi, s in slots:
                ax.annotate(f"{s.median:.2f}", (xi, s.max), xytext=(0, 2),
                            textcoords="offset points", ha="center",
                            va="bottom", fontsize=6.5, color="0.25")
    ax.set_xticks(np.arange(len(groups)))
    ax.set_xticklabels(groups)
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.grid(axis="x", visible=False)
    return handles


def variant_style(variant: rr.Variant, spare: dict) -> dict:
    """Backend by hue; the atomic refcount variant lighter, with an outline."""
    color = backend_color(variant.alloc, spare)
    if variant.rc == rr.DEFAULT_RC:
        return {"facecolor": color}
    return {"facecolor": lighten(color, 0.55), "edgecolor": color, "linewidth": 0.8}


def chart_variants(charts: Charts, results: rr.Results) -> None:
    keys = [k for k in rr.main_keys(results) if len(rr.configurations(results, k)) > 1]
    if not keys:
        warn(f"no workload with several rtbench configurations in {results.folder}: "
             "skipping the variants chart")
        return
    table = {k: {r.variant: r for r in rr.configurations(results, k)} for k in keys}
    variants = sorted({v for row in table.values() for v in row}, key=lambda v: v.sort_key)
    base_label = rr.Variant(rr.DEFAULT_RC, rr.DEFAULT_ALLOC, True,
                            rr.DEFAULT_THRESHOLD).label
    notes, spare = [], {}
    fig, axes = figure(2, 1, size=(8.0 + 0.25 * len(keys) * len(variants) / 4, 6.4),
                       sharex=True)
    for ax, metric, what in ((axes[0, 0], "wall_s", "time"),
                             (axes[1, 0], "peak_rss_bytes", "peak RSS")):
        series = []
        for variant in variants:
            stats = [normalized(table[k], variant, metric, notes) for k in keys]
            series.append((variant.label, stats, variant_style(variant, spare)))
        handles = grouped_bars(ax, [rr.key_label(results, k) for k in keys], series,
                               annotate=len(keys) * len(variants) <= 24)
        ax.axhline(1.0, color="0.4", linewidth=0.8, linestyle=":", zorder=1)
        ax.set_ylabel(f"{what} relative to\n{base_label} (= 1)")
        ax.margins(y=0.12)
    axes[1, 0].tick_params(labelbottom=True)
    axes[0, 0].legend(handles=handles, title="rc/alloc", loc="upper left",
                      bbox_to_anchor=(1.01, 1.0))
    runs = [r for row in table.values() for r in row.values()]
    foot = [rr.machines_line(runs),
            f"Bars: median of the ok samples divided by the workload's {base_label} "
            "median; whiskers: min–max."]
    finish(fig, "Refcount variants and allocator backends",
           foot + notes_line(notes + run_notes(runs)))
    charts.save(fig, "variants")


def normalized(row: dict, variant: rr.Variant, metric: str,
               notes: list[str]) -> Optional[rr.Stat]:
    """The Stat of ``variant`` divided by the median of the workload's baseline."""
    run = row.get(variant)
    base = baseline(row)
    if run is None or base is None:
        return None
    stat, ref = run.stat(metric), base.stat(metric)
    if stat is None or ref is None or not ref.median:
        return None
    if not base.variant.is_default:
        notes.append(f"{base.workload}: no nonatomic/pool run, normalized to "
                     f"{base.variant.label}")
    return stat.scaled(1 / ref.median)


def baseline(row: dict) -> Optional[rr.Run]:
    """The default configuration of a workload, else its first one with ok samples."""
    ranked = sorted((r for r in row.values() if r.ok_samples),
                    key=lambda r: (not r.variant.is_default, r.variant.sort_key))
    return ranked[0] if ranked else None


# ---------------------------------------------------------------------------
# RSS over time


def timeline_of(sample: Optional[dict]) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """(t_s, rss_bytes) arrays of a sample, or None when it has no usable timeline."""
    timeline = (sample or {}).get("rss_timeline") or {}
    t, rss = timeline.get("t_s") or [], timeline.get("rss_bytes") or []
    pairs = [(a, b) for a, b in zip(t, rss) if rr.is_number(a) and rr.is_number(b)]
    if len(pairs) < 2:
        return None
    arr = np.array(pairs, dtype=float)
    return arr[:, 0], arr[:, 1]


def pick_timeline_sample(run: rr.Run) -> tuple[Optional[dict], str]:
    """The median sample (by wall time), or the nearest one that has a timeline."""
    ranked = sorted((s for s in run.ok_samples if rr.is_number(s.get("wall_s"))),
                    key=lambda s: s["wall_s"])
    if not ranked:
        return None, ""
    mid = (len(ranked) - 1) // 2
    by_distance = sorted(range(len(ranked)), key=lambda i: (abs(i - mid), i))
    for i in by_distance:
        if timeline_of(ranked[i]) is not None:
            why = "median" if i == mid else "nearest the median with a timeline"
            return ranked[i], f"{why} of {len(ranked)} ok samples by wall time"
    return None, ""


def mark_pauses(ax: plt.Axes, sample: dict) -> bool:
    """Ticks along the bottom at each GC pause, where the result has pause times.

    rtbench/1 records pause durations (``gc.pauses.seconds``) but not when they
    happened; an optional ``gc.pauses.t_s`` (start of each pause, seconds from the
    workload start) is drawn when present.
    """
    pauses = rr.dig(sample, "gc.pauses") or {}
    starts, gens = pauses.get("t_s"), pauses.get("generation") or []
    if not isinstance(starts, list) or not starts:
        return False
    gens = gens if len(gens) == len(starts) else [0] * len(starts)
    for gen in sorted({g for g in gens if g in PAUSE_TICKS}):
        at = [t for t, g in zip(starts, gens) if g == gen and rr.is_number(t)]
        color, height = PAUSE_TICKS[gen]
        ax.vlines(at, 0, height, transform=ax.get_xaxis_transform(), colors=color,
                  linewidth=0.8, label=f"GC pause, generation {gen}")
    return True


def chart_rss_timeline(charts: Charts, results: rr.Results, key: tuple[str, str]) -> bool:
    run = rr.default_run(results, key)
    if run is None:
        return False
    sample, why = pick_timeline_sample(run)
    if sample is None:
        warn(f"{run.name}: no sample with an rss_timeline: skipping its rss_timeline chart")
        return False
    t, rss = timeline_of(sample)
    fig, axes = figure(size=(8.0, 4.5))
    ax = axes[0, 0]
    ax.plot(t, rss / rr.MIB, color=RTBENCH_COLOR, linewidth=1.3, label="RSS")
    peak = sample.get("peak_rss_bytes")
    if rr.is_number(peak):
        ax.axhline(peak / rr.MIB, color="0.45", linestyle="--", linewidth=0.9,
                   label=f"peak RSS (VmHWM): {peak / rr.MIB:.0f} MiB")
    draw_marks(ax, sample.get("marks") or [])
    paused = mark_pauses(ax, sample)
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=min(0.0, t[0]))
    ax.set_xlabel("time since the workload started (s)")
    ax.set_ylabel("RSS (MiB)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    interval = rr.dig(sample, "rss_timeline.interval_s")
    foot = [rr.machines_line([run]),
            f"Configuration {run.variant.label}"
            + (" (from the threshold0 sweep)" if run.role == "sweep" else "")
            + f"; sample {sample.get('index')} "
            f"({why}); wall time {sample['wall_s']:.3f} s"
            + (f"; RSS sampled every {interval * 1e3:g} ms." if rr.is_number(interval) else ".")]
    if not paused:
        foot.append("GC pauses not marked: the result records their durations, "
                    "not their times.")
    label = rr.key_label(results, key)
    finish(fig, f"{label}: RSS over time", foot + notes_line(run_notes([run])))
    charts.save(fig, f"rss_timeline_{key_slug(results, key)}")
    return True


def draw_marks(ax: plt.Axes, marks: list[dict]) -> None:
    """The workload's own marks (e.g. fragmentation's phases) as labelled points."""
    shown = False
    for mark in marks:
        t, rss = mark.get("t_s"), mark.get("rss_bytes")
        if not (rr.is_number(t) and rr.is_number(rss)):
            continue
        ax.plot(t, rss / rr.MIB, marker="o", markersize=5, color="#d62728",
                linestyle="none", zorder=4, label=None if shown else "workload marks")
        ax.annotate(str(mark.get("name", "")), (t, rss / rr.MIB), xytext=(0, 6),
                    textcoords="offset points", ha="center", fontsize=7, color="#a01c1c")
        shown = True


def timeline_charts(charts: Charts, results: rr.Results) -> None:
    keys = [k for k in rr.main_keys(results) if rr.default_run(results, k)]
    if not keys:
        warn(f"no rtbench run with ok samples in {results.folder}: "
             "skipping rss_timeline charts")
    for key in keys:
        chart_rss_timeline(charts, results, key)


# ---------------------------------------------------------------------------
# rtbench against CPython


def chart_vs_cpython(charts: Charts, results: rr.Results) -> None:
    pairs = rr.cpython_pairs(results)
    if not pairs:
        why = "no CPython run" if not results.select("cpython") else \
            "no CPython run matches an rtbench run (workload and params)"
        warn(f"{why} in {results.folder}: skipping the vs_cpython chart")
        return
    labels = [pair_label(results, key) for key, _, _ in pairs]
    if len(pairs) <= 4:           # side by side; stacked when there are many workloads
        fig, axes = figure(1, 2, size=(3.0 + 2.1 * len(pairs), 4.8))
        panels = axes[0]
    else:
        fig, axes = figure(2, 1, size=(2.0 + 1.4 * len(pairs), 7.5))
        panels = axes[:, 0]
    for ax, metric, what in ((panels[0], "wall_s", "time"),
                             (panels[1], "peak_rss_bytes", "peak RSS")):
        cp = [cp.stat(metric) for _, _, cp in pairs]
        rt = [rt.stat(metric) for _, rt, _ in pairs]
        cp_n = [c.scaled(1 / c.median) if c and c.median else None for c in cp]
        rt_n = [r.scaled(1 / c.median) if r and c and c.median else None
                for r, c in zip(rt, cp)]
        ticks = [f"{label}\nCPython: {absolute(c, metric)}" for label, c in zip(labels, cp)]
        handles = grouped_bars(ax, ticks, [("CPython", cp_n, {"facecolor": CPYTHON_COLOR}),
                                           ("rtbench", rt_n, {"facecolor": RTBENCH_COLOR})],
                               annotate=False)
        annotate_ratios(ax, rt_n, width=0.4)
        ax.axhline(1.0, color="0.4", linewidth=0.8, linestyle=":", zorder=1)
        ax.set_ylabel(f"{what} relative to CPython (= 1)")
        ax.set_title(what)
        ax.margins(y=0.15)
    panels[-1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    finish(fig, "rtbench against CPython", vs_cpython_foot(pairs))
    charts.save(fig, "vs_cpython")


def pair_label(results: rr.Results, key: tuple[str, str]) -> str:
    """The workload, then its params wrapped narrow: CPython's sizes often
    differ from the defaults, and the groups sit side by side."""
    params = rr.params_label(results.params(key))
    return key[0] + ("\n" + textwrap.fill(params, width=18) if params else "")


def absolute(stat: Optional[rr.Stat], metric: str) -> str:
    """A median with its unit, for tick labels."""
    if stat is None:
        return "n/a"
    if metric == "peak_rss_bytes":
        return rr.format_bytes(stat.median)
    return rr.format_seconds(stat.median)


def annotate_ratios(ax: plt.Axes, stats: list[Optional[rr.Stat]], width: float) -> None:
    """Write ``0.45×`` above each rtbench bar (the second of two per group)."""
    for x, s in enumerate(stats):
        if s:
            ax.annotate(f"{s.median:.2f}×", (x + width / 2, s.max), xytext=(0, 3),
                        textcoords="offset points", ha="center", va="bottom",
                        fontsize=8, fontweight="bold")


def vs_cpython_foot(pairs: list) -> list[str]:
    runs = [r for _, rt, cp in pairs for r in (rt, cp)]
    configs = sorted({rt.variant.label for _, rt, _ in pairs})
    pythons = sorted({str(cp.config.get("python")) for _, _, cp in pairs
                      if cp.config.get("python")})
    foot = [rr.machines_line(runs),
            "Bars: median of the ok samples divided by the CPython median; whiskers: "
            f"min–max; label: rtbench ÷ CPython (below 1: rtbench is faster or smaller). "
            f"rtbench configuration: {', '.join(configs)}."]
    if pythons:
        foot.append(f"CPython: {', '.join(pythons)}.")
    return foot + notes_line(run_notes(runs))


# ---------------------------------------------------------------------------
# Microbenchmarks


ALLOC_FAMILIES = ("alloc_free", "alloc_free_random")


def is_alloc_bench(bench: rr.MicroBench) -> bool:
    """``alloc_free/<backend>/<size>`` or ``alloc_free_random/<backend>/<size>``."""
    return bench.family in ALLOC_FAMILIES and len(bench.args) >= 2


def size_key(text: str) -> tuple:
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def micro_foot(micro: rr.MicroFile, benches: list[rr.MicroBench],
               runs: list[rr.Run]) -> list[str]:
    bases = sorted({b.basis for b in benches})
    reps = sorted({b.seconds.n for b in benches})
    spread = (f"whiskers: min–max of {'/'.join(map(str, reps))} repetitions"
              if reps[-1] > 1 else "a single repetition: no whiskers")
    foot = [rr.micro_machine_line(micro, runs),
            f"Each value: {' / '.join(bases)} (Google Benchmark real time); {spread}."]
    ctx, notes = micro.context, []
    if ctx.get("library_build_type") == "debug":
        notes.append("Google Benchmark was built as debug")
    if ctx.get("cpu_scaling_enabled"):
        notes.append("CPU frequency scaling was enabled")
    return foot + notes_line(notes)


def chart_micro_alloc(charts: Charts, micro: rr.MicroFile, runs: list[rr.Run]) -> bool:
    """ns per alloc+free per backend, grouped by size, one panel per family."""
    used = [b for b in micro.benches if is_alloc_bench(b)]
    families = [f for f in ALLOC_FAMILIES if any(b.family == f for b in used)]
    if not families:
        return False
    backends = sorted({b.args[0] for b in used}, key=lambda a: rr.axis_order(a, rr.ALLOC_ORDER))
    values = [b.seconds.median for b in used]
    log = max(values) / max(min(values), 1e-15) > 30
    fig, axes = figure(1, len(families), size=(4.3 * len(families) + 1.4, 4.4), sharey=True)
    spare: dict = {}
    for ax, family in zip(axes[0], families):
        mine = {(b.args[0], b.args[1]): b for b in used if b.family == family}
        sizes = sorted({s for _, s in mine}, key=size_key)
        series = [(backend, [ns_stat(mine.get((backend, s))) for s in sizes],
                   {"facecolor": backend_color(backend, spare)}) for backend in backends]
        handles = grouped_bars(ax, sizes, series, annotate=False)
        ax.set_title(family)
        ax.set_xlabel("object size (bytes)")
        if log:
            ax.set_yscale("log")
    axes[0, 0].set_ylabel("ns per operation" + (" (log scale)" if log else ""))
    axes[0, -1].legend(handles=handles, title="backend", loc="upper left",
                       bbox_to_anchor=(1.01, 1.0))
    finish(fig, "Allocator microbenchmarks: one allocation and free", micro_foot(micro, used, runs))
    charts.save(fig, "micro")
    return True


def ns_stat(bench: Optional[rr.MicroBench]) -> Optional[rr.Stat]:
    return bench.seconds.scaled(1e9) if bench else None


def chart_micro_other(charts: Charts, micro: rr.MicroFile, runs: list[rr.Run]) -> bool:
    """Every other benchmark as a point with whiskers on a log time axis."""
    other = [b for b in micro.benches if not is_alloc_bench(b)]
    if not other:
        return False
    families = list(dict.fromkeys(b.family for b in other))
    fig, axes = figure(size=(8.0, 1.9 + 0.32 * len(other)))
    ax = axes[0, 0]
    y = np.arange(len(other))[::-1]
    for i, family in enumerate(families):
        rows = [(yi, b) for yi, b in zip(y, other) if b.family == family]
        stats = [b.seconds for _, b in rows]
        ax.errorbar([s.median for s in stats], [yi for yi, _ in rows],
                    xerr=bar_errors(stats), fmt="o", color=LINE_COLORS[i % len(LINE_COLORS)],
                    markersize=5, capsize=2, elinewidth=0.8, label=family)
        for (yi, b), s in zip(rows, stats):
            ax.annotate(rr.format_seconds(s.median), (s.max, yi), xytext=(5, 0),
                        textcoords="offset points", va="center", fontsize=7, color="0.3")
    ax.set_yticks(y)
    ax.set_yticklabels([b.name for b in other])
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(seconds_formatter())
    ax.margins(x=0.15)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("time per iteration (log scale)")
    ax.legend(title="benchmark", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    finish(fig, "Other microbenchmarks", micro_foot(micro, other, runs))
    charts.save(fig, "micro_other")
    return True


def micro_charts(charts: Charts, results: rr.Results) -> None:
    micro = results.micro
    if micro is None:
        warn(f"no micro.json in {results.folder}: skipping the micro charts")
        return
    if not micro.benches:
        warn(f"{micro.path}: no benchmark with a time: skipping the micro charts")
        return
    if not chart_micro_alloc(charts, micro, results.runs):
        warn(f"{micro.path}: no alloc_free benchmarks: skipping the micro chart")
    if not chart_micro_other(charts, micro, results.runs):
        warn(f"{micro.path}: only alloc_free benchmarks: skipping micro_other")


# ---------------------------------------------------------------------------
# hyperfine


def chart_hyperfine(charts: Charts, results: rr.Results, hf: rr.HyperfineFile) -> None:
    """Per command: a box plot of its times and the mean ± stddev."""
    cmds = hf.commands
    longest = max(max(c.times, default=c.mean) for c in cmds)
    factor, unit = rr.time_unit(longest)
    fig, axes = figure(size=(8.0, 1.9 + 0.45 * len(cmds)))
    ax = axes[0, 0]
    y = np.arange(len(cmds))[::-1]
    with_times = [(yi, c) for yi, c in zip(y, cmds) if len(c.times) > 1]
    if with_times:
        ax.boxplot([np.array(c.times) * factor for _, c in with_times],
                   positions=[yi for yi, _ in with_times], vert=False, widths=0.45,
                   patch_artist=True, manage_ticks=False,
                   boxprops={"facecolor": lighten(RTBENCH_COLOR, 0.7),
                             "edgecolor": RTBENCH_COLOR},
                   medianprops={"color": RTBENCH_COLOR},
                   flierprops={"markersize": 3})
    ax.errorbar([c.mean * factor for c in cmds], y,
                xerr=[(c.stddev or 0) * factor for c in cmds], fmt="D", color="#d62728",
                markersize=4, capsize=3, elinewidth=1, zorder=4)
    ax.set_yticks(y)
    ax.set_yticklabels([c.label if len(c.label) <= 48 else c.label[:45] + "…" for c in cmds])
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(f"wall time per run ({unit})")
    handles = [Patch(facecolor=lighten(RTBENCH_COLOR, 0.7), edgecolor=RTBENCH_COLOR),
               Line2D([], [], marker="D", color="#d62728", markersize=4)]
    ax.legend(handles, ["times: quartiles, whiskers 1.5 IQR", "mean ± stddev"],
              loc="upper left", bbox_to_anchor=(1.01, 1.0))
    finish(fig, f"hyperfine: {hf.name}", hyperfine_foot(results, hf))
    charts.save(fig, f"hyperfine_{slug(hf.name)}")


def hyperfine_foot(results: rr.Results, hf: rr.HyperfineFile) -> list[str]:
    runs = results.runs
    machine = (rr.machines_line(runs) + " (of this folder's rtbench results; "
               "hyperfine records none)") if runs else "machine: not recorded by hyperfine"
    counts = sorted({len(c.times) for c in hf.commands})
    runs_per = rr.plural(counts[-1], "run") if len(counts) == 1 else \
        f"{'/'.join(map(str, counts))} runs"
    foot = [machine, f"{hf.path.name}: {runs_per} per command."]
    failed = [f"{c.label}: {rr.plural(c.failed, 'run')} exited non-zero"
              for c in hf.commands if c.failed]
    return foot + notes_line(failed)


def hyperfine_charts(charts: Charts, results: rr.Results) -> None:
    if not results.hyperfine:
        warn(f"no hyperfine-*.json in {results.folder}: skipping hyperfine charts")
    for hf in results.hyperfine:
        if hf.commands:
            chart_hyperfine(charts, results, hf)
        else:
            warn(f"{hf.path}: no results: skipping its chart")


# ---------------------------------------------------------------------------
# Main


CHARTERS: list[Callable[[Charts, rr.Results], None]] = [
    sweep_charts, chart_variants, timeline_charts, chart_vs_cpython,
    micro_charts, hyperfine_charts,
]


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="plot.py", description="Chart an rtbench results folder.")
    parser.add_argument("dir", type=Path, help="the results folder")
    parser.add_argument("--out", type=Path, help="chart folder (default: DIR/charts)")
    parser.add_argument("--format", default="png,svg",
                        help="comma-separated formats among png, svg (default: png,svg)")
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
    plt.rcParams.update(STYLE)
    charts = Charts(args.out or args.dir / "charts", args.formats)
    for charter in CHARTERS:
        charter(charts, results)
    for path in charts.written:
        print(path)
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
