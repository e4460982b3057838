"""hyperfine's whole-process timings (``hyperfine-<name>.json``).

``hyperfine_<name>``: every run of every command as a dot (a handful of runs
says nothing about quartiles, so no box plots), the median as a bar.  These are
whole-process times -- exec, runtime start-up and exit included -- unlike the
workload times of the other charts.  Commands are named by their parameters
(``atomic/pool`` for ``bin=rtbench-atomic alloc=pool``), and the workload's
parameters, read from the command line, go in the title.
"""

from __future__ import annotations

import re
import statistics

import chartkit as ck
import rtpeers as rp
import rtresults as rr
import rtstats as rs

# hyperfine parameter values that name a refcount variant (the binary run).
RC_OF_BIN = {"rtbench": "nonatomic", "rtbench-atomic": "atomic"}
HIDDEN_FLAGS = {"--result-fd", "--alloc", "--rc"}


def command_label(cmd: rp.HyperfineCommand, params: dict) -> str:
    """``atomic/pool`` from ``bin``/``alloc`` parameters, else the parameters."""
    if "bin" in params or "alloc" in params:
        rc = RC_OF_BIN.get(params.get("bin", "rtbench"), params.get("bin", "?"))
        rest = [f"{k}={v}" for k, v in params.items() if k not in ("bin", "alloc")]
        return " ".join([f"{rc}/{params.get('alloc', rr.DEFAULT_ALLOC)}"] + rest)
    return cmd.label if len(cmd.label) <= 40 else cmd.label[:39] + "…"


def command_args(command: str) -> list[str]:
    """``[cycle_storm, n=100000, ring=8]`` from a worker or ``rtbench run`` command."""
    words = command.split()
    if "__worker" in words:
        words = words[words.index("__worker") + 1:]
    elif len(words) > 2 and words[1] == "run":
        words = words[2:]
    else:
        return []
    out, i = words[:1], 1
    while i < len(words):
        if words[i].startswith("--") and i + 1 < len(words):
            if words[i] not in HIDDEN_FLAGS:
                out.append(f"{words[i][2:]}={words[i + 1]}")
            i += 2
        else:
            i += 1
    return out


def workload_args(commands: list[str]) -> str:
    """The workload and the parameters every command shares."""
    lists = [command_args(c) for c in commands]
    if not lists or not lists[0]:
        return ""
    return " ".join(a for a in lists[0] if all(a in other for other in lists[1:]))


def parameters(hf: rp.HyperfineFile) -> list[dict]:
    """Each command's hyperfine parameters (the loader keeps them in its label)."""
    return [dict(re.findall(r"(\S+)=(\S+)", c.label)) if "=" in c.label else {}
            for c in hf.commands]


def hyperfine_chart(results: rr.Results, hf: rp.HyperfineFile) -> ck.Chart:
    name = f"hyperfine_{ck.slug(hf.name)}"
    cmds = [c for c in hf.commands if c.times or c.mean]
    if not cmds:
        return ck.not_drawn(name, "hyperfine", f"hyperfine: {hf.name}", "no results",
                            [hf.path.name])
    labels = [command_label(c, p) for c, p in zip(cmds, parameters(hf))]
    args = workload_args([c.command for c in cmds]) or hf.name
    title = f"hyperfine: {args}"
    times = [c.times or [c.mean] for c in cmds]
    longest = max(max(t) for t in times)
    factor, unit = rs.time_unit(longest)
    fig, axes = ck.new_figure(8.0, 1.6 + 0.34 * len(cmds))
    ax = axes[0, 0]
    for i, (cmd, runs) in enumerate(zip(cmds, times)):
        offsets = [(k - (len(runs) - 1) / 2) * 0.06 for k in range(len(runs))]
        ax.scatter([t * factor for t in runs], [i + o for o in offsets], s=12,
                   color=ck.RTBENCH_COLOR, alpha=0.75, linewidths=0, zorder=3)
        median = statistics.median(runs) * factor
        ax.plot([median, median], [i - 0.32, i + 0.32], color="0.15", linewidth=1.6, zorder=4)
    ax.set_yticks(range(len(cmds)))
    ax.set_yticklabels(labels)
    ax.set_ylim(len(cmds) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(f"whole-process wall time per run ({unit})")
    counts = sorted({len(t) for t in times})
    medians = sorted((statistics.median(t), label) for t, label in zip(times, labels))
    caption = [f"Fastest {medians[0][1]} ({rs.format_seconds(medians[0][0])}), slowest "
               f"{medians[-1][1]} ({rs.format_seconds(medians[-1][0])}), medians of "
               f"{'/'.join(map(str, counts))} runs.",
               "Dots: every run; bar: the median. Whole-process times measured by hyperfine "
               "(exec, start-up and exit included), not the workload's own time."]
    failed = [f"{label}: {rs.plural(c.failed, 'run')} exited non-zero"
              for c, label in zip(cmds, labels) if c.failed]
    machine = (rr.machines_line(results.runs) + " (of this folder's rtbench results; "
               "hyperfine records none)") if results.runs else "machine: not recorded by hyperfine"
    chart = ck.Chart(name, "hyperfine", title, caption=caption + failed,
                     sources=[hf.path.name], figure=fig)
    chart.foot = [machine] + caption + ck.notes_line(failed)
    return chart


def charts(results: rr.Results) -> list[ck.Chart]:
    if not results.hyperfine:
        return [ck.not_drawn("hyperfine", "hyperfine", "hyperfine",
                             "no hyperfine-*.json in this folder")]
    return [hyperfine_chart(results, hf) for hf in results.hyperfine]
