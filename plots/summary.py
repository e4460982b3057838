#!/usr/bin/python3
"""Write the headline Markdown summary of an rtbench results folder.

    summary.py DIR [--out FILE]          (FILE defaults to DIR/summary.md)

The summary is GitHub-flavoured Markdown, for a CI step summary or a README:

* a line naming the machine and commit;
* the configurations table, a row per workload (and params, where one workload
  was run at several sizes): the median time and peak RSS of every rtbench
  configuration (refcount variant / allocator backend), and the best threshold0
  for time and for peak RSS from the sweeps;
* the CPython table, a row per workload run beside its Python twin: the params
  (often smaller than the default: CPython is slower), rtbench's time and peak
  RSS and CPython's, and their ratios;
* the threaded variants' single-thread cost and their thread scaling (the
  suite's threads.json), where they ran;
* warnings: failed or missing samples, noisy configurations (the wall time's
  median known no better than +-5%: its 95% interval reaches further from it,
  the harness's 'noisy' rule), unreadable files, and the warnings the harness
  recorded.

Problems also go to stderr, prefixed ``summary:``; the file written goes to stdout.
Exit status as for plot.py: 0, 1 when a file could not be read, 2 when DIR is
missing or holds no usable file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rtresults as rr  # noqa: E402
import rtscaling  # noqa: E402
import rtstats as rs  # noqa: E402

DASH = "—"
MAX_WARNINGS = 200           # keeps the file small whatever the folder holds
METRICS = (("wall_s", "time"), ("peak_rss_bytes", "peak RSS"))


def warn(message: str) -> None:
    print(f"summary: {message}", file=sys.stderr)


# ---------------------------------------------------------------------------
# Markdown helpers


def md(text: object) -> str:
    """Plain text made safe for a table cell or a list item."""
    return (str(text).replace("\\", "\\\\").replace("|", "\\|")
            .replace("<", "&lt;").replace(">", "&gt;").replace("\n", " "))


def code(text: object) -> str:
    """An inline code span (names of runs and files)."""
    text = str(text).replace("`", "'").replace("|", "\\|")
    return f"`{text}`"


def table(header: list[str], rows: list[list[str]], align: list[str]) -> list[str]:
    """A GFM table; ``align`` holds "l" or "r" per column."""
    rule = ["---:" if a == "r" else "---" for a in align]
    return ["| " + " | ".join(cells) + " |" for cells in [header, rule, *rows]]


def number(x: float, metric: str) -> str:
    """A value of ``metric`` with its unit."""
    return rs.format_bytes(x) if metric == "peak_rss_bytes" else rs.format_seconds(x)


def value(stat: Optional[rs.Stat], metric: str) -> str:
    """The median of ``stat`` with its unit, or a dash."""
    return DASH if stat is None else number(stat.median, metric)


# ---------------------------------------------------------------------------
# The table


def variant_cell(run: Optional[rr.Run]) -> str:
    """``0.407 s / 118 MiB``, or a dash when the configuration was not run."""
    if run is None or not run.ok_samples:
        return DASH
    text = " / ".join(value(run.stat(m), m) for m, _ in METRICS)
    return text + (" (sweep)" if run.role == "sweep" else "")


def best_cell(group: Optional[rr.SweepGroup], metric: str) -> str:
    """``10000: 318 ms (−16% vs 700)``: the best threshold0 of a sweep line."""
    if group is None:
        return DASH
    best = rr.best_threshold(group, metric)
    if best is None:
        return DASH
    t0, stat = best
    text = f"{t0}: {value(stat, metric)}"
    default = dict(group.points(metric)).get(rr.DEFAULT_THRESHOLD[0])
    if default is not None and t0 != rr.DEFAULT_THRESHOLD[0] and default.median:
        change = (stat.median / default.median - 1) * 100
        text += f" ({change:+.0f}% vs {rr.DEFAULT_THRESHOLD[0]})".replace("-", "−")
        if stat.max >= default.min:
            text += ", within noise"
    return text


def ratio_cell(rt: rr.Run, cp: rr.Run, metric: str) -> str:
    """``0.46×``, or a dash when either side has no value."""
    a, b = rt.stat(metric), cp.stat(metric)
    if a is None or b is None or not b.median:
        return DASH
    return f"{a.median / b.median:.2f}×"


def headline(results: rr.Results) -> list[str]:
    keys = rr.main_keys(results)
    configs = {k: {r.variant: r for r in rr.configurations(results, k)} for k in keys}
    variants = sorted({v for row in configs.values() for v in row}, key=lambda v: v.sort_key)
    sweeps: dict = {}                # (workload, params) -> its line nearest the default
    for groups in rr.sweeps(results).values():
        for group in groups:
            sweeps.setdefault(group.key, group)
    header = (["workload", "params"] + [md(v.label) for v in variants]
              + ["best t0 (time)", "best t0 (peak RSS)"])
    rows = []
    for key in keys:
        group = sweeps.get(key)
        rows.append([md(key[0]), md(rr.params_label(results.params(key))) or DASH]
                    + [variant_cell(configs[key].get(v)) for v in variants]
                    + [best_cell(group, "wall_s"), best_cell(group, "peak_rss_bytes")])
    align = ["l", "l"] + ["r"] * (len(header) - 2)
    return table(header, rows, align)


def overhead_table(results: rr.Results) -> list[str]:
    """The single-thread cost of the atomic and biased variants: each one's median
    wall time over nonatomic's, pool backend and default thresholds (the runs are
    interleaved by the sample driver).  Empty when no threaded variant ran."""
    threaded = [rc for rc in rr.RC_ORDER if rc != rr.DEFAULT_RC]
    rows = []
    for key in rr.main_keys(results):
        # Default in every axis but the refcount variant.
        by_rc = {r.variant.rc: r for r in rr.configurations(results, key)
                 if r.variant.distance_from_default() == (r.variant.rc != rr.DEFAULT_RC)}
        base = by_rc.get(rr.DEFAULT_RC)
        if base is None or not any(rc in by_rc for rc in threaded):
            continue
        rows.append([md(key[0]), value(base.stat("wall_s"), "wall_s")]
                    + [ratio_cell(by_rc[rc], base, "wall_s") if rc in by_rc else DASH for rc in threaded])
    if not rows:
        return []
    header = ["workload", f"{rr.DEFAULT_RC} (time)"] + [f"{rc} / {rr.DEFAULT_RC}" for rc in threaded]
    return table(header, rows, ["l"] + ["r"] * (len(header) - 1))


def scaling_table(results: rr.Results) -> list[str]:
    """The threaded variants at every thread count run, each against its own
    one thread and one nonatomic thread, the speedup split into the time
    outside collections and the collections' (rtscaling: scripts/scaling's
    table, from the same arithmetic).  Empty without a run at more than one
    thread."""
    scaling = rr.thread_scaling(results)
    rows = [[md(c) for c in rtscaling.table_cells(w, rc, row)] for w, pairs in scaling.items() for rc, row in pairs]
    if not rows:
        return []
    return table(rtscaling.TABLE_HEADER, rows, ["l", "l"] + ["r"] * (len(rtscaling.TABLE_HEADER) - 2))


def python_label(run: rr.Run) -> str:
    """``/usr/bin/python3 3.11.2``: the interpreter of a CPython run's samples."""
    info = next((s.get("python") for s in run.ok_samples if isinstance(s.get("python"), dict)), {})
    version = str(info.get("version") or "").split(" ")[0]
    return " ".join(str(x) for x in (info.get("executable"), version) if x)


def cpython_table(results: rr.Results) -> list[str]:
    """rtbench beside CPython, a row per workload run on both."""
    pairs = rr.cpython_pairs(results)
    if not pairs:
        return ["No CPython twin was run." if not results.select("cpython") else
                "No CPython run matches an rtbench run (workload and params)."]
    header = ["workload", "params", "configuration", "rtbench time", "CPython time",
              "time ÷ CPython", "rtbench peak RSS", "CPython peak RSS", "RSS ÷ CPython"]
    rows = []
    for key, rt, cp in pairs:
        rows.append([md(key[0]), md(rr.params_label(results.params(key))) or DASH,
                     md(rt.variant.label),
                     value(rt.stat("wall_s"), "wall_s"), value(cp.stat("wall_s"), "wall_s"),
                     ratio_cell(rt, cp, "wall_s"),
                     value(rt.stat("peak_rss_bytes"), "peak_rss_bytes"),
                     value(cp.stat("peak_rss_bytes"), "peak_rss_bytes"),
                     ratio_cell(rt, cp, "peak_rss_bytes")])
    align = ["l", "l", "l"] + ["r"] * 6
    lines = table(header, rows, align)
    python = sorted({p for _, _, cp in pairs if (p := python_label(cp))})
    return lines + ["", "Medians over the ok samples, each pair measured at the same params "
                    "and thresholds" + (f"; CPython: {md(', '.join(python))}" if python else "")
                    + ". Below 1: rtbench is faster or smaller."]


def legend(results: rr.Results) -> list[str]:
    t = "/".join(map(str, rr.DEFAULT_THRESHOLD))
    lines = [
        f"Configuration columns (refcount variant / allocator backend): median time / "
        f"median peak RSS over the ok samples, thresholds {t} unless the column says "
        "otherwise. Best t0: the threshold0 with the lowest median in the sweep "
        "closest to nonatomic/pool, and its change against the default "
        f"({rr.DEFAULT_THRESHOLD[0]}); \"within noise\" when the two ranges overlap. "
        f"(sweep): from the threshold0 sweep at the default. {DASH}: not measured.",
    ]
    groups = rr.sweeps(results)
    crossed = [w for w, g in groups.items() if len(g) > 1]
    if crossed:
        lines.append("")
        lines.append(f"Sweeps crossed with other axes ({md(', '.join(crossed))}): "
                     "the best t0 columns use the line nearest nonatomic/pool; see the "
                     "sweep charts for the others.")
    return lines


# ---------------------------------------------------------------------------
# Warnings


def noise_spreads(run: rr.Run) -> list[tuple[float, str]]:
    """(half-width, description) when the run's wall time is noisy: its
    median's 95% interval reaches more than NOISE_CI of it away (the
    harness's rule, result.c)."""
    stat = run.stat("wall_s")
    if stat is None or stat.n < 2 or stat.precision <= rr.NOISE_CI:
        return []
    return [(stat.precision, f"time +-{stat.precision:.0%} ({number(stat.low, 'wall_s')} to "
                             f"{number(stat.high, 'wall_s')}, n={stat.n})")]


def problem_warning(run: rr.Run) -> Optional[str]:
    """Failed or missing samples of a run, or None."""
    problem = run.sample_problem()
    if not problem:
        return None
    ok = len(run.ok_samples)
    text = f"{code(run.name)}: {problem}; medians use {ok}" if ok else \
        f"{code(run.name)}: {problem}; no ok sample"
    error = run.first_error()
    return text + (f". First error: {md(error)}" if error else "")


def noise_lines(results: rr.Results) -> list[str]:
    """Noise, said once: how many configurations, the worst, the advice; the
    list itself folded away (GitHub renders <details>)."""
    noisy = [(max(sp for sp, _ in spreads), run, spreads)
             for run in results.runs if (spreads := noise_spreads(run))]
    if not noisy:
        return []
    noisy.sort(key=lambda item: -item[0])
    worst = noisy[0]
    lines = [f"- Noisy: {len(noisy)} of {len(results.runs)} configurations have a median "
             f"known no better than +-{rr.NOISE_CI:.0%} (worst: {code(worst[1].name)}, "
             f"{worst[2][0][1]}). The machine is noisy: compare medians and ratios measured "
             "in one run, or take more samples (`--repeat`).",
             "", "<details><summary>noisy configurations</summary>", ""]
    for _, run, spreads in noisy[:MAX_WARNINGS]:
        lines.append(f"- {code(run.name)}: " + "; ".join(text for _, text in spreads))
    if len(noisy) > MAX_WARNINGS:
        lines.append(f"- … and {len(noisy) - MAX_WARNINGS} more.")
    return lines + ["", "</details>"]


def warnings(results: rr.Results) -> list[str]:
    """Unreadable files, notes, failed samples (each), then noise (once).
    The harness's own noise warnings in the files say the same as
    noise_lines, so they are not repeated."""
    items = [md(e) for e in results.errors] + [md(n) for n in results.notes]
    items += [w for run in results.runs if (w := problem_warning(run))]
    items = list(dict.fromkeys(items))
    lines = [f"- {item}" for item in items[:MAX_WARNINGS]]
    if len(items) > MAX_WARNINGS:
        lines.append(f"- … and {len(items) - MAX_WARNINGS} more.")
    lines += noise_lines(results)
    return lines or ["None."]


# ---------------------------------------------------------------------------
# The document


def inputs_line(results: rr.Results) -> str:
    files = sorted({r.source.name for r in results.runs})
    roles = {role: len(results.select(role)) for role in ("run", "sweep", "pair", "cpython")}
    parts = [f"{rs.plural(len(files), 'result file')} ({rs.plural(roles['run'], 'run')}, "
             f"{rs.plural(roles['sweep'], 'sweep point')}, "
             f"{rs.plural(roles['cpython'], 'CPython run')} "
             f"with {rs.plural(roles['pair'], 'rtbench run')} beside them)"]
    if results.micro:
        parts.append(f"{code(results.micro.path.name)} ({len(results.micro.benches)} "
                     "microbenchmarks)")
    if results.hyperfine:
        parts.append(rs.plural(len(results.hyperfine), "hyperfine file"))
    return "Inputs: " + ", ".join(parts) + "."


def machine_line(results: rr.Results) -> str:
    if results.runs:
        line = rr.machines_line(results.runs)
        tools = sorted({r.tool for r in results.runs if r.tool})
        return md(line[0].upper() + line[1:] + (f"; {', '.join(tools)}" if tools else ""))
    return md(rr.micro_machine_line(results.micro) if results.micro else "machine: unknown")


def document(results: rr.Results) -> str:
    lines = ["# rtbench summary", "", machine_line(results) + ".", "",
             inputs_line(results), ""]
    if rr.workload_keys(results):
        lines += ["## Configurations", ""] + headline(results) + [""] + legend(results)
        overhead = overhead_table(results)
        if overhead:
            lines += ["", "## Single-thread cost of the threaded refcount variants", "",
                      "Median wall time against nonatomic, one thread, pool backend (samples "
                      "interleaved).", ""]
            lines += overhead
        scaling = scaling_table(results)
        if scaling:
            lines += ["", "## Thread scaling", "",
                      "Each thread count does the same total work; throughput against one nonatomic "
                      "thread, speedup against the same variant's one thread, split into the time "
                      "outside collections and the collections' (every thread stopped); the time "
                      "the stoppers waited for a safepoint apart; 'threads stopped': the share of "
                      "all the threads' time the stops took (the stoppers' pauses and waits, the "
                      "others' time parked). scripts/scaling adds the processes' and the machine's "
                      "ceilings.", ""]
            lines += scaling
        lines += ["", "## rtbench against CPython", ""] + cpython_table(results)
    else:
        lines.append("No rtbench or CPython runs in this folder.")
    lines += ["", "## Warnings", ""] + warnings(results)
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="summary.py", description="Write the Markdown summary of a results folder.")
    parser.add_argument("dir", type=Path, help="the results folder")
    parser.add_argument("--out", type=Path, help="output file (default: DIR/summary.md)")
    args = parser.parse_args(argv)
    results = rr.load_for_script(args.dir, "using", warn)
    if results is None:
        return 2
    print(write(results, args.out or args.dir / "summary.md"))
    return 1 if results.errors else 0


def write(results: rr.Results, out: Path) -> Path:
    """Write the summary of ``results`` to ``out`` (atomically); return ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(document(results), encoding="utf-8")
    tmp.replace(out)
    return out


if __name__ == "__main__":
    sys.exit(main())
