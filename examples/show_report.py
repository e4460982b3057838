#!/usr/bin/env python3
"""Print the headline numbers of run.py reports, one row each.

    python3 examples/show_report.py REPORT.json [REPORT.json ...]

For each report (one JSON object, as run.py writes it): the GC settings the
program started with, its exit status, time, collections per generation,
pauses (total, p99, max), peak RSS, and under --fork-workers the workers'
mean RSS, PSS and USS and the PSS of the whole server; then the report's
warnings and errors.
"""

import json
import sys

MIB = 1024 * 1024


def settings(report):
    first = report['gc_settings']
    text = 't=%s' % ','.join(map(str, first['threshold']))
    if not first['enabled']:
        text += ' gc:off'
    if first['freeze_after_import']:
        text += ' freeze'
    return text


def row(name, report):
    """The columns of one report."""
    gc_ = report['gc']
    pauses = gc_['pauses']
    cells = [name, settings(report), str(report['exit_status']),
             '%.3f' % report['wall_s'],
             '/'.join(map(str, gc_['collections'])),
             '%.1f' % (pauses['total_s'] * 1e3) if pauses else '-',
             '%.2f' % (pauses['p99_s'] * 1e3) if pauses else '-',
             '%.2f' % (pauses['max_s'] * 1e3) if pauses else '-',
             '%.1f' % (report['peak_rss_bytes'] / MIB)]
    fork = report['fork_workers']
    if fork:
        cells += ['%.1f' % (fork[key] / MIB) if fork[key] is not None else '-'
                  for key in ('rss_bytes_mean', 'pss_bytes_mean', 'uss_bytes_mean',
                              'pss_bytes_total')]
    return cells


def fail(message):
    """One line on stderr, status 2."""
    sys.stderr.write('show_report.py: %s\n' % message)
    sys.exit(2)


def main(paths):
    if not paths:
        fail('no report given (usage: show_report.py REPORT.json [REPORT.json ...]; '
             'run.py writes one)')
    header = ['report', 'settings', 'exit', 'wall s', 'collections',
              'pause ms', 'p99 ms', 'max ms', 'peak MiB']
    rows, notes = [], []
    for path in paths:
        try:
            with open(path) as f:
                report = json.load(f)
            rows.append(row(path, report))
        except (OSError, ValueError) as error:
            fail('cannot read %s: %s' % (path, error))
        except (KeyError, TypeError):
            fail('%s is not a report of run.py --script or -m (a twin\'s, or '
                 'another JSON file?)' % path)
        if report['error']:
            notes.append('%s: %s' % (path, report['error']))
        notes += ['%s: %s' % (path, w['message']) for w in report['warnings']]
    if any(len(r) > len(header) for r in rows):
        header += ['worker RSS', 'worker PSS', 'worker USS', 'total PSS MiB']
    rows = [r + [''] * (len(header) - len(r)) for r in rows]
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    for r in [header] + rows:
        print('  '.join(cell.rjust(w) if i else cell.ljust(w)
                        for i, (cell, w) in enumerate(zip(r, widths))).rstrip())
    for note in notes:
        print(note)


if __name__ == '__main__':
    main(sys.argv[1:])
