#!/usr/bin/env python3
"""Check a results folder made by 'rtbench suite' (scripts/test runs a tiny
suite and then this):

    suite_check.py DIR

Every result file is there and of schema rtbench/1 with every sample ok;
micro.json is Google Benchmark JSON; there is a hyperfine file per workload;
every chart the folder can support is there as a non-empty PNG (with the PNG
signature) and SVG, and every chart of a family that is not there is named in
report.html with the reason it was not drawn (a tiny suite's runs are too short
for some); summary.md has a row per workload; report.html is one file under
5 MB with every chart inline.  tests/browser_check.py then opens the report in
Chromium.  Standard library only; exits 1 with one line per problem.
"""

import json
import os
import sys

WORKLOADS = ['list_append', 'dict_churn', 'cycle_storm', 'binary_trees', 'long_lived',
             'fragmentation', 'gc_collect', 'gc_traversal', 'shared_refs']
# Drawn whatever the sizes.
PER_WORKLOAD_CHARTS = ['tuning', 'hyperfine']
CHARTS = ['tuning_all', 'variants', 'backends', 'vs_cpython', 'micro_alloc', 'micro_refcount',
          'micro_gc', 'threads']
# Drawn when the runs hold enough (pauses, RSS points): else the report says why.
MAYBE_CHARTS = ['pauses', 'rss_timeline']
REPORT_LIMIT = 5 * 1024 * 1024


def check(folder):
    problems = []

    def load(name):
        path = os.path.join(folder, name)
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            problems.append(f'{path}: {e}')
            return None

    for name in ['runs.json', 'cpython.json', 'threads.json'] + [f'sweep-{w}.json' for w in WORKLOADS]:
        doc = load(name)
        if doc is None:
            continue
        if doc.get('schema') != 'rtbench/1' or not doc.get('complete'):
            problems.append(f'{name}: not a complete rtbench/1 result')
        bad = [(r['name'], s['status']) for r in doc.get('runs', []) for s in r['samples'] if s['status'] != 'ok']
        if bad:
            problems.append(f'{name}: samples not ok: {bad[:3]}')
        if not os.path.exists(os.path.join(folder, name[:-5] + '.csv')):
            problems.append(f'{name}: no CSV beside it')
    micro = load('micro.json')
    if micro is not None and not micro.get('benchmarks'):
        problems.append('micro.json: no benchmarks')
    for w in WORKLOADS:
        doc = load(f'hyperfine-{w}.json')
        if doc is not None and not doc.get('results'):
            problems.append(f'hyperfine-{w}.json: no results')
    report = read_report(folder, problems)
    names = CHARTS + [f'{kind}_{w}' for kind in PER_WORKLOAD_CHARTS for w in WORKLOADS]
    maybe = [f'{kind}_{w}' for kind in MAYBE_CHARTS for w in WORKLOADS]
    drawn = [n for n in maybe if os.path.exists(os.path.join(folder, 'charts', f'{n}.png'))]
    for name in maybe:
        if name not in drawn and f'id="c-{name}"' not in report:
            problems.append(f'{name}: neither drawn nor said why in report.html')
        elif name not in drawn and 'not drawn:' not in report.split(f'id="c-{name}"')[1][:400]:
            problems.append(f'{name}: report.html does not say why it is not drawn')
    for name in names + drawn:
        problems += check_chart(folder, name)
        if report and f'data-chart="{name}"' not in report:
            problems.append(f'report.html: no inline chart {name}')
    try:
        with open(os.path.join(folder, 'summary.md')) as f:
            rows = [line for line in f if line.startswith('| ')]
        for w in WORKLOADS:
            if not any(line.startswith(f'| {w} ') for line in rows):
                problems.append(f'summary.md: no row for {w}')
    except OSError as e:
        problems.append(f'summary.md: {e}')
    return problems, len(names) + len(drawn)


def check_chart(folder, name):
    problems = []
    for ext in ('png', 'svg'):
        path = os.path.join(folder, 'charts', f'{name}.{ext}')
        try:
            with open(path, 'rb') as f:
                head = f.read(8)
            size = os.path.getsize(path)
        except OSError:
            problems.append(f'{path}: missing')
            continue
        if size == 0 or (ext == 'png' and head != b'\x89PNG\r\n\x1a\n'):
            problems.append(f'{path}: empty or not a {ext.upper()}')
    return problems


def read_report(folder, problems):
    """report.html's text ('' with a problem when it is missing or too big)."""
    path = os.path.join(folder, 'report.html')
    try:
        size = os.path.getsize(path)
        with open(path, encoding='utf-8') as f:
            text = f.read()
    except OSError as e:
        problems.append(f'{path}: {e}')
        return ''
    if size >= REPORT_LIMIT:
        problems.append(f'{path}: {size} bytes, over {REPORT_LIMIT}')
    return text


def main():
    if len(sys.argv) != 2:
        print('usage: suite_check.py DIR', file=sys.stderr)
        return 2
    problems, ncharts = check(sys.argv[1])
    for p in problems:
        print('suite_check: ' + p, file=sys.stderr)
    if not problems:
        print(f'suite_check: {sys.argv[1]}: every result file, {ncharts} charts (PNG and SVG), '
              'summary.md and report.html are there')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
