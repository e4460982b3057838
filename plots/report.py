"""The self-contained HTML report of a results folder (``report.html``).

One file, no external requests: every chart inline as SVG (its text as text),
the style and a few lines of script (sortable tables) inline, so that it opens
offline from a CI artifact or a laptop.  Sections:

1. the machine and the commit;
2. the headline table (rtbench ÷ CPython, atomic ÷ nonatomic, each backend ÷
   pool, the fastest threshold0), sortable, and the overview charts;
3. per workload: the GC-tuning panel with its verdicts and every threshold0 in a
   table, the pause spectrum, the RSS timeline (or why each is not drawn);
4. the microbenchmarks, the threaded variants' scaling with its table, then
   hyperfine's whole-process timings;
5. the warnings (unreadable files, failed samples, the harness's warnings,
   noise, charts not drawn);
6. how each figure was made: its data files, the commands that wrote them, and
   the command that draws it again.

``plot.py`` calls ``write`` after drawing; ``tests/browser_check.py`` opens the
result in headless Chromium.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Iterable, Optional

import chart_compare as cc
import chart_tuning as ct
import chartkit as ck
import rtresults as rr
import rtstats as rs
import summary

# The sections of chart families that are not a workload's; every other
# section a chart names is a workload's.
FAMILY_SECTIONS = ("overview", "micro", "threads", "hyperfine")

CSS = """
:root { --ink: #1d1d1f; --muted: #5b5b60; --line: #dcdce0; --accent: #1f6fb2; --bg: #fff;
        --sig: #0b4f8a; --soft: #f5f6f8; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans",
       sans-serif; color: var(--ink); background: var(--bg); }
main { max-width: 1240px; margin: 0 auto; padding: 16px 20px 48px; }
h1 { font-size: 1.6rem; margin: 8px 0 4px; }
h2 { font-size: 1.3rem; margin: 36px 0 8px; padding-top: 8px; border-top: 2px solid var(--line); }
h3 { font-size: 1.1rem; margin: 24px 0 6px; }
p, li { max-width: 75ch; }
.muted { color: var(--muted); }
nav ul { display: flex; flex-wrap: wrap; gap: 4px 14px; padding: 0; list-style: none; }
nav a { color: var(--accent); text-decoration: none; }
code { font: 0.9em ui-monospace, "DejaVu Sans Mono", monospace; background: var(--soft);
       padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere; }
dl.machine { display: grid; grid-template-columns: max-content 1fr max-content 1fr;
             gap: 2px 16px; font-size: 0.9rem; }
dl.machine dt { color: var(--muted); }
dl.machine dd { margin: 0; overflow-wrap: anywhere; }
.tablewrap { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: 8px 0 16px; }
table { border-collapse: collapse; font-size: 0.85rem; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: right; }
td { white-space: nowrap; }
td.text { white-space: normal; min-width: 7em; max-width: 14em; }
th { vertical-align: bottom; min-width: 4.5em; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
thead th { background: var(--soft); position: sticky; top: 0; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th::after { content: " \\2195"; color: var(--muted); font-size: 0.8em; }
table.sortable th[aria-sort="ascending"]::after { content: " \\2191"; color: var(--ink); }
table.sortable th[aria-sort="descending"]::after { content: " \\2193"; color: var(--ink); }
td.sig { color: var(--sig); font-weight: 600; }
figure.chart { margin: 12px 0 28px; content-visibility: auto;
               contain-intrinsic-size: auto 720px; }
h4 { font-size: 1rem; margin: 20px 0 4px; }
td .ci { display: block; font-size: 0.75rem; font-weight: normal; color: var(--muted); }
figure.chart .svg svg { width: 100%; height: auto; display: block; }
figcaption ul { margin: 6px 0; padding-left: 20px; font-size: 0.9rem; }
figcaption .how { font-size: 0.8rem; color: var(--muted); }
.skipped { border-left: 4px solid var(--line); padding: 4px 12px; color: var(--muted);
           margin: 12px 0; }
details summary { cursor: pointer; color: var(--accent); }
@media (max-width: 700px) {
  body { font-size: 14px; }
  main { padding: 10px 10px 32px; }
  dl.machine { grid-template-columns: max-content 1fr; gap: 2px 10px; }
  figure.chart .svg { overflow-x: auto; }
  figure.chart .svg svg { width: 640px; max-width: none; }
}
"""

SCRIPT = """
(function () {
  function key(cell) {
    var v = cell.getAttribute('data-sort');
    if (v === null) v = cell.textContent.trim();
    if (v === '') return null;
    var n = Number(v);
    return isNaN(n) ? v.toLowerCase() : n;
  }
  function sortBy(th) {
    var table = th.closest('table');
    var column = Array.prototype.indexOf.call(th.parentNode.children, th);
    var ascending = th.getAttribute('aria-sort') !== 'ascending';
    table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[column]), y = key(b.cells[column]);
      if (x === null || y === null) return (x === null) - (y === null);
      if (typeof x !== typeof y) { x = String(x); y = String(y); }
      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  document.querySelectorAll('table.sortable th').forEach(function (th) {
    th.tabIndex = 0;
    th.addEventListener('click', function () { sortBy(th); });
    th.addEventListener('keydown', function (e) { if (e.key === 'Enter') sortBy(th); });
  });
})();
"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


# ---------------------------------------------------------------------------
# Tables


class Cell:
    """A table cell: its text, its sort key, and whether it is a change beyond noise."""

    def __init__(self, text: str, sort: Optional[object] = None, sig: bool = False,
                 is_text: bool = False):
        self.text, self.sort, self.sig, self.is_text = text, sort, sig, is_text

    def html(self) -> str:
        classes = [c for c, on in (("sig", self.sig), ("text", self.is_text)) if on]
        attrs = f' class="{" ".join(classes)}"' if classes else ""
        if self.sort is not None:
            attrs += f' data-sort="{esc(self.sort)}"'
        elif not self.is_text:
            attrs += ' data-sort=""'
        main, _, interval = self.text.partition(" [")
        ci = f'<span class="ci">[{esc(interval)}</span>' if interval else ""
        return f"<td{attrs}>{esc(main)}{ci}</td>"


def table(header: list[str], rows: list[list[Cell]], sortable: bool = True,
          table_id: str = "") -> str:
    ident = f' id="{table_id}"' if table_id else ""
    cls = ' class="sortable"' if sortable else ""
    text_columns = {i for i, c in enumerate(rows[0]) if c.is_text} if rows else set()
    head = "".join(('<th scope="col" class="text">' if i in text_columns else '<th scope="col">')
                   + f"{esc(h)}</th>" for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(c.html() for c in row) + "</tr>" for row in rows)
    return (f'<div class="tablewrap"><table{ident}{cls}><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def ratio_cell(ratio: Optional[rs.Ratio]) -> Cell:
    if ratio is None:
        return Cell("—")
    text = rs.format_ratio(ratio.value)
    if ratio.has_ci:
        text += f" [{ratio.low:.2f}, {ratio.high:.2f}]"
    return Cell(text, round(ratio.value, 6), ratio.beyond_noise)


def value_cell(run: Optional[rr.Run], metric: str) -> Cell:
    stat = run.stat(metric) if run else None
    if stat is None:
        return Cell("—")
    return Cell(cc.absolute(run, metric), stat.median)


def headline_rows(results: rr.Results) -> tuple[list[str], list[list[Cell]]]:
    keys = rr.main_keys(results)
    by_key = {m: {c.key: c for c in cc.cpython_ratios(results, m)} for m, _ in cc.METRICS}
    atomic = {c.key: c for c in cc.variant_ratios(results, "wall_s").get("atomic", [])}
    backends = {alloc: {c.key: c for c in comps}            # debug last: its own scale
                for alloc, comps in sorted(cc.backend_ratios(results, "wall_s").items(),
                                           key=lambda kv: kv[0] == cc.DEBUG)}
    groups = {g[0].key: g[0] for g in rr.sweeps(results).values()}
    header = ["workload", "params", "CPython pair's params", "rtbench time", "CPython time",
              "time ÷ CPython",
              "rtbench peak RSS", "CPython peak RSS", "RSS ÷ CPython",
              "atomic ÷ nonatomic time"] + [f"{a} ÷ pool time" for a in backends] + \
             ["fastest threshold0 (time)"]
    rows = []
    for key in keys:
        # The CPython pair may be at smaller params than the workload's main key.
        pair_t = by_key["wall_s"].get(key) or next(
            (c for k, c in by_key["wall_s"].items() if k[0] == key[0]), None)
        pair_m = by_key["peak_rss_bytes"].get(pair_t.key) if pair_t else None
        pair_params = ("—" if pair_t is None else "the same" if pair_t.key == key
                       else rr.params_label(results.params(pair_t.key)))
        row = [Cell(rr.key_label(results, key).split(" (")[0], is_text=True),
               Cell(rr.params_label(results.params(key)) or "—", is_text=True),
               Cell(pair_params, is_text=True),
               value_cell(pair_t.a if pair_t else None, "wall_s"),
               value_cell(pair_t.b if pair_t else None, "wall_s"),
               ratio_cell(pair_t.ratio if pair_t else None),
               value_cell(pair_m.a if pair_m else None, "peak_rss_bytes"),
               value_cell(pair_m.b if pair_m else None, "peak_rss_bytes"),
               ratio_cell(pair_m.ratio if pair_m else None),
               ratio_cell(atomic[key].ratio if key in atomic else None)]
        row += [ratio_cell(by[key].ratio if key in by else None) for by in backends.values()]
        row.append(fastest_cell(groups.get(key)))
        rows.append(row)
    return header, rows


def fastest_cell(group: Optional[rr.SweepGroup]) -> Cell:
    """``10000: −19% [−24, −14]``, or ``none beyond noise``."""
    if group is None:
        return Cell("—")
    base, _ = ct.base_run(group)
    if base is None:
        return Cell("—")
    time = ct.series(group, base, ct.TIME)
    best = ct.fastest(time)
    if best is None and ct.without_interval(time):
        return Cell(ct.without_interval(time), 1.0)
    if best is None:
        return Cell("none beyond noise", 1.0)
    return Cell(f"{best.t0}: {best.ratio.text()}", round(best.ratio.value, 6), True)


# ---------------------------------------------------------------------------
# Charts


def chart_html(chart: ck.Chart, index: int, how: str) -> str:
    anchor = f"c-{chart.name}"
    if not chart.drawn:
        return (f'<div class="skipped" id="{anchor}"><strong>{esc(chart.title)}</strong>: '
                f"not drawn: {esc(chart.skipped)}.</div>")
    svg = ck.renumber_svg_ids(chart.svg, prefix=f"c{index}-")
    items = "".join(f"<li>{esc(line)}</li>" for line in chart.caption)
    extra = ""
    if chart.table:
        header, rows = chart.table
        cells = [[Cell(r[0], is_text=True)] + [Cell(c, sort_key(c)) for c in r[1:]]
                 for r in rows]
        extra = (f"<details><summary>{esc(chart.table_label or 'the data')}</summary>"
                 f"{table(header, cells)}</details>")
    return (f'<figure class="chart" id="{anchor}" data-chart="{esc(chart.name)}">'
            f"<h4>{esc(chart.title)}</h4>"
            f'<div class="svg" role="img" aria-label="{esc(chart.title)}">{svg}</div>'
            f"<figcaption><ul>{items}</ul>{extra}"
            f'<p class="how">{how}</p></figcaption></figure>')


def sort_key(text: str) -> Optional[float]:
    """The number a ratio text stands for (``−19% [..]`` = 0.81, ``×6.2`` = 6.2)."""
    head = text.split(" [")[0].replace(rs.MINUS, "-").replace("±", "").strip()
    try:
        if head.endswith("%"):
            return round(1 + float(head.split("%")[0].split()[-1]) / 100, 6)
        if head.startswith("×") or "×" in head:
            return float(head.replace("×", "").split()[-1].replace(",", ""))
    except ValueError:
        return None
    return None


def how_text(chart: ck.Chart, command: str) -> str:
    files = ", ".join(f"<code>{esc(s)}</code>" for s in chart.sources) or "—"
    return (f"From {files}; drawn by <code>{esc(command)}</code> "
            f"(<code>plots/{esc(chart.module or 'plot')}.py</code>).")


# ---------------------------------------------------------------------------
# Sections


def machine_value(value) -> str:
    """A machine field as text: a list joined, floats to two decimals (the load
    average is measured to about that)."""
    if isinstance(value, list):
        return ", ".join(machine_value(v) for v in value)
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def machine_section(results: rr.Results) -> str:
    runs = results.runs
    machine = runs[0].machine if runs else {}
    line = rr.machines_line(runs) if runs else \
        (rr.micro_machine_line(results.micro) if results.micro else "machine: unknown")
    rows = [(line.split(": ", 1)[0], line.split(": ", 1)[-1])]
    for key, label in (("cpu_model", "CPU"), ("cores", "cores"), ("kernel", "kernel"),
                       ("compiler", "compiler"), ("cflags", "flags"),
                       ("build_type", "build"), ("git_commit", "commit"),
                       ("governor", "CPU governor"), ("aslr", "ASLR"),
                       ("load_avg", "load average")):
        if machine.get(key) not in (None, ""):
            value = machine[key]
            rows.append((label, machine_value(value)))
    tools = sorted({r.tool for r in runs if r.tool})
    created = sorted({r.created for r in runs if r.created})
    if tools:
        rows.append(("tool", ", ".join(tools)))
    if created:
        rows.append(("measured", created[0] + (f" to {created[-1]}" if len(created) > 1 else "")))
    rows.append(("inputs", summary.inputs_line(results).removeprefix("Inputs: ")
                 .replace("`", "")))
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows)
    return f'<section id="machine"><h2>Machine and commit</h2><dl class="machine">{items}</dl></section>'


def headline_section(results: rr.Results, charts: list[ck.Chart], number, command) -> str:
    header, rows = headline_rows(results)
    parts = ['<section id="headline"><h2>Headline</h2>',
             '<p class="muted">Ratios of medians with 95% bootstrap intervals; bold: the '
             "interval excludes 1 (beyond noise). Click a column to sort.</p>"]
    parts.append(table(header, rows, table_id="headline-table") if rows else
                 "<p>No rtbench or CPython runs in this folder.</p>")
    parts += [chart_html(c, number(c), how_text(c, command)) for c in charts
              if c.section == "overview"]
    return "".join(parts) + "</section>"


def workload_sections(results: rr.Results, charts: list[ck.Chart], number, command) -> str:
    order = list(dict.fromkeys([k[0] for k in rr.main_keys(results)] +
                               [c.section for c in charts
                                if c.section not in FAMILY_SECTIONS]))
    parts = ['<section id="workloads"><h2>Workloads</h2>']
    for workload in order:
        mine = [c for c in charts if c.section == workload]
        if not mine:
            continue
        parts.append(f'<section id="w-{ck.slug(workload)}"><h3>{esc(workload)}</h3>')
        parts += [chart_html(c, number(c), how_text(c, command)) for c in mine]
        parts.append("</section>")
    return "".join(parts) + "</section>"


def family_section(ident: str, title: str, charts: list[ck.Chart], number, command,
                   empty: str) -> str:
    mine = [c for c in charts if c.section == ident]
    body = "".join(chart_html(c, number(c), how_text(c, command)) for c in mine) or \
        f"<p>{esc(empty)}</p>"
    return f'<section id="{ident}"><h2>{esc(title)}</h2>{body}</section>'


def warning_items(results: rr.Results, charts: list[ck.Chart]) -> list[str]:
    items = list(results.errors) + list(results.notes)
    for run in results.runs:
        problem = run.sample_problem()
        if problem:
            error = run.first_error()
            items.append(f"{run.name}: {problem}" + (f"; first error: {error}" if error else ""))
    items += [f"{c.name}: not drawn: {c.skipped}" for c in charts if not c.drawn]
    items += [f"{c.name}: overlapping text: {o}" for c in charts for o in c.overlaps]
    return list(dict.fromkeys(items))


def harness_warnings(results: rr.Results) -> list[str]:
    return list(dict.fromkeys(f"{run.name}: {w}" for run in results.runs for w in run.warnings))


def warnings_section(results: rr.Results, charts: list[ck.Chart]) -> str:
    items = warning_items(results, charts)
    parts = ['<section id="warnings"><h2>Warnings</h2>']
    parts.append("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>" if items
                 else "<p>No unreadable file, failed sample or missing chart.</p>")
    noisy = [(run, spreads) for run in results.runs if (spreads := summary.noise_spreads(run))]
    if noisy:
        parts.append(f"<details><summary>{len(noisy)} of {len(results.runs)} configurations "
                     f"with a median known no better than ±{rr.NOISE_CI:.0%}</summary><ul>")
        parts += [f"<li><code>{esc(run.name)}</code>: {esc('; '.join(t for _, t in spreads))}</li>"
                  for run, spreads in noisy[:summary.MAX_WARNINGS]]
        parts.append("</ul></details>")
    harness = harness_warnings(results)
    if harness:
        parts.append(f"<details><summary>{len(harness)} warnings recorded by the harness"
                     "</summary><ul>")
        parts += [f"<li>{esc(w)}</li>" for w in harness[:summary.MAX_WARNINGS]]
        parts.append("</ul></details>")
    return "".join(parts) + "</section>"


def methods_section(results: rr.Results, charts: list[ck.Chart], command: str) -> str:
    files: dict[str, rr.Run] = {}
    for run in results.runs:
        files.setdefault(run.source.name, run)
    rows = []
    for name, run in sorted(files.items()):
        recorded = run.data_command()
        rows.append([Cell(name, is_text=True), Cell(run.file_kind, is_text=True),
                     Cell(recorded, is_text=True), Cell(run.created, is_text=True)])
    extra = ([[Cell(results.micro.path.name, is_text=True), Cell("Google Benchmark", is_text=True),
               Cell("rtbench micro", is_text=True), Cell("", is_text=True)]]
             if results.micro else [])
    extra += [[Cell(hf.path.name, is_text=True), Cell("hyperfine", is_text=True),
               Cell(f"hyperfine --export-json {hf.path.name} …", is_text=True),
               Cell("", is_text=True)] for hf in results.hyperfine]
    chart_rows = [[Cell(c.name, is_text=True), Cell(", ".join(c.sources) or "—", is_text=True),
                   Cell(f"plots/{c.module}.py", is_text=True),
                   Cell("drawn" if c.drawn else f"not drawn: {c.skipped}", is_text=True)]
                  for c in charts]
    return ('<section id="methods"><h2>How each figure was made</h2>'
            f"<p>Every chart and this report: <code>{esc(command)}</code> (matplotlib; "
            "the intervals are seeded bootstraps, so the same folder gives the same "
            "files). The data files and the commands that wrote them:</p>"
            + table(["file", "kind", "command", "created"], rows + extra)
            + table(["chart", "data", "drawn by", "state"], chart_rows)
            + "</section>")


def nav(results: rr.Results, charts: list[ck.Chart]) -> str:
    links = [("machine", "Machine"), ("headline", "Headline"), ("workloads", "Workloads")]
    links += [(f"w-{ck.slug(w)}", w) for w in dict.fromkeys(
        c.section for c in charts if c.section not in FAMILY_SECTIONS)]
    links += [("micro", "Microbenchmarks"), ("threads", "Threads"), ("hyperfine", "hyperfine"),
              ("warnings", "Warnings"), ("methods", "How each figure was made")]
    return "<nav><ul>" + "".join(f'<li><a href="#{a}">{esc(t)}</a></li>' for a, t in links) + \
        "</ul></nav>"


def document(results: rr.Results, charts: list[ck.Chart], command: str) -> str:
    numbers = {c.name: i for i, c in enumerate(charts, 1)}

    def number(chart: ck.Chart) -> int:
        return numbers[chart.name]

    title = f"rtbench report: {results.folder.resolve().name}"
    body = [f"<h1>{esc(title)}</h1>",
            f'<p class="muted">{esc(rr.machines_line(results.runs) if results.runs else "")}</p>',
            nav(results, charts), machine_section(results),
            headline_section(results, charts, number, command),
            workload_sections(results, charts, number, command),
            family_section("micro", "Microbenchmarks", charts, number, command,
                           "No micro.json in this folder."),
            family_section("threads", "Threads", charts, number, command,
                           "No run at more than one thread in this folder."),
            family_section("hyperfine", "hyperfine: whole-process timings", charts, number,
                           command, "No hyperfine file in this folder."),
            warnings_section(results, charts), methods_section(results, charts, command)]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head>"
            f"<body><main>{''.join(body)}</main><script>{SCRIPT}</script></body></html>\n")


def write(results: rr.Results, charts: Iterable[ck.Chart], out: Path, command: str) -> Path:
    """Write the report atomically; return its path."""
    text = document(results, list(charts), command)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out
