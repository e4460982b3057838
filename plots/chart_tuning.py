"""The GC-tuning panel: what threshold0 does to a workload.

``tuning_<workload>``: threshold0 (log axis) against time, peak RSS, the p50, p99
and max pause, the total pause time and the collections per generation, each as
a ratio to the default threshold0 with its 95% bootstrap interval; the default
marked, the default's own median interval as a grey band around 1×, and a verdict per
metric in the caption.  ``tuning_all``: time and peak RSS of every swept
workload, one small panel each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

import chartkit as ck
import rtresults as rr
import rtstats as rs

T0 = rr.DEFAULT_THRESHOLD[0]
MIN_EFFECT = 0.01            # a peak RSS change smaller than 1% is no effect worth a chart


@dataclass(frozen=True)
class Metric:
    key: str                  # short name in verdicts: "time", "p99 pause"
    path: str                 # dotted path in a sample
    unit: str                 # "s", "bytes" or "count"
    percentile: Optional[float] = None      # a pause percentile: needs enough pauses


TIME = Metric("time", "wall_s", "s")
RSS = Metric("peak RSS", "peak_rss_bytes", "bytes")
P50 = Metric("p50 pause", "gc.pauses.p50_s", "s", 50.0)
P99 = Metric("p99 pause", "gc.pauses.p99_s", "s", 99.0)
PMAX = Metric("max pause", "gc.pauses.max_s", "s")
TOTAL = Metric("total pause", "gc.pauses.total_s", "s")
GENS = tuple(Metric(f"gen{g} collections", f"gc.collections.{g}", "count") for g in range(3))
METRICS = (TIME, RSS, P50, P99, PMAX, TOTAL) + GENS

# The panels: (title, metrics, their colours and markers).
PANELS = (
    ("time", (TIME,)),
    ("peak RSS", (RSS,)),
    ("GC pauses", (P50, P99, PMAX)),
    ("total pause time", (TOTAL,)),
    ("collections", GENS),
)
SERIES_STYLE = {P50: (ck.SERIES_COLORS[0], "o"), P99: (ck.SERIES_COLORS[1], "s"),
                PMAX: (ck.SERIES_COLORS[3], "^"),
                GENS[0]: (ck.GEN_COLORS[0], "o"), GENS[1]: (ck.GEN_COLORS[1], "s"),
                GENS[2]: (ck.GEN_COLORS[2], "^")}


def absolute(value: float, metric: Metric) -> str:
    if metric.unit == "bytes":
        return rs.format_bytes(value)
    if metric.unit == "s":
        return rs.format_seconds(value)
    return f"{value:,.0f}"


# ---------------------------------------------------------------------------
# The numbers


@dataclass
class Point:
    t0: int
    ratio: Optional[rs.Ratio]        # None: not measured, or the default is 0
    median: Optional[float]


@dataclass
class Series:
    metric: Metric
    base: Optional[rs.Stat]          # the default's samples
    points: list[Point]
    omitted: list[int]               # thresholds left out: too few pauses per sample

    @property
    def noise(self) -> float:
        """The default's median known to within ± this (its 95% interval)."""
        return self.base.precision if self.base else 0.0

    def beyond(self) -> list[Point]:
        return [p for p in self.points if p.ratio and p.ratio.beyond_noise]

    def within_noise(self) -> bool:
        """No point changes the metric beyond the noise by MIN_EFFECT or more:
        within its interval, or (without one) within the default's own interval."""
        floor = math.log(1 + MIN_EFFECT)
        for p in self.points:
            if p.ratio is None or p.t0 == T0 or log_size(p.ratio.value) < floor:
                continue
            if p.ratio.beyond_noise:
                return False
            if not p.ratio.has_ci and log_size(p.ratio.value) > math.log(1 + max(self.noise, 0.02)):
                return False
        return True


def base_run(group: rr.SweepGroup) -> tuple[Optional[rr.Run], str]:
    """The point the ratios divide by: the default threshold0, else the nearest."""
    runs = [r for r in group.runs if r.threshold0 and r.threshold0 > 0 and r.ok_samples]
    if not runs:
        return None, ""
    best = min(runs, key=lambda r: abs(math.log(r.threshold0 / T0)))
    note = "" if best.threshold0 == T0 else f"no t0 = {T0} point: ratios to t0 = {best.threshold0}"
    return best, note


def sample_values(run: rr.Run, metric: Metric) -> list[float]:
    """The metric over the ok samples; for a pause percentile, none unless every
    sample had enough pauses for it (rtstats.values_needed)."""
    if metric.percentile is not None:
        need = rs.values_needed(metric.percentile)
        counts = [rr.dig(s, "gc.pauses.count") for s in run.ok_samples]
        if not counts or any(not rs.is_number(c) or c < need for c in counts):
            return []
    return run.values(metric.path)


def series(group: rr.SweepGroup, base: rr.Run, metric: Metric) -> Series:
    ref = sample_values(base, metric)
    points, omitted = [], []
    for run in group.runs:
        if not run.threshold0 or run.threshold0 <= 0:
            continue
        values = sample_values(run, metric)
        if not values and run.values(metric.path):
            omitted.append(run.threshold0)
        stat = rs.Stat.of(values)
        label = f"{run.name}|{metric.path}"
        ratio = rs.ratio_of_medians(values, ref, label) if values and ref else None
        points.append(Point(run.threshold0, ratio, stat.median if stat else None))
    return Series(metric, rs.Stat.of(ref), points, omitted)


def too_few(s: Series) -> str:
    """``fewer than 1,000 pauses per sample at t0 = 10000, 31623``, or ''."""
    if not s.omitted:
        return ""
    return (f"fewer than {rs.values_needed(s.metric.percentile):,} pauses per sample at "
            f"t0 = {', '.join(map(str, s.omitted))}")


def without_interval(s: Series) -> str:
    """``no interval (n=2)`` when no threshold has a confidence interval (too few
    samples to call anything beyond noise or within it), else ''."""
    ratios = [p.ratio for p in s.points if p.ratio]
    if not ratios or any(r.has_ci for r in ratios):
        return ""
    return f"no interval (n={min(min(r.n_a, r.n_b) for r in ratios)})"


def fastest(time: Series) -> Optional[Point]:
    """The threshold0 with the lowest time beyond noise (None: none is)."""
    faster = [p for p in time.beyond() if p.ratio.value < 1]
    return min(faster, key=lambda p: p.ratio.value) if faster else None


def log_size(ratio: float) -> float:
    """How far a ratio is from 1, either way (0 is infinitely far)."""
    return abs(math.log(ratio)) if ratio > 0 else math.inf


def largest_change(s: Series) -> Optional[Point]:
    changed = s.beyond()
    return max(changed, key=lambda p: log_size(p.ratio.value)) if changed else None


def point_at(s: Series, t0: int) -> Optional[Point]:
    return next((p for p in s.points if p.t0 == t0 and p.ratio), None)


def no_faster(time: Series) -> str:
    """What to say when no threshold0 is faster beyond noise: whether some are slower."""
    if without_interval(time):
        return f"No threshold0 can be judged: {without_interval(time)} per threshold"
    slower = [p for p in time.beyond() if p.ratio.value > 1]
    if not slower:
        return "No threshold0 changes the time beyond noise"
    return ("No threshold0 is faster beyond noise; slower: " +
            ", ".join(f"t0 = {p.t0} {p.ratio.text()}" for p in slower))


def headline(all_series: dict[Metric, Series]) -> str:
    """``t0 = 10000 (fastest): −19% time [−24, −14], p99 pause ×6.2 [..], peak RSS +3% [..]``."""
    best = fastest(all_series[TIME])
    if best is None:
        return f"{no_faster(all_series[TIME])} (ratios to t0 = {T0})."
    parts = [best.ratio.text("time")]
    tail = P99 if point_at(all_series[P99], best.t0) else PMAX   # p99 where it says something
    for metric in (tail, RSS):
        p = point_at(all_series[metric], best.t0)
        if p:
            parts.append(p.ratio.text(metric.key))
    return f"t0 = {best.t0} (fastest): " + ", ".join(parts) + "."


def metric_verdict(s: Series) -> str:
    """One line per metric: its largest change beyond noise, or none."""
    left_out = too_few(s)
    if s.base is None or not any(p.ratio for p in s.points):
        why = left_out or ("0 at the default: no ratio" if s.base else "not recorded")
        return f"{s.metric.key}: {why}."
    base = f"{absolute(s.base.median, s.metric)} at t0 = {T0}"
    left_out = f"; left out: {left_out}" if left_out else ""
    top = largest_change(s)
    if top is None and without_interval(s):
        return f"{s.metric.key}: {without_interval(s)}, nothing judged ({base}{left_out})."
    if top is None:
        return f"{s.metric.key}: no change beyond noise ({base}{left_out})."
    others = len(s.beyond())
    return (f"{s.metric.key}: largest change at t0 = {top.t0}, {top.ratio.text()} "
            f"({base}; beyond noise at {others} of {len(s.points) - 1} thresholds"
            f"{left_out}).")


# ---------------------------------------------------------------------------
# Drawing


def draw_series(ax: Axes, s: Series, color, marker: str, shift: float) -> list:
    """Dots with intervals at each threshold0 (shifted by a factor so that the
    series of one panel do not hide each other), joined by a thin line; a
    metric that fell to 0 is a triangle on the bottom edge."""
    xs, ys = [], []
    for p in s.points:
        if p.ratio is None:
            continue
        x = p.t0 * shift
        if p.ratio.value <= 0:
            ax.plot([x], [0.03], marker="v", color=color, transform=ax.get_xaxis_transform(),
                    markersize=6, linestyle="none", clip_on=False)
            continue
        ck.ratio_dot(ax, x, p.ratio, color, marker, horizontal=False)
        xs.append(x)
        ys.append(p.ratio.value)
    ax.plot(xs, ys, color=color, linewidth=0.8, alpha=0.6, zorder=2)
    return [Line2D([], [], color=color, marker=marker, linestyle="-", linewidth=0.8,
                   label=legend_label(s) if s.base else s.metric.key)]


def noise_band(ax: Axes, noise: float) -> None:
    """The default's own median interval (its larger side, both ways) around 1×."""
    if noise > 0:
        ax.axhspan(1 / (1 + noise), 1 + noise, color=ck.NOISE_BAND, zorder=0, linewidth=0)


def no_effect(ax: Axes, s: Series) -> None:
    """A panel that says there is nothing to see, instead of zooming into noise."""
    ax.set_axis_off()
    spread = f"; the default's median ±{s.noise:.1%}" if s.noise else ""
    ax.text(0.5, 0.5, f"{s.metric.key}: no effect beyond noise\n"
                      f"(every threshold0 within its interval, or within {MIN_EFFECT:.0%},\n"
                      f"of {absolute(s.base.median, s.metric)}{spread})",
            ha="center", va="center", transform=ax.transAxes, fontsize=8, color="0.3",
            wrap=True)


def panel_title(title: str, items: list[Series]) -> str:
    """``time`` over ``at t0 = 700: 520 ms``; several metrics name theirs in the legend."""
    if len(items) == 1:
        return f"{title}\nat t0 = {T0}: {absolute(items[0].base.median, items[0].metric)}"
    return f"{title}\n(legend: the values at {T0})"


def legend_label(s: Series) -> str:
    return f"{s.metric.key} ({absolute(s.base.median, s.metric)})"


def unshown_label(s: Series) -> str:
    """A legend line for a series the panel cannot draw, saying why."""
    if s.base is not None and s.base.median == 0:
        return f"{s.metric.key}: 0 at t0 = {T0}, no ratio"
    if s.metric.percentile is not None:
        return f"{s.metric.key}: too few pauses"
    return f"{s.metric.key}: not recorded"


def draw_panel(ax: Axes, title: str, configured: list[Series], thresholds: list[int]) -> bool:
    """One metric family; False when it had nothing to draw."""
    items = [s for s in configured if s.base is not None and any(p.ratio for p in s.points)]
    unshown = [Line2D([], [], linestyle="none", label=unshown_label(s))
               for s in configured if s not in items]
    if not items:
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"{title}: not recorded", ha="center", va="center",
                transform=ax.transAxes, fontsize=8, color="0.3")
        return False
    if items[0].metric is RSS and items[0].within_noise():
        no_effect(ax, items[0])
        return True
    shifts = np.exp(np.linspace(-0.06, 0.06, len(items))) if len(items) > 1 else [1.0]
    handles = []
    noise = max(s.noise for s in items)
    noise_band(ax, noise if len(items) == 1 else 0)
    for s, shift in zip(items, shifts):
        color, marker = SERIES_STYLE.get(s.metric, (ck.RTBENCH_COLOR, "o"))
        handles += draw_series(ax, s, color, marker, shift)
    ck.one_line(ax)
    low, high = ck.ratio_limits(p.ratio for s in items for p in s.points)
    ck.ratio_axis(ax, "y", low, high, noise)
    ck.threshold_axis(ax, thresholds, T0)
    ax.set_title(panel_title(title, configured), fontsize=8.5)
    if len(configured) > 1:
        ax.legend(handles=handles + unshown, loc="best", fontsize=7, handlelength=1.6)
    return True


def key_panel(ax: Axes) -> None:
    """The sixth panel: how to read the other five."""
    ax.set_axis_off()
    handles = [
        Line2D([], [], marker="o", color="0.2", linestyle="none", markerfacecolor="0.2",
               label="beyond noise (interval excludes 1×)"),
        Line2D([], [], marker="o", color="0.2", linestyle="none", markerfacecolor="white",
               label="within noise"),
        Line2D([], [], color="0.2", marker="|", markersize=10, linestyle="none",
               label="95% bootstrap interval"),
        Line2D([], [], color=ck.NOISE_BAND, linewidth=8,
               label=f"95% interval of the t0 = {T0} median"),
        Line2D([], [], color="0.45", linestyle=":", label=f"the default, t0 = {T0}"),
        Line2D([], [], marker="v", color="0.2", linestyle="none", label="fell to 0"),
    ]
    ax.legend(handles=handles, loc="center left", title="every panel: ratio to the "
              f"default\n(log scale; 1× = t0 = {T0})", alignment="left")


def sources_of(runs: list[rr.Run]) -> list[str]:
    return sorted({r.source.name for r in runs})


def samples_line(runs: list[rr.Run]) -> str:
    counts = sorted({len(r.ok_samples) for r in runs})
    return (f"{'/'.join(map(str, counts))} ok samples per threshold0; ratios of medians to "
            f"t0 = {T0} with 95% bootstrap intervals (seeded).")


def tuning_chart(workload: str, groups: list[rr.SweepGroup]) -> ck.Chart:
    group = groups[0]
    name, title = f"tuning_{ck.slug(workload)}", f"{workload}: what threshold0 does"
    base, base_note = base_run(group)
    if base is None:
        return ck.not_drawn(name, workload, title, "no ok sample in the sweep",
                            sources_of(group.runs))
    thresholds = [r.threshold0 for r in group.runs if r.threshold0 and r.threshold0 > 0]
    if len(thresholds) < 2:
        return ck.not_drawn(name, workload, title, f"one threshold0 only ({thresholds})",
                            sources_of(group.runs))
    all_series = {m: series(group, base, m) for m in METRICS}
    fig, axes = ck.new_figure(11.0, 6.6, 2, 3)
    for ax, (panel, metrics) in zip(axes.flat, PANELS):
        draw_panel(ax, panel, [all_series[m] for m in metrics], thresholds)
    for ax in axes[1, :2]:
        ax.set_xlabel("threshold0 (log scale)")
    key_panel(axes[1, 2])
    notes = [n for n in (base_note,) if n] + [r.problem("using") or "" for r in group.runs]
    notes += [f"{m.key} left out: {too_few(all_series[m])}" for m in (P50, P99)
              if too_few(all_series[m])]
    if len(groups) > 1:
        notes.append("other sweep lines (" + ", ".join(g.label for g in groups[1:]) +
                     ") not shown")
    caption = [headline(all_series)] + [metric_verdict(all_series[m]) for m in METRICS]
    chart = ck.Chart(name, workload, title, caption=caption, sources=sources_of(group.runs),
                     figure=fig)
    chart.foot = ([rr.machines_line(group.runs), caption[0], samples_line(group.runs)]
                  + ck.notes_line(n for n in notes if n))
    chart.table = tuning_table(all_series)
    chart.table_label = f"every threshold0, every metric (ratio to t0 = {rr.DEFAULT_THRESHOLD[0]})"
    return chart


def tuning_table(all_series: dict[Metric, Series]) -> tuple[list[str], list[list[str]]]:
    """Every threshold0 against every metric, for the report."""
    header = ["threshold0"] + [m.key for m in METRICS]
    thresholds = sorted({p.t0 for s in all_series.values() for p in s.points})
    rows = []
    for t0 in thresholds:
        row = [str(t0) + (" (default)" if t0 == T0 else "")]
        for metric in METRICS:
            p = point_at(all_series[metric], t0)
            row.append("—" if p is None else ("1×" if t0 == T0 else p.ratio.text()))
        rows.append(row)
    return header, rows


# ---------------------------------------------------------------------------
# Every workload at a glance


def overview_panel(ax: Axes, workload: str, group: rr.SweepGroup) -> Optional[str]:
    base, _ = base_run(group)
    if base is None:
        ax.set_axis_off()
        return None
    time, rss = series(group, base, TIME), series(group, base, RSS)
    thresholds = [p.t0 for p in time.points]
    draw_series(ax, time, ck.SERIES_COLORS[0], "o", 0.97)
    draw_series(ax, rss, ck.SERIES_COLORS[1], "s", 1.03)
    noise_band(ax, time.noise)
    ck.one_line(ax)
    low, high = ck.ratio_limits(p.ratio for s in (time, rss) for p in s.points)
    ck.ratio_axis(ax, "y", low, high, max(time.noise, rss.noise))
    ck.threshold_axis(ax, thresholds, T0)
    ax.set_title(f"{workload}\nat t0 = {T0}: {absolute(time.base.median, TIME)}, "
                 f"{absolute(rss.base.median, RSS)}", fontsize=8)
    best = fastest(time)
    if best is None:
        return f"{workload}: {no_faster(time)[0].lower()}{no_faster(time)[1:]}."
    rss_at = point_at(rss, best.t0)
    return (f"{workload}: t0 = {best.t0}: {best.ratio.text('time')}"
            + (f", {rss_at.ratio.text('peak RSS')}" if rss_at else "") + ".")


def overview_chart(by_workload: dict[str, list[rr.SweepGroup]]) -> ck.Chart:
    groups = [g[0] for g in by_workload.values()]
    ncols = min(4, len(groups))
    nrows = math.ceil(len(groups) / ncols)
    fig, axes = ck.new_figure(2.9 * ncols + 0.4, 2.6 * nrows + 1.4, nrows, ncols)
    verdicts = []
    for ax, (workload, group) in zip(axes.flat, zip(by_workload, groups)):
        verdict = overview_panel(ax, workload, group)
        if verdict:
            verdicts.append(verdict)
    for ax in axes.flat[len(groups):]:
        ax.set_axis_off()
    handles = [Line2D([], [], color=ck.SERIES_COLORS[0], marker="o", label="time"),
               Line2D([], [], color=ck.SERIES_COLORS[1], marker="s", label="peak RSS")]
    axes.flat[0].legend(handles=handles, loc="best", fontsize=7)
    runs = [r for g in groups for r in g.runs]
    chart = ck.Chart("tuning_all", "overview", "threshold0 against time and peak RSS, "
                     "every workload", caption=verdicts, sources=sources_of(runs), figure=fig)
    chart.foot = [rr.machines_line(runs), samples_line(runs),
                  "Filled: beyond noise; grey band: the default's median interval (95%)."]
    return chart


def charts(results: rr.Results) -> list[ck.Chart]:
    by_workload = rr.sweeps(results)
    if not by_workload:
        return [ck.not_drawn("tuning", "overview", "GC tuning panels", ck.NO_SWEEP)]
    out = []
    if len(by_workload) > 1:
        out.append(overview_chart(by_workload))
    for workload, groups in by_workload.items():
        out.append(tuning_chart(workload, groups))
    return out
