"""RSS over time of one sample, with the workload's marks and every GC pause.

``rss_timeline_<workload>``: the resident set of the median sample (by wall time)
of the default configuration, sampled by the parent; the peak the kernel
recorded (VmHWM), which can lie above the samples; in grey what the process did
before the workload (start-up) and after it (reporting, exit); the workload's own marks,
labelled where their measured extents leave room; and below, on the same time
axis, each GC pause as a dot at its start, its length on a log scale, coloured
by generation.  A run too short for the sampling interval to draw a curve
(MIN_POINTS samples) is not drawn, and the report says so.

``arena_decay_<workload>``, where a workload ran at two arena decays or more
(``rtbench sweep --arena-decay``): the RSS over time of each, with the marks.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from matplotlib.axes import Axes

import chartkit as ck
import rtresults as rr
import rtstats as rs

MIN_POINTS = 6               # fewer RSS samples inside the workload: no curve
RASTER_PAUSES = 1500         # more pause dots than this are drawn as an image in SVG


def timeline_of(sample: Optional[dict]) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """(t_s, rss_bytes) of a sample sorted by time (the child's own readings at
    the start and end come last in the file), or None without two points."""
    timeline = (sample or {}).get("rss_timeline") or {}
    t, rss = timeline.get("t_s") or [], timeline.get("rss_bytes") or []
    pairs = sorted((a, b) for a, b in zip(t, rss) if rs.is_number(a) and rs.is_number(b))
    if len(pairs) < 2:
        return None
    arr = np.array(pairs, dtype=float)
    return arr[:, 0], arr[:, 1]


def pick_sample(run: rr.Run) -> tuple[Optional[dict], str]:
    """The median sample (by wall time), or the nearest one that has a timeline."""
    ranked = sorted((s for s in run.ok_samples if rs.is_number(s.get("wall_s"))),
                    key=lambda s: s["wall_s"])
    if not ranked:
        return None, ""
    mid = (len(ranked) - 1) // 2
    for i in sorted(range(len(ranked)), key=lambda i: (abs(i - mid), i)):
        if timeline_of(ranked[i]) is not None:
            why = "median" if i == mid else "nearest the median with a timeline"
            return ranked[i], f"{why} of {len(ranked)} ok samples by wall time"
    return None, ""


def points_inside(t: np.ndarray, wall: float) -> int:
    return int(np.count_nonzero((t >= 0) & (t <= wall)))


def draw_rss(ax: Axes, t: np.ndarray, rss: np.ndarray, wall: float) -> None:
    """The RSS during the workload, and in grey what the process did before it
    (start-up) and after it (reporting its result, exit)."""
    mib = rss / rs.MIB
    inside = (t >= 0) & (t <= wall)
    ax.plot(t[inside], mib[inside], color=ck.RTBENCH_COLOR, linewidth=1.3, label="RSS")
    outside = False
    for part in (t <= 0, t >= wall):
        if np.count_nonzero(part) > 1:
            ax.plot(t[part], mib[part], color="0.6", linewidth=1.0, linestyle=":",
                    label=None if outside else "RSS outside the workload")
            outside = True


def draw_marks(ax: Axes, marks: list[dict]) -> int:
    """The workload's marks as points, labelled without collisions; returns how
    many labels found no room."""
    items = [(m["t_s"], m["rss_bytes"] / rs.MIB, str(m.get("name", ""))) for m in marks
             if rs.is_number(m.get("t_s")) and rs.is_number(m.get("rss_bytes"))]
    if not items:
        return 0
    ax.plot([x for x, _, _ in items], [y for _, y, _ in items], marker="o", markersize=5,
            color="#c0392b", linestyle="none", zorder=4, label="workload marks")
    ax.figure.canvas.draw()
    return ck.place_labels(ax, items, color="#8e2a1f", fontsize=7.5)


def draw_pauses(ax: Axes, sample: dict) -> Optional[str]:
    """Each recorded pause as a dot (start, length), by generation; returns a
    note on what is shown, or None when the sample records no pause times."""
    pauses = rr.dig(sample, "gc.pauses") or {}
    starts, lengths = pauses.get("t_s") or [], pauses.get("seconds") or []
    gens = pauses.get("generation") or []
    if not starts or len(starts) != len(lengths):
        return None
    gens = gens if len(gens) == len(starts) else [0] * len(starts)
    rows = [(t, s, g) for t, s, g in zip(starts, lengths, gens)
            if rs.is_number(t) and rs.is_number(s) and s > 0]
    if not rows:
        return None
    many = len(rows) > RASTER_PAUSES
    for gen in sorted({g for _, _, g in rows}):
        mine = [(t, s) for t, s, g in rows if g == gen]
        ax.scatter([t for t, _ in mine], [s for _, s in mine], s=16 if len(rows) < 50 else 9 if len(rows) < 300 else 4,
                   color=ck.GEN_COLORS.get(gen, "0.5"), label=f"generation {gen}",
                   linewidths=0, zorder=3 + gen, rasterized=many)
    ax.set_yscale("log")
    lengths_shown = [s for _, s, _ in rows]
    low, high = min(lengths_shown) / 2, max(lengths_shown) * 2
    ax.set_ylim(low, high)
    ck.log_seconds_axis(ax.yaxis, low, high)
    ax.set_ylabel("GC pause")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title="GC pauses",
              markerscale=1.5)
    count = pauses.get("count")
    if pauses.get("subsampled") and rs.is_number(count):
        return f"{len(rows):,} of the sample's {int(count):,} pauses drawn (uniform subsample)"
    return rs.plural(len(rows), "pause")


def timeline_chart(results: rr.Results, key: tuple[str, str]) -> Optional[ck.Chart]:
    run = rr.default_run(results, key)
    if run is None:
        return None
    label = rr.key_label(results, key)
    name = f"rss_timeline_{ck.slug(label.replace('=', '-'))}"
    title = f"{label}: RSS over time"
    section = key[0]
    sample, why = pick_sample(run)
    if sample is None:
        return ck.not_drawn(name, section, title, "no sample with an RSS timeline",
                            [run.source.name])
    t, rss = timeline_of(sample)
    wall = float(sample.get("wall_s") or t[-1])
    interval = rr.dig(sample, "rss_timeline.interval_s")
    inside = points_inside(t, wall)
    if inside < MIN_POINTS:
        every = f" sampled every {interval * 1e3:g} ms" if rs.is_number(interval) else ""
        return ck.not_drawn(name, section, title,
                            f"a run of {rs.format_seconds(wall)}{every} gives {inside} RSS "
                            f"points; a curve needs {MIN_POINTS}", [run.source.name])
    fig, axes = ck.new_figure(8.0, 5.4, 2, 1, sharex=True,
                              gridspec_kw={"height_ratios": [3, 1.4]})
    ax, ax_p = axes[:, 0]
    draw_rss(ax, t, rss, wall)
    peak = sample.get("peak_rss_bytes")
    if rs.is_number(peak):
        ax.axhline(peak / rs.MIB, color="0.45", linestyle="--", linewidth=0.9,
                   label=f"peak (VmHWM): {rs.format_bytes(peak)}")
    ax.set_ylim(bottom=0, top=max(rss.max(), peak or 0) / rs.MIB * 1.12)
    ax.set_xlim(min(0.0, t[0]), max(t[-1], wall) * 1.01)
    ax.set_ylabel("RSS (MiB)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    pause_note = draw_pauses(ax_p, sample)
    if pause_note is None:
        ax_p.set_axis_off()
        ax.tick_params(labelbottom=True)
        ax.set_xlabel("time since the workload started (s)")
    else:
        ax_p.set_xlabel("time since the workload started (s)")
    left_out = draw_marks(ax, sample.get("marks") or [])
    caption = [f"{run.variant.label}"
               + (" (from the threshold0 sweep)" if run.role == "sweep" else "")
               + f"; sample {sample.get('index')} ({why}); wall time "
               f"{rs.format_seconds(wall)}; RSS sampled every "
               + (f"{interval * 1e3:g} ms ({inside} points)." if rs.is_number(interval)
                  else f"? ({inside} points).")]
    caption.append(f"GC pauses: {pause_note}." if pause_note else
                   "GC pauses: the sample records no pause times.")
    notes = [n for n in (run.problem("using"),) if n]
    if left_out:
        notes.append(f"{rs.plural(left_out, 'mark label')} left out for want of room")
    chart = ck.Chart(name, section, title, caption=caption + notes, figure=fig,
                     sources=[run.source.name])
    chart.foot = [rr.machines_line([run])] + caption + ck.notes_line(notes)
    return chart


def decay_runs(results: rr.Results, key: tuple[str, str]) -> list[rr.Run]:
    """The rtbench runs of key that differ from its default run only in the
    arena decay, one per decay (a run before a sweep), in increasing decay."""
    base = rr.default_run(results, key)
    if base is None:
        return []

    def axes_but_decay(run: rr.Run) -> tuple:
        v = run.variant
        return (v.rc, v.alloc, v.gc, v.threshold)

    by_decay: dict[int, rr.Run] = {}
    for run in sorted(results.runs, key=lambda r: rr.ROLE_RANK[r.role]):
        if (run.key == key and run.role != "cpython" and run.ok_samples
                and axes_but_decay(run) == axes_but_decay(base)):
            decay = rr.DEFAULT_ARENA_DECAY_MS if run.variant.decay is None else run.variant.decay
            by_decay.setdefault(decay, run)
    return [by_decay[d] for d in sorted(by_decay)]


def decay_chart(results: rr.Results, key: tuple[str, str]) -> Optional[ck.Chart]:
    """``arena_decay_<workload>``: the RSS over time of the median sample at
    each arena decay the workload ran with, and the workload's marks -- how
    much memory the pool keeps mapped once a structure is dropped, and until
    when.  Only where there are two decays or more (a sweep over
    --arena-decay)."""
    runs = [(run, pick_sample(run)[0]) for run in decay_runs(results, key)]
    runs = [(run, sample) for run, sample in runs if sample is not None]
    if len(runs) < 2:
        return None
    label = rr.key_label(results, key)
    fig, axes = ck.new_figure(8.0, 4.5)
    ax = axes[0, 0]
    top = 0.0
    for i, (run, sample) in enumerate(runs):
        t, rss = timeline_of(sample)
        decay = run.variant.decay
        color = ck.SERIES_COLORS[i % len(ck.SERIES_COLORS)]
        ms = rr.DEFAULT_ARENA_DECAY_MS if decay is None else decay
        ax.plot(t, rss / rs.MIB, color=color, linewidth=1.3,
                label=f"decay {ms} ms" + (" (default)" if decay is None else ""))
        marks = [(m["t_s"], m["rss_bytes"] / rs.MIB) for m in sample.get("marks") or []
                 if rs.is_number(m.get("t_s")) and rs.is_number(m.get("rss_bytes"))]
        ax.plot([x for x, _ in marks], [y for _, y in marks], marker="o", markersize=4,
                color=color, linestyle="none", zorder=4)
        top = max(top, float(rss.max()) / rs.MIB)
    ax.set_ylim(bottom=0, top=top * 1.12)
    ax.set_xlabel("time since the workload started (s)")
    ax.set_ylabel("RSS (MiB)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title="arena decay")
    ends = []
    for run, sample in runs:
        marks = [m for m in sample.get("marks") or [] if rs.is_number(m.get("rss_bytes"))]
        if marks:
            ms = rr.DEFAULT_ARENA_DECAY_MS if run.variant.decay is None else run.variant.decay
            ends.append(f"{ms} ms: {rs.format_bytes(marks[-1]['rss_bytes'])} at "
                        f"'{marks[-1].get('name', '?')}'")
    v = runs[0][0].variant
    caption = [f"{rr.Variant(v.rc, v.alloc, v.gc, v.threshold).label} but the arena decay "
               "(--arena-decay); the median sample of each by wall time; points: the "
               "workload's marks" + ("; at the last mark, " + ", ".join(ends) if ends else "")
               + "."]
    notes = [n for run, _ in runs if (n := run.problem("using"))]
    name = f"arena_decay_{ck.slug(label.replace('=', '-'))}"
    chart = ck.Chart(name, key[0], f"{label}: RSS over time by arena decay",
                     caption=caption + notes, figure=fig,
                     sources=sorted({run.source.name for run, _ in runs}))
    chart.foot = [rr.machines_line([run for run, _ in runs])] + caption + ck.notes_line(notes)
    return chart


def charts(results: rr.Results) -> list[ck.Chart]:
    out = [chart for key in rr.main_keys(results)
           for chart in (timeline_chart(results, key), decay_chart(results, key))
           if chart is not None]
    return out or [ck.not_drawn("rss_timeline", "overview", "RSS over time",
                                "no rtbench run with an ok sample in this folder")]
