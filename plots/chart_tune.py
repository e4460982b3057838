#!/usr/bin/python3
"""The chart of an ``rtbench tune`` search: every setting it measured against
the interpreter's defaults, on wall time, peak RSS and the p99 pause.

    chart_tune.py DIR/tune.json [--out DIR]

Writes tune.png and tune.svg beside tune.json (or in --out): one panel per
metric, threshold0 on a log axis, each candidate's ratio to the defaults with
its interval (filled: clear of 1; hollow: within noise), the coarse stage
in light dots, the fine stage in dark ones, threshold1/threshold2 changes as
triangles, the Pareto front ringed and the recommendation starred.  The title
says the answer: the gc.set_threshold line, or keep the defaults.

Exit status 0, or 2 when tune.json cannot be read (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import chartkit as ck
import rtstats as rs

METRICS = (("wall_s", "wall time"), ("peak_rss_bytes", "peak RSS"), ("gc_pause_p99_s", "p99 pause"))
STAGE_STYLE = {"coarse": ("0.6", "o"), "fine": (ck.SERIES_COLORS[0], "o"), "generations": (ck.SERIES_COLORS[1], "^")}


def ratio_of(effect: dict, samples: int, control: int):
    """An rtstats Ratio from one effect of tune.json (None without a ratio)."""
    if not effect or effect.get("ratio") is None:
        return None
    return rs.Ratio(effect["ratio"], effect.get("ci95_low"), effect.get("ci95_high"), control, samples)


def points(tune: dict):
    """(stage, threshold, {metric: Ratio}, pareto) for every candidate."""
    out = []
    for stage in tune["stages"]:
        control = stage["candidates"][0]["samples"]
        for c in stage["candidates"][1:]:
            ratios = {m: ratio_of(c["effects"].get(m), c["samples"], control) for m, _ in METRICS}
            out.append((stage["stage"], c["threshold"], ratios, c["pareto"]))
    return out


def title(tune: dict) -> str:
    rec = tune["recommendation"]
    target = tune["program"]["target"].rsplit("/", 1)[-1]
    answer = "keep the defaults" if rec["keep_defaults"] else rec["line"]
    return f"rtbench tune {target} ({tune['objective']}): {answer}"


def draw(tune: dict) -> ck.Chart:
    chart = ck.Chart("tune", "tune", title(tune), sources=["tune.json"])
    pts = points(tune)
    rec = tune["recommendation"]
    default = tune["defaults"][0]
    with ck.style():
        fig, axes = ck.new_figure(9.0, 3.4, 1, len(METRICS))
        for ax, (metric, label) in zip(axes[0], METRICS):
            ratios = [r[metric] for _, _, r, _ in pts if r[metric]]
            if not ratios:
                ax.text(0.5, 0.5, "no ratio: the defaults' median is 0\n(no collection timed)",
                        transform=ax.transAxes, ha="center", va="center", fontsize=7, color="0.35")
            low, high = ck.ratio_limits(ratios)
            ck.ratio_axis(ax, "y", low, high)
            ck.one_line(ax)
            for stage, th, r, pareto in pts:
                if r[metric] is None:
                    continue
                color, marker = STAGE_STYLE.get(stage, ("0.3", "s"))
                chosen = not rec["keep_defaults"] and th == rec["threshold"] and stage == rec["from_stage"]
                ck.ratio_dot(ax, th[0], r[metric], color, marker="*" if chosen else marker,
                             horizontal=False, size=11 if chosen else 5.5)
                if pareto:
                    ax.plot([th[0]], [r[metric].value], "o", markersize=11, markerfacecolor="none",
                            markeredgecolor="0.45", markeredgewidth=0.8, zorder=2)
            ck.threshold_axis(ax, [p[1][0] for p in pts], default)
            ax.set_title(f"{label}, ratio to the defaults", fontsize=8)
            ax.set_xlabel("threshold0")
        chart.figure = fig
        chart.foot = [f"{tune['python']}; objective {tune['objective']}; searched in "
                      f"{tune['elapsed_s']:.0f} s; light: coarse stage, dark: fine, triangles: threshold1/2 x4; "
                      "filled: interval clear of 1; ringed: Pareto front; star: the recommendation"]
        ck.finish(chart)
    return chart


def main() -> int:
    ap = argparse.ArgumentParser(description="Chart an rtbench tune search (tune.json).")
    ap.add_argument("tune_json")
    ap.add_argument("--out")
    args = ap.parse_args()
    try:
        with open(args.tune_json) as f:
            tune = json.load(f)
        tune["stages"], tune["recommendation"]
    except (OSError, ValueError, KeyError) as e:
        print(f"chart_tune: cannot read {args.tune_json}: {e}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path(args.tune_json).resolve().parent
    chart = draw(tune)
    for fmt in ("png", "svg"):
        path = out / f"tune.{fmt}"
        path.write_bytes(ck.figure_bytes(chart.figure, fmt))
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
