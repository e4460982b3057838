"""The GC pause percentile spectrum (after HdrHistogram's percentile plots).

``pauses_<workload>``: for each threshold0 of the sweep, the pause length at the
50th, 90th, 99th, 99.9th and 99.99th percentile and the longest pause, on an
axis where each step is ten times rarer (log10 of 1 / (1 − p)), log time up.
A percentile is drawn only when the recorded pauses hold enough values for it
(TAIL_VALUES at or beyond it: 20 for p50, 1,000 for p99); the caption says
which are left out.  Recorded pause lists may be a uniform subsample (the
result says ``subsampled``): the percentiles then come from the subsample, and
the count and the maximum from the exact figures the harness kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from matplotlib import ticker

import chartkit as ck
import rtresults as rr
import rtstats as rs

T0 = rr.DEFAULT_THRESHOLD[0]
MAX_POSITION = rs.spectrum_position(rs.SPECTRUM[-1][1]) + 1.0


# The percentiles the harness computes on each sample's every pause.
EXACT_FIELDS = {"50": "gc.pauses.p50_s", "90": "gc.pauses.p90_s", "99": "gc.pauses.p99_s"}


@dataclass
class Spectrum:
    t0: int
    pauses: rr.PauseSet
    points: list[tuple[str, float, float]]      # (label, x, seconds) of shown percentiles
    omitted: list[str]                          # labels left out for want of pauses
    per_sample: list[str]                       # labels taken from each sample's own figure

    @property
    def max_s(self) -> Optional[float]:
        return self.pauses.max_s


def per_sample_percentile(run: rr.Run, label: str, pct: float) -> Optional[float]:
    """The median over the ok samples of the harness's percentile of each
    sample's pauses, when every sample has enough pauses for it."""
    path = EXACT_FIELDS.get(label)
    values = []
    for sample in run.ok_samples if path else ():
        count, value = rr.dig(sample, "gc.pauses.count"), rr.dig(sample, path)
        if not (rs.is_number(count) and rs.is_number(value)) or count < rs.values_needed(pct):
            return None
        values.append(float(value))
    return float(np.median(values)) if values else None


def spectrum(run: rr.Run) -> Spectrum:
    """Each percentile from the recorded pauses pooled when they are enough for
    it; else from the samples' own figures (computed by the harness on every
    pause) when each sample had enough; else left out."""
    pauses = run.pauses()
    values = np.array([p for p in pauses.recorded if p > 0])
    result = Spectrum(run.threshold0, pauses, [], [], [])
    for label, pct in rs.SPECTRUM:
        x = rs.spectrum_position(pct)
        if len(values) >= rs.values_needed(pct):
            result.points.append((label, x, float(np.percentile(values, pct))))
        elif (value := per_sample_percentile(run, label, pct)) is not None:
            result.points.append((label, x, value))
            result.per_sample.append(label)
        else:
            result.omitted.append(label)
    return result


def legend_label(s: Spectrum) -> str:
    """``700 (default): 26,155 pauses, 640 recorded``."""
    text = f"{s.t0}{' (default)' if s.t0 == T0 else ''}: {s.pauses.count:,} pauses"
    if s.pauses.subsampled:
        text += f", {len(s.pauses.recorded):,} recorded"
    return text


def by_thresholds(spectra: list[Spectrum], attr: str) -> str:
    """``p99.9, p99.99 at every threshold0; p90 at t0 = 100000``: the labels in
    ``attr`` of each spectrum, grouped by the thresholds where they occur."""
    where: dict[str, list[int]] = {}
    for s in spectra:
        for label in getattr(s, attr):
            where.setdefault(label, []).append(s.t0)
    groups: dict[tuple, list[str]] = {}
    for label, t0s in where.items():
        groups.setdefault(tuple(t0s), []).append(f"p{label}")
    parts = []
    for t0s, labels in groups.items():
        at = ("every threshold0" if len(t0s) == len(spectra)
              else "t0 = " + ", ".join(map(str, t0s)))
        parts.append(f"{', '.join(labels)} at {at}")
    return "; ".join(parts)


def omissions_line(spectra: list[Spectrum]) -> str:
    """Which percentiles are left out where, and why."""
    where = by_thresholds(spectra, "omitted")
    if not where:
        return ""
    needs = ", ".join(f"p{label} {rs.values_needed(pct):,}" for label, pct in rs.SPECTRUM)
    return (f"Left out for want of pauses: {where} (a percentile needs {rs.TAIL_VALUES} "
            f"pauses beyond it: {needs}).")


def basis_line(spectra: list[Spectrum]) -> str:
    where = by_thresholds(spectra, "per_sample")
    base = "Percentiles of the recorded pauses of all ok samples pooled"
    if not where:
        return base + "."
    return (base + f"; {where}: the median of each sample's own percentile (the harness's, "
            "over every pause), the recorded pauses being too few.")


def verdict(spectra: list[Spectrum]) -> str:
    """The default's spectrum and the longest p99 and max of the sweep."""
    default = next((s for s in spectra if s.t0 == T0), None)
    parts = []
    if default and default.points:
        parts.append(f"at t0 = {T0}: " + ", ".join(
            f"p{label} {rs.format_seconds(v)}" for label, _, v in default.points)
            + (f", max {rs.format_seconds(default.max_s)}" if default.max_s else ""))
    with_p99 = [(v, s.t0) for s in spectra for label, _, v in s.points if label == "99"]
    if with_p99:
        worst, at = max(with_p99)
        parts.append(f"longest p99 {rs.format_seconds(worst)} at t0 = {at}")
    with_max = [(s.max_s, s.t0) for s in spectra if s.max_s]
    if with_max:
        worst, at = max(with_max)
        parts.append(f"longest pause {rs.format_seconds(worst)} at t0 = {at}")
    return "; ".join(parts) + "." if parts else ""


def draw(ax, spectra: list[Spectrum]) -> None:
    colors = ck.threshold_colors(len(spectra))
    for s, color in zip(spectra, colors):
        default = s.t0 == T0
        style = dict(color=ck.DEFAULT_COLOR if default else color,
                     linewidth=2.2 if default else 1.3, zorder=4 if default else 3)
        xs = [x for _, x, _ in s.points]
        ys = [v for _, _, v in s.points]
        if xs:
            ax.plot(xs, ys, marker="o", markersize=4, label=legend_label(s), **style)
        if s.max_s:
            if xs:
                ax.plot([xs[-1], MAX_POSITION], [ys[-1], s.max_s], linestyle=":", **style)
            ax.plot([MAX_POSITION], [s.max_s], marker="D", markersize=4.5, **style,
                    label=None if xs else legend_label(s))
    positions = [rs.spectrum_position(p) for _, p in rs.SPECTRUM] + [MAX_POSITION]
    labels = [f"{label}%" for label, _ in rs.SPECTRUM] + ["max"]
    ax.xaxis.set_major_locator(ticker.FixedLocator(positions))
    ax.xaxis.set_major_formatter(ticker.FixedFormatter(labels))
    ax.set_xlim(positions[0] - 0.25, MAX_POSITION + 0.3)
    values = [v for s in spectra for _, _, v in s.points] + [s.max_s for s in spectra if s.max_s]
    ax.set_yscale("log")
    low, high = min(values), max(values)
    ax.set_ylim(low / 1.6, high * 1.6)
    ck.log_seconds_axis(ax.yaxis, low / 1.6, high * 1.6)
    ax.set_xlabel("percentile (each step ten times rarer)")
    ax.set_ylabel("GC pause (log scale)")
    ax.legend(title="threshold0", loc="upper left", bbox_to_anchor=(1.01, 1.0))


def pause_chart(workload: str, groups: list[rr.SweepGroup]) -> ck.Chart:
    group = groups[0]
    name, title = f"pauses_{ck.slug(workload)}", f"{workload}: GC pause percentiles per threshold0"
    sources = sorted({r.source.name for r in group.runs})
    spectra = [spectrum(r) for r in group.runs if r.threshold0 and r.threshold0 > 0 and r.ok_samples]
    spectra = [s for s in spectra if s.max_s]
    drawable = [s for s in spectra if s.points]
    if not drawable:
        most = max((len(s.pauses.recorded) for s in spectra), default=0)
        why = (f"too few GC pauses: at most {most:,} recorded per threshold0, and the median "
               f"needs {rs.values_needed(50)}" if spectra else "no GC pause recorded")
        return ck.not_drawn(name, workload, title, why, sources)
    fig, axes = ck.new_figure(8.0, 4.6)
    draw(axes[0, 0], spectra)
    caption = [verdict(spectra), basis_line(spectra)]
    omitted = omissions_line(spectra)
    if omitted:
        caption.append(omitted)
    notes = []
    subsampled = [s.t0 for s in spectra if s.pauses.subsampled]
    if subsampled:
        notes.append(f"pauses subsampled (uniformly) at t0 = {', '.join(map(str, subsampled))}: "
                     "percentiles from the recorded pauses; counts and max exact")
    notes += [p for r in group.runs if (p := r.problem("using"))]
    chart = ck.Chart(name, workload, title, caption=caption + [n[0].upper() + n[1:] + "."
                                                               for n in notes],
                     sources=sources, figure=fig)
    chart.foot = ([rr.machines_line(group.runs),
                   f"Configuration {group.variant.label.split(' t:')[0]}; dotted: on to the "
                   "longest pause."] + caption + ck.notes_line(notes))
    return chart


def charts(results: rr.Results) -> list[ck.Chart]:
    by_workload = rr.sweeps(results)
    if not by_workload:
        return [ck.not_drawn("pauses", "overview", "GC pause spectra", ck.NO_SWEEP)]
    return [pause_chart(workload, groups) for workload, groups in by_workload.items()]
