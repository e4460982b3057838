"""Thread scaling of the threaded refcount variants (the suite's threads.json,
beside runs.json's one-thread runs).

``threads``: a column per workload.  Above, throughput against threads,
relative to one nonatomic thread, a line per variant, and a dotted line at T
(T threads each as fast as one nonatomic thread).  Below, the collections'
pauses and the time to safepoint, totals per run (medians of the samples).
Every thread count does the same total work.  The report gives the whole
throughput table under it (rtscaling's, as scripts/scaling's summary).

``figure`` draws any such points: scripts/scaling draws its chart with it too,
adding its processes' ceiling and the CPython twins as series.
"""

from __future__ import annotations

from typing import Optional

from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

import chartkit as ck
import rtresults as rr
import rtscaling

# {workload: {series: [(threads, throughput, collections_s, safepoint_s), ...]}}:
# a series is a refcount variant, or "processes" (the processes' ceiling), or
# a CPython label; the last two have no pauses.
Points = dict[str, dict[str, list[tuple[int, Optional[float], Optional[float], Optional[float]]]]]

NO_RUNS = ("no run at more than one thread in this folder (the suite's threads.json; or "
           "rtbench run WORKLOAD --rc biased --threads 2, beside a one-thread run)")


def series_style(name: str) -> dict:
    if name == "processes":
        return {"color": "black", "linestyle": "--", "label": "processes' ceiling"}
    if name.startswith("CPython"):
        return {"color": "0.5", "linestyle": ":", "marker": "s", "label": name}
    return {"color": ck.RC_COLORS.get(name, ck.DEFAULT_COLOR), "marker": ck.RC_MARKERS.get(name, "o"),
            "label": name}


def thread_axis(ax, counts: list[int]) -> None:
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(counts))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([str(t) for t in counts])


def figure(points: Points) -> Figure:
    """The two rows of panels for ``points``, a column per workload."""
    workloads = list(points)
    fig, axes = ck.new_figure(max(2.9 * len(workloads) + 0.6, 6.5), 6.2, 2, len(workloads))
    for i, w in enumerate(workloads):
        top, bottom = axes[0, i], axes[1, i]
        counts = sorted({p[0] for pts in points[w].values() for p in pts})
        top.plot(counts, counts, color="0.6", linestyle=":", linewidth=1, label="T × one nonatomic thread")
        for name, pts in points[w].items():
            pts = sorted(p for p in pts if p[1] is not None)
            top.plot([p[0] for p in pts], [p[1] for p in pts], **series_style(name))
            paused = [p for p in pts if p[2] is not None]
            if paused and name in ck.RC_COLORS:
                style = series_style(name)
                bottom.plot([p[0] for p in paused], [p[2] for p in paused], color=style["color"],
                            marker=style["marker"], label=f"{name}: collections")
                bottom.plot([p[0] for p in paused], [p[3] or 0.0 for p in paused], color=style["color"],
                            marker="x", linestyle="--", label=f"{name}: to safepoint")
        top.set_title(w)
        for ax in (top, bottom):
            thread_axis(ax, counts)
        bottom.set_xlabel("threads")
        bottom.set_ylim(bottom=0)
        bottom.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: ck.seconds_label(v)))
    axes[0, 0].set_ylabel("throughput / one nonatomic thread")
    axes[1, 0].set_ylabel("GC pauses, total per run")
    for ax in axes[:, -1]:
        # Outside, right of the last column: inside, "best" still sat on a
        # line wherever every corner held one (shared_refs' CPython line).
        ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return fig


def suite_points(scaling: dict[str, list[tuple[str, rtscaling.ScalingRow]]]) -> Points:
    return {w: {rc: [(row.threads, row.throughput, row.collections, row.safepoint)
                     for c, row in rows if c == rc]
                for rc in dict.fromkeys(c for c, _ in rows)}
            for w, rows in scaling.items()}


def verdicts(scaling: dict[str, list[tuple[str, rtscaling.ScalingRow]]]) -> list[str]:
    """At the most threads run: each variant's speedup over its own one
    thread, the share of the threads' time the stops took (where it reaches
    1%), and shared_refs' biased against atomic."""
    most = max(row.threads for rows in scaling.values() for _, row in rows)
    lines = []
    for rc in rr.RC_ORDER:
        at_most = [(w, row) for w, rows in scaling.items() for c, row in rows if c == rc and row.threads == most]
        shown = [f"{w} {row.speedup:.2f}×" for w, row in at_most if row.speedup is not None]
        if shown:
            lines.append(f"{rc} at {most} threads, against its own one thread: {', '.join(shown)}.")
    for rc in rr.RC_ORDER:
        stopped = [(w, [row for c, row in rows if c == rc]) for w, rows in scaling.items()]
        shown = [f"{w} {ends[0].stalled:.0%} → {ends[-1].stalled:.0%}" for w, ends in stopped
                 if len(ends) > 1 and ends[0].threads == 1 and ends[-1].threads == most
                 and ends[0].stalled is not None and ends[-1].stalled is not None
                 and max(ends[0].stalled, ends[-1].stalled) >= 0.01]
        if shown:
            lines.append(f"{rc}, the share of the threads' time the stops took, one thread → {most}: "
                         f"{', '.join(shown)}.")
    tops = {c: row.throughput for c, row in scaling.get("shared_refs", []) if row.threads == most}
    if tops.get("biased") and tops.get("atomic"):
        lines.append(f"shared_refs at {most} threads: biased {tops['biased'] / tops['atomic']:.2f}× "
                     "atomic's throughput.")
    return lines


def charts(results: rr.Results) -> list[ck.Chart]:
    scaling = rr.thread_scaling(results)
    sources = sorted({r.source.name for r in results.select("scaling")})
    title = "Thread scaling: throughput and GC pauses against threads"
    if not scaling:
        return [ck.not_drawn("threads", "threads", title, NO_RUNS, sources)]
    how = ("Above: work per second against one nonatomic thread, every thread count doing the same "
           "total work (the dotted line: T threads each as fast as one nonatomic thread). Below: the "
           "collections' pauses (every thread stopped) and the time the stoppers waited for a "
           "safepoint, totals per run; medians of the samples. The table splits each speedup into "
           "the time outside collections and the collections', and gives the share of all the "
           "threads' time the stops took (scripts/scaling adds the processes' ceiling and the "
           "machine's).")
    caption = verdicts(scaling) + [how]
    chart = ck.Chart("threads", "threads", title, caption=caption, sources=sources,
                     figure=figure(suite_points(scaling)))
    chart.foot = [rr.machines_line(results.runs)] + caption[:-1]
    chart.table_label = "every variant at every thread count, each speedup split (as summary.md)"
    chart.table = (rtscaling.TABLE_HEADER,
                   [rtscaling.table_cells(w, rc, row) for w, rows in scaling.items() for rc, row in rows])
    return [chart]
