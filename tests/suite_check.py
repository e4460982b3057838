#!/usr/bin/env python3
"""Check a results folder made by 'rtbench suite' (scripts/test runs a tiny
suite and then this):

    suite_check.py DIR

Every result file is there and of schema rtbench/1 with every sample ok;
micro.json is Google Benchmark JSON; there is a hyperfine file per workload;
every chart is there as a non-empty PNG (with the PNG signature) and SVG;
summary.md has a row per workload.  Standard library only; exits 1 with one
line per problem.
"""

import json
import os
import sys

WORKLOADS = ['list_append', 'dict_churn', 'cycle_storm', 'binary_trees', 'long_lived',
             'fragmentation', 'gc_collect', 'gc_traversal']
PER_WORKLOAD_CHARTS = ['sweep', 'pareto', 'gc_pause_cdf', 'rss_timeline', 'hyperfine']
CHARTS = ['sweep_all', 'variants', 'vs_cpython', 'micro', 'micro_other']


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

    for name in ['runs.json', 'cpython.json'] + [f'sweep-{w}.json' for w in WORKLOADS]:
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
    names = CHARTS + [f'{kind}_{w}' for kind in PER_WORKLOAD_CHARTS for w in WORKLOADS]
    for name in names:
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
    try:
        with open(os.path.join(folder, 'summary.md')) as f:
            rows = [line for line in f if line.startswith('| ')]
        for w in WORKLOADS:
            if not any(line.startswith(f'| {w} ') for line in rows):
                problems.append(f'summary.md: no row for {w}')
    except OSError as e:
        problems.append(f'summary.md: {e}')
    return problems, len(names)


def main():
    if len(sys.argv) != 2:
        print('usage: suite_check.py DIR', file=sys.stderr)
        return 2
    problems, ncharts = check(sys.argv[1])
    for p in problems:
        print('suite_check: ' + p, file=sys.stderr)
    if not problems:
        print(f'suite_check: {sys.argv[1]}: every result file, {ncharts} charts (PNG and SVG) and summary.md are there')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
