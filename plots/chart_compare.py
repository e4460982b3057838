"""Ratios between configurations, as dots with 95% intervals on a log axis.

* ``vs_cpython``: rtbench ÷ CPython per workload, time and peak RSS, both
  medians written beside each dot.
* ``backends``: each allocator backend ÷ pool (nonatomic), the debug backend in
  a panel of its own so that it does not set the scale of the others.
* ``variants``: atomic and biased ÷ nonatomic reference counting (with the same
  backend): what each threaded design costs a single thread.

``ratio_rows`` also feeds the report's headline table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import matplotlib
from matplotlib.axes import Axes
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D

import chartkit as ck
import rtresults as rr
import rtstats as rs

METRICS = (("wall_s", "time"), ("peak_rss_bytes", "peak RSS"))
DEBUG = "debug"


@dataclass
class Comparison:
    """One ratio of one workload: ``a ÷ b`` for a metric."""

    key: tuple[str, str]
    ratio: Optional[rs.Ratio]
    a: Optional[rr.Run]
    b: Optional[rr.Run]
    metric: str


def compare(key, a: Optional[rr.Run], b: Optional[rr.Run], metric: str) -> Comparison:
    ratio = None
    if a is not None and b is not None:
        ratio = rs.ratio_of_medians(a.values(metric), b.values(metric),
                                    f"{a.name}|{b.name}|{metric}")
    return Comparison(key, ratio, a, b, metric)


def absolute(run: Optional[rr.Run], metric: str) -> str:
    stat = run.stat(metric) if run else None
    if stat is None:
        return "n/a"
    return rs.format_bytes(stat.median) if metric == "peak_rss_bytes" \
        else rs.format_seconds(stat.median)


# ---------------------------------------------------------------------------
# Which runs are compared


def config_table(results: rr.Results) -> dict[tuple, dict[tuple, rr.Run]]:
    """(workload, params) -> {(rc, alloc): run} over the configurations."""
    return {k: {(r.variant.rc, r.variant.alloc): r for r in rr.configurations(results, k)
                if r.ok_samples}
            for k in rr.main_keys(results)}


def backend_ratios(results: rr.Results, metric: str) -> dict[str, list[Comparison]]:
    """backend -> its ratio to pool (nonatomic) per workload."""
    out: dict[str, list[Comparison]] = {}
    for key, row in config_table(results).items():
        base = row.get((rr.DEFAULT_RC, rr.DEFAULT_ALLOC))
        for (rc, alloc), run in row.items():
            if rc == rr.DEFAULT_RC and alloc != rr.DEFAULT_ALLOC and base is not None:
                out.setdefault(alloc, []).append(compare(key, run, base, metric))
    return dict(sorted(out.items(), key=lambda kv: rr.axis_order(kv[0], rr.ALLOC_ORDER)))


def variant_label(rc: str, alloc: str) -> str:
    """``biased``, or ``atomic/malloc`` off the default backend."""
    return rc if alloc == rr.DEFAULT_ALLOC else f"{rc}/{alloc}"


def variant_ratios(results: rr.Results, metric: str) -> dict[str, list[Comparison]]:
    """variant (``atomic``, ``biased``, ``atomic/malloc``...) -> its ratio to
    nonatomic with the same backend, per workload."""
    out: dict[tuple, tuple[str, list[Comparison]]] = {}
    for key, row in config_table(results).items():
        for (rc, alloc), run in row.items():
            plain = row.get((rr.DEFAULT_RC, alloc))
            if rc != rr.DEFAULT_RC and plain is not None:
                order = (rr.axis_order(alloc, rr.ALLOC_ORDER), rr.axis_order(rc, rr.RC_ORDER))
                out.setdefault(order, (variant_label(rc, alloc), []))[1].append(compare(key, run, plain, metric))
    return dict(out[k] for k in sorted(out))


def variant_color(label: str):
    rc, _, alloc = label.partition("/")
    return ck.RC_COLORS.get(rc) if not alloc else ck.backend_color(alloc)


def cpython_ratios(results: rr.Results, metric: str) -> list[Comparison]:
    return [compare(key, rt, cp, metric) for key, rt, cp in rr.cpython_pairs(results)]


# ---------------------------------------------------------------------------
# Verdicts


def summarize(what: str, comparisons: list[Comparison], label: Callable) -> str:
    """``malloc: slower beyond noise on 7 of 8 workloads (1.03× to 1.40×); within
    noise: gc_traversal``."""
    rated = [c for c in comparisons if c.ratio]
    if not rated:
        return f"{what}: no ratio."
    values = [c.ratio.value for c in rated]
    above = [c for c in rated if c.ratio.beyond_noise and c.ratio.value > 1]
    below = [c for c in rated if c.ratio.beyond_noise and c.ratio.value < 1]
    within = [label(c.key) for c in rated if not c.ratio.beyond_noise]
    parts = []
    if above:
        parts.append(f"higher on {len(above)}")
    if below:
        parts.append(f"lower on {len(below)}")
    text = f"{what}: " + ("beyond noise " + " and ".join(parts) + f" of {len(rated)}"
                          if parts else f"within noise on all {len(rated)}")
    text += f" ({rs.format_ratio(min(values))} to {rs.format_ratio(max(values))})"
    if parts and within:
        text += "; within noise: " + ", ".join(within)
    return text + "."


# ---------------------------------------------------------------------------
# Drawing


def dot_panel(ax: Axes, rows: list[tuple[str, str]], series: list[tuple[str, object, str, list[Comparison]]],
              row_labels: list[str]) -> list:
    """Workloads top to bottom; per series a dot with its interval in each row,
    offset so that the series of a row do not hide each other."""
    n = len(series)
    handles = []
    for j, (label, color, marker, comparisons) in enumerate(series):
        offset = (j - (n - 1) / 2) * (0.7 / max(n, 1))
        by_key = {c.key: c for c in comparisons}
        for i, key in enumerate(rows):
            c = by_key.get(key)
            if c and c.ratio:
                ck.ratio_dot(ax, i + offset, c.ratio, color, marker, size=5)
        handles.append(Line2D([], [], color=color, marker=marker, linestyle="none", label=label))
    ck.one_line(ax, vertical=True)
    ax.set_yticks(range(len(rows)))
    # A long label (a workload with many params) wrapped to a third of the
    # figure: unwrapped, it squeezed the panels until the right one's title
    # ran off the figure.
    fig = ax.figure
    size = FontProperties(size=matplotlib.rcParams["ytick.labelsize"]).get_size_in_points()
    ax.set_yticklabels([ck.wrap_to_width(label, fig.get_figwidth() * fig.dpi / 3, fig, size)
                        for label in row_labels])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    for i in range(1, len(rows)):
        ax.axhline(i - 0.5, color="0.93", linewidth=0.6, zorder=0)
    low, high = ck.ratio_limits(c.ratio for _, _, _, cs in series for c in cs)
    ck.ratio_axis(ax, "x", low, high)
    return handles


def foot_of(runs: list[rr.Run], comparisons: list[Comparison], extra: list[str]) -> list[str]:
    return ([rr.machines_line(runs), ck.interval_legend_note(c.ratio for c in comparisons)]
            + extra)


def runs_of(comparisons: list[Comparison]) -> list[rr.Run]:
    return list(dict.fromkeys(r for c in comparisons for r in (c.a, c.b) if r is not None))


def sources(runs: list[rr.Run]) -> list[str]:
    return sorted({r.source.name for r in runs})


# ---------------------------------------------------------------------------
# The charts


def vs_cpython_chart(results: rr.Results) -> ck.Chart:
    name, title = "vs_cpython", "rtbench against CPython: one ratio per workload"
    per_metric = {m: cpython_ratios(results, m) for m, _ in METRICS}
    if not per_metric["wall_s"]:
        why = ("no CPython run" if not results.select("cpython")
               else "no CPython run matches an rtbench run (workload and params)")
        return ck.not_drawn(name, "overview", title, why)
    keys = [c.key for c in per_metric["wall_s"]]
    labels = [rr.key_label(results, k) for k in keys]
    fig, axes = ck.new_figure(10.0, 1.4 + 0.42 * len(keys), 1, 2, sharey=True)
    captions = []
    for ax, (metric, what) in zip(axes[0], METRICS):
        comps = per_metric[metric]
        dot_panel(ax, keys, [("rtbench ÷ CPython", ck.RTBENCH_COLOR, "o", comps)], labels)
        ax.set_title(f"{what}: rtbench ÷ CPython (log scale)")
        ax.set_xlabel("below 1×: rtbench faster or smaller")
        fig.canvas.draw()
        items = [(c.ratio.value, i, f"{absolute(c.a, metric)} vs {absolute(c.b, metric)}")
                 for i, c in enumerate(comps) if c.ratio]
        left_out = ck.place_labels(ax, items, fontsize=6.5)
        if left_out:
            captions.append(f"{what}: {rs.plural(left_out, 'label')} left out for want of room")
        captions.append(summarize(f"rtbench ÷ CPython, {what}", comps,
                                     lambda k: rr.key_label(results, k)))
    runs = runs_of(per_metric["wall_s"])
    pythons = sorted({str(c.b.config.get("python")) for c in per_metric["wall_s"]
                      if c.b and c.b.config.get("python")})
    extra = ["Labels: rtbench's median vs CPython's, at the same params and thresholds; "
             f"rtbench as {', '.join(sorted({c.a.variant.label for c in per_metric['wall_s']}))}"
             + (f"; CPython: {', '.join(pythons)}." if pythons else ".")]
    chart = ck.Chart(name, "overview", title, caption=captions + extra,
                     sources=sources(runs), figure=fig)
    chart.foot = foot_of(runs, per_metric["wall_s"], captions + extra)
    return chart


def per_metric_rows(results: rr.Results, ratios_of: Callable):
    """``ratios_of`` for each metric, the workloads that have a time ratio (in
    display order) and their labels."""
    per_metric = {m: ratios_of(results, m) for m, _ in METRICS}
    keys = [k for k in rr.main_keys(results)
            if any(c.key == k for comps in per_metric["wall_s"].values() for c in comps)]
    return per_metric, keys, [rr.key_label(results, k) for k in keys]


def split_debug(ratios: dict[str, list[Comparison]]) -> tuple[dict, dict]:
    return ({a: c for a, c in ratios.items() if a != DEBUG},
            {a: c for a, c in ratios.items() if a == DEBUG})


def backends_chart(results: rr.Results) -> ck.Chart:
    name, title = "backends", "Allocator backends against pool (nonatomic reference counting)"
    per_metric, keys, labels = per_metric_rows(results, backend_ratios)
    if not keys:
        return ck.not_drawn(name, "overview", title,
                            "no workload ran under pool and another backend")
    has_debug = DEBUG in per_metric["wall_s"]
    widths = [3, 1.4, 3, 1.4] if has_debug else [1, 1]
    fig, axes = ck.new_figure(12.0 if has_debug else 9.0, 1.8 + 0.5 * len(keys), 1, len(widths),
                              sharey=True, gridspec_kw={"width_ratios": widths})
    panels = iter(axes[0])
    captions, handles = [], []
    for metric, what in METRICS:
        real, debug = split_debug(per_metric[metric])
        for group, suffix in ((real, ""), (debug, " (debug)")):
            if not group:
                continue
            ax = next(panels)
            series = [(alloc, ck.backend_color(alloc), "o", cs) for alloc, cs in group.items()]
            found = dot_panel(ax, keys, series, labels)
            handles += [h for h in found if h.get_label() not in [x.get_label() for x in handles]]
            ax.set_title(f"{what}{suffix}\n÷ pool (log scale)", fontsize=8.5)
            captions += [summarize(f"{alloc} {what}", cs, lambda k: rr.key_label(results, k))
                         for alloc, cs in group.items()]
    axes[0, -1].legend(handles=handles, title="backend", loc="upper left",
                       bbox_to_anchor=(1.02, 1.0))
    comps = [c for cs in per_metric["wall_s"].values() for c in cs]
    runs = runs_of(comps + [c for cs in per_metric["peak_rss_bytes"].values() for c in cs])
    extra = ["The debug backend (guard bytes, poisoning, a quarantine) has its own panels: "
             "its cost would set the others' scale."] if has_debug else []
    chart = ck.Chart(name, "overview", title, caption=captions + extra,
                     sources=sources(runs), figure=fig)
    chart.foot = foot_of(runs, comps, extra)
    return chart


def variants_chart(results: rr.Results) -> ck.Chart:
    name, title = "variants", "Atomic and biased against plain reference counting, one thread"
    per_metric, keys, labels = per_metric_rows(results, variant_ratios)
    if not keys:
        return ck.not_drawn(name, "overview", title,
                            "no workload ran under both refcount variants")
    fig, axes = ck.new_figure(10.0, 1.8 + 0.5 * len(keys), 1, 2, sharey=True)
    captions, handles = [], []
    for ax, (metric, what) in zip(axes[0], METRICS):
        series = [(variant, variant_color(variant), ck.RC_MARKERS.get(variant.partition("/")[0], "D"), cs)
                  for variant, cs in per_metric[metric].items()]
        handles = dot_panel(ax, keys, series, labels)
        ax.set_title(f"{what}: variant ÷ nonatomic (log scale)")
        captions += [summarize(f"{variant} {what}", cs, lambda k: rr.key_label(results, k))
                     for variant, cs in per_metric[metric].items()]
    axes[0, -1].legend(handles=handles, title="variant", loc="upper left",
                       bbox_to_anchor=(1.02, 1.0))
    comps = [c for cs in per_metric["wall_s"].values() for c in cs]
    runs = runs_of(comps)
    chart = ck.Chart(name, "overview", title, caption=captions, sources=sources(runs), figure=fig)
    chart.foot = foot_of(runs, comps, [])
    return chart


def charts(results: rr.Results) -> list[ck.Chart]:
    return [vs_cpython_chart(results), variants_chart(results), backends_chart(results)]
