"""What the end-to-end tests of the rtbench command line share: test_cli.py,
test_cli_defects.py and test_cli_system.py (test_programs_cli.py takes
VALIDATOR).  Not a test itself.

The build folder (main() sets it from --build; build() joins a path in it),
rtbench() to run the command, TINY (every workload at a small size), and the
checks every result file gets: it validates against results/schema.json
(JSON Schema, with Debian's python3-jsonschema, and the C checker,
tests/schema_check.c), every sample keeps the RSS timeline's three
invariants, every summary's interval is the charts' (plots/rtstats.py), and
CSV rows match the JSON samples.  Base gives each test its own temporary
folder.  No timing assertions, and no sleeping in the hope that something
happened: the tests wait for a signal (a journal line, a line on stderr).
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

try:
    import jsonschema
except ImportError:             # Debian: apt-get install python3-jsonschema
    sys.exit('%s needs jsonschema (Debian: apt-get install python3-jsonschema); run it under /usr/bin/python3'
             % os.path.basename(sys.argv[0]))

BUILD = None                    # the build folder: main() sets it from --build
SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(SOURCE, 'results', 'schema.json')) as _f:
    SCHEMA = json.load(_f)
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)
sys.path.insert(0, os.path.join(SOURCE, 'plots'))
import rtstats  # noqa: E402  (the charts' statistics, checked against the harness's)
CPYTHON = '/usr/bin/python3'
COMPARE_PY = '/usr/share/benchmark/compare.py'
TINY = {
    'list_append': ['--n', '2000', '--rounds', '2'],
    'dict_churn': ['--keys', '100', '--n', '2000'],
    'cycle_storm': ['--n', '900', '--ring', '5', '--rounds', '2'],
    'binary_trees': ['--depth', '6'],
    'long_lived': ['--m', '500', '--n', '3000'],
    'fragmentation': ['--n', '3000'],
    'gc_collect': ['--cycles', '10', '--links', '5', '--loops', '3'],
    'gc_traversal': ['--levels', '40', '--loops', '2'],
    'shared_refs': ['--keys', '20', '--n', '3000'],
}


def build(*parts):
    """A path in the build folder, read when called (after main() set it)."""
    return os.path.join(BUILD, *parts)


def rtbench(*args, timeout=300, env=None):
    """Run rtbench; return (status, stdout, stderr)."""
    p = subprocess.run([build('rtbench')] + list(args), capture_output=True,
                       text=True, timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


# -- the schema ----------------------------------------------------------------

NUMBER = (int, float)


def check_timeline(t, s):
    """The RSS timeline's invariants: the workload alone (from 0 to wall_s),
    times strictly increasing, no point above the sample's peak."""
    tl = s['rss_timeline']
    times, rss = tl['t_s'], tl['rss_bytes']
    t.assertEqual(len(times), len(rss))
    t.assertGreaterEqual(len(times), 2, 'at least the start and the end')
    t.assertEqual(times[0], 0)
    t.assertEqual(times[-1], s['wall_s'])
    t.assertTrue(all(a < b for a, b in zip(times, times[1:])), 'times must increase strictly: %s' % times)
    t.assertLessEqual(max(rss), s['peak_rss_bytes'], 'a point above the peak')
    if tl['interval_s'] > 0 and s['wall_s'] < 3 * tl['interval_s']:
        t.assertTrue(tl['short'], 'a sample shorter than three steps says so')


def check_sample(t, s, implementation):
    t.assertIn(s['status'], ('ok', 'failed', 'crashed', 'timeout'))
    if s['status'] != 'ok':
        t.assertIsInstance(s['error'], str)
        return
    for key in ('index', 'user_s', 'sys_s', 'peak_rss_bytes', 'process_wall_s', 'minflt', 'majflt'):
        t.assertIsInstance(s[key], NUMBER, key)
    t.assertIsNone(s['error'])
    for key in ('wall_s', 'cpu_s', 'final_rss_bytes', 'load_before', 'load_after'):
        t.assertIsInstance(s[key], NUMBER, key)
    t.assertGreater(s['peak_rss_bytes'], 0)
    counted = s['instructions_counter'] is not None      # --metric instructions
    t.assertIn(s['instructions_counter'], (None, 'perf', 'callgrind'))
    t.assertEqual(isinstance(s['instructions'], int), counted, 'a count exactly when counted')
    check_timeline(t, s)
    g = s['gc']
    p = g['pauses']
    t.assertEqual(p['count'], sum(g['collections']))
    t.assertLessEqual(p['p50_s'], p['p99_s'])
    t.assertLessEqual(p['p99_s'], p['max_s'] + 1e-12)
    t.assertIsInstance(s['result']['check'], int)
    if implementation == 'rtbench':
        t.assertIsInstance(s['profile']['types'], list)
        for row in s['profile']['types']:       # the run's peaks, the profile's time's counts
            t.assertGreaterEqual(row['live_peak'], row['live'], row)
            t.assertGreaterEqual(row['bytes_peak'], row['bytes'], row)
        for key in ('arenas_allocated', 'arenas_reused', 'arenas_released', 'arenas_retained'):
            t.assertIsInstance(s['alloc'][key], int, key)
        t.assertTrue(s['heap_clean'])


def check_result(t, doc, kind=None):
    errors = sorted(VALIDATOR.iter_errors(doc), key=lambda e: list(e.path))
    t.assertEqual([], ['%s: %s' % ('/'.join(map(str, e.path)), e.message) for e in errors[:5]])
    if kind:
        t.assertEqual(doc['kind'], kind)
    order = doc['schedule']['order']
    t.assertEqual(len(order), len({tuple(o) for o in order}), 'no sample twice in the order')
    for run in doc['runs']:
        t.assertTrue(run['name'].startswith(run['workload'] + '/'))
        wall = run['summary']['wall_s']
        if wall['n'] >= 2:      # one median interval: the charts' is the harness's
            st = rtstats.Stat.of(s['wall_s'] for s in run['samples'] if s['status'] == 'ok')
            t.assertEqual([st.low, st.high], wall['ci95'], run['name'])
        for s in run['samples']:
            check_sample(t, s, run['implementation'])


def check_csv_matches(t, json_path):
    with open(json_path) as f:
        doc = json.load(f)
    with open(json_path[:-5] + '.csv', newline='') as f:
        rows = list(csv.DictReader(f))
    samples = [(run, s) for run in doc['runs'] for s in run['samples']]
    t.assertEqual(len(rows), len(samples))
    for row, (run, s) in zip(rows, samples):
        t.assertEqual(row['name'], run['name'])
        t.assertEqual(row['status'], s['status'])
        if s['status'] == 'ok':
            t.assertAlmostEqual(float(row['wall_s']), s['wall_s'], places=12)
            t.assertEqual(int(row['peak_rss_bytes']), s['peak_rss_bytes'])
            t.assertEqual(int(row['gc_collections_0']), s['gc']['collections'][0])
            pauses = s['gc']['pauses']
            for key in ('safepoint_total_s', 'safepoint_max_s', 'parked_total_s'):
                cell = row['gc_pauses_' + key]
                if key in pauses:
                    t.assertAlmostEqual(float(cell), pauses[key], places=12)
                else:
                    t.assertEqual(cell, '', key)


def load(path):
    with open(path) as f:
        return json.load(f)


def load_result(t, path, kind=None):
    """A result file, checked against the schema (by jsonschema and by the C
    checker, tests/schema_check.c) and the invariants."""
    doc = load(path)
    check_result(t, doc, kind)
    checker = build('tests', 'rtb_schema_check')
    p = subprocess.run([checker, os.path.join(SOURCE, 'results', 'schema.json'), path], capture_output=True, text=True)
    t.assertEqual(p.returncode, 0, p.stderr)
    return doc


def wait_for_lines(path, count, proc, limit=120):
    """Wait until the file has count lines (a journal), or the process ended."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with open(path) as f:
                if sum(1 for line in f if line.endswith('\n')) >= count:
                    return True
        except FileNotFoundError:
            pass
        time.sleep(0.01)         # polling for the signal, not waiting in hope
    return False


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def assertNoNan(self, text):
        """No 'nan' in what rtbench printed, the test's own temporary folder
        left out: its random name may hold the letters (tmpk5nannr0 did)."""
        self.assertNotIn('nan', text.replace(self.dir, '<tmp>'))


def main():
    """Run the calling file's tests (its __main__) against --build DIR."""
    global BUILD
    parser = argparse.ArgumentParser()
    parser.add_argument('--build', required=True, help='the build directory holding rtbench')
    args, rest = parser.parse_known_args()
    BUILD = os.path.abspath(args.build)
    unittest.main(module='__main__', argv=[sys.argv[0]] + rest, verbosity=2)
