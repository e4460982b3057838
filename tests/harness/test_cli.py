#!/usr/bin/env python3
"""End-to-end tests of the rtbench command line.

Run by ctest (tests/CMakeLists.txt) as

    python3 tests/harness/test_cli.py --build BUILD_DIR

Every subcommand at small sizes: every result file validates against
results/schema.json (JSON Schema, with Debian's python3-jsonschema) and every
sample keeps the RSS timeline's three invariants; CSV rows match the JSON
samples, every bad input exits 2 with one line and writes nothing, an existing
result is never replaced without --force, an interrupted run keeps its
finished samples and resumes, a sweep killed with SIGKILL resumes without
redoing or losing samples, samples are interleaved in a recorded order,
shards merge back into the whole, the exports are read by Debian's
compare.py and pass hyperfine 1.15's scripts' input checks, and the
collector's counts agree with real CPython's (the conformance check).
No timing assertions, and no sleeping in the hope that something happened:
the tests wait for a signal (a journal line, a line on stderr).
"""

import argparse
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types
import unittest
import importlib.machinery

try:
    import jsonschema
except ImportError:             # Debian: apt-get install python3-jsonschema
    sys.exit('test_cli.py needs jsonschema (Debian: apt-get install python3-jsonschema); run it under /usr/bin/python3')

BUILD = None
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


def rtbench(*args, timeout=300, env=None):
    """Run rtbench; return (status, stdout, stderr)."""
    p = subprocess.run([os.path.join(BUILD, 'rtbench')] + list(args), capture_output=True,
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


def load(path):
    with open(path) as f:
        return json.load(f)


def load_result(t, path, kind=None):
    """A result file, checked against the schema (by jsonschema and by the C
    checker, tests/schema_check.c) and the invariants."""
    doc = load(path)
    check_result(t, doc, kind)
    checker = os.path.join(BUILD, 'tests', 'rtb_schema_check')
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


class ListAndHelp(Base):
    def test_list_names_every_workload_and_backend(self):
        status, out, _ = rtbench('list', '--json')
        self.assertEqual(status, 0)
        doc = json.loads(out)
        self.assertEqual([w['name'] for w in doc['workloads']], list(TINY))
        self.assertEqual(doc['rc'], ['nonatomic', 'atomic', 'biased'])
        self.assertEqual([b['name'] for b in doc['alloc']], ['pool', 'malloc', 'debug', 'mimalloc', 'jemalloc'])
        status, out, _ = rtbench('list')
        self.assertEqual(status, 0)
        self.assertIn('--ring', out)

    def test_every_command_has_help(self):
        for cmd in ('list', 'run', 'sweep', 'suite', 'cpython', 'compare', 'export', 'merge', 'micro', 'plot', 'system', 'tune'):
            status, out, err = rtbench(cmd, '--help')
            self.assertEqual(status, 0, cmd)
            self.assertIn('usage: rtbench ' + cmd, out)
            self.assertTrue(all(len(line) <= 80 for line in out.splitlines()), cmd)
        status, out, _ = rtbench('--help')
        self.assertEqual(status, 0)
        self.assertIn('RT_MALLOC', out)
        status, out, _ = rtbench('--version')
        self.assertEqual(status, 0)
        self.assertRegex(out, r'^rtbench \d+\.\d+\.\d+ ')


class Run(Base):
    def test_every_workload_writes_a_valid_result(self):
        for name, params in TINY.items():
            with self.subTest(workload=name):
                out = self.path(name + '.json')
                status, _, err = rtbench('run', name, *params, '--repeat', '2', '--out', out)
                self.assertEqual(status, 0, err)
                doc = load_result(self, out, 'run')
                self.assertTrue(doc['complete'])
                self.assertEqual(len(doc['runs'][0]['samples']), 2)
                check_csv_matches(self, out)

    def test_variants_and_backends(self):
        doc = load_or_fail(self, 'list')
        backends = [b['name'] for b in doc['alloc'] if b['available']]
        for rc in ('nonatomic', 'atomic', 'biased'):
            for alloc in backends:
                with self.subTest(rc=rc, alloc=alloc):
                    out = self.path('v-%s-%s.json' % (rc, alloc))
                    status, _, err = rtbench('run', 'cycle_storm', *TINY['cycle_storm'], '--rc', rc,
                                             '--alloc', alloc, '--repeat', '1', '--out', out)
                    self.assertEqual(status, 0, err)
                    run = load_result(self, out)['runs'][0]
                    self.assertEqual(run['config']['rc'], rc)
                    self.assertEqual(run['samples'][0]['rc'], rc)
                    self.assertEqual(run['samples'][0]['alloc']['backend'], alloc)

    def test_interrupted_run_keeps_finished_samples_and_resumes(self):
        out = self.path('int.json')
        args = ['run', 'cycle_storm', '--n', '60000', '--repeat', '50', '--out', out, '--quiet']
        p = subprocess.Popen([os.path.join(BUILD, 'rtbench')] + args,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        journal = self.path('.int.json.journal.jsonl')
        self.assertTrue(wait_for_lines(journal, 3, p), 'two samples journaled')   # header + 2
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
        self.assertEqual(p.returncode, 130, err)
        self.assertIn('interrupted', err)
        doc = load_result(self, out)
        self.assertFalse(doc['complete'])
        kept = doc['runs'][0]['samples']
        self.assertGreaterEqual(len(kept), 2)
        self.assertLess(len(kept), 50)
        self.assertTrue(all(s['status'] == 'ok' for s in kept))
        check_csv_matches(self, out)
        # The same command refuses without --resume, and finishes with it.
        self.assertEqual(rtbench(*args)[0], 2)
        other = args[:3] + ['50000'] + args[4:] + ['--resume']
        status, _, err = rtbench(*other)
        self.assertEqual(status, 2, 'another command\'s journal: ' + err)
        status, _, err = rtbench(*(args[:5] + [str(len(kept) + 2)] + args[6:] + ['--resume']))
        self.assertEqual(status, 0, err)
        self.assertIn('%d sample(s) already done' % len(kept), err)
        doc = load_result(self, out)
        self.assertTrue(doc['complete'])
        self.assertEqual([s['index'] for s in doc['runs'][0]['samples']], list(range(len(kept) + 2)))
        self.assertFalse(os.path.exists(journal))


def load_or_fail(t, *args):
    status, out, err = rtbench(*args, '--json')
    t.assertEqual(status, 0, err)
    return json.loads(out)


class BadInput(Base):
    CASES = [
        ('run', 'nosuch'),
        ('run',),
        ('run', 'cycle_storm', '--bogus', '1'),
        ('run', 'cycle_storm', '--n', '-5'),
        ('run', 'cycle_storm', '--n', 'ten'),
        ('run', 'cycle_storm', '--ring', '0'),
        ('run', 'cycle_storm', '--alloc', 'tcmalloc'),
        ('run', 'cycle_storm', '--rc', 'sometimes'),
        ('run', 'cycle_storm', '--gc', 'maybe'),
        ('run', 'cycle_storm', '--threshold', '1,,2'),
        ('run', 'cycle_storm', '--threshold', '700,10,10,10'),
        ('run', 'cycle_storm', '--repeat', '0'),
        ('run', 'cycle_storm', '--n'),
        ('sweep', 'cycle_storm', '--threshold0', '100:10:log3'),
        ('sweep', 'cycle_storm', '--threshold0', '1,x'),
        ('sweep', 'cycle_storm', '--rc', 'nonatomic,triple'),
        ('cpython', 'cycle_storm', '--python', '/no/such/python'),
        ('compare', 'only-one.json'),
        ('compare', 'a.json', 'b.json', 'c.json'),
        ('compare', 'a.json', 'b.json', '--metric', 'speed'),
        ('compare', 'a.json', 'b.json', '--fail-above', '-3'),
        ('compare', 'a.json', 'b.json', '--fail-above'),
        ('compare', 'a.json', 'b.json', '--alpha', '1.5'),
        ('compare', 'a.json', 'b.json', '--ci', 'jackknife'),
        ('compare', 'a.json', 'b.json', '--table-format', 'html'),
        ('compare', '/no/such/folder/', 'b.json'),
        ('export', 'x.json', '--to', 'xml'),
        ('micro', '--repetitions', 'many'),
        ('plot', '/no/such/folder'),
        ('system', '--bogus'),
        ('frobnicate',),
        ('cpython', 'cycle_storm', '--rc', 'atomic'),                 # defect 3
        ('cpython', 'cycle_storm', '--alloc', 'jemalloc'),
        ('cpython', 'cycle_storm', '--python', 'no-such-python-here'),
        ('sweep', 'cycle_storm'),                                     # defect 8: no axis
        ('sweep', 'cycle_storm', '--threshold0', '100,1000', '--shard', '4/3'),
        ('run', 'cycle_storm', '--repeat', 'sometimes'),
        ('run', 'cycle_storm', '--cpu', '999'),
        ('run', 'cycle_storm', '--precision', '0'),
        ('suite', '--shard', '0/3'),
        ('merge', 'only-a-dir'),
        ('micro', '--filter'),
        ('run', 'cycle_storm', '--metric', 'cycles'),
        ('suite', '--baseline', '/no/such/build'),
        ('run', 'cycle_storm', '--baseline', '/no/such/build'),
        ('cpython', 'cycle_storm', '--baseline', '.'),                   # run's, not cpython's
        ('run', 'cycle_storm', '--arena-decay', '-1'),
        ('run', 'cycle_storm', '--arena-decay', '86400001'),
        ('run', 'cycle_storm', '--arena-decay', '0,1000'),               # a list is a sweep's
        ('sweep', 'cycle_storm', '--arena-decay', '0,soon'),
        ('cpython', 'cycle_storm', '--arena-decay', '0'),
    ]

    def test_bad_input_exits_2_with_one_line_and_writes_nothing(self):
        for case in self.CASES:
            with self.subTest(case=case):
                before = set(os.listdir(self.dir))
                args = list(case)
                if case[0] in ('run', 'cpython') and len(case) > 1:
                    args += ['--out', self.path('never.json')]
                status, out, err = rtbench(*args)
                self.assertEqual(status, 2, err)
                self.assertEqual(out, '')
                self.assertEqual(len(err.strip().splitlines()), 1, err)
                self.assertEqual(set(os.listdir(self.dir)), before)

    def test_unwritable_output_fails_before_any_work(self):
        blocker = self.path('a-file')
        with open(blocker, 'w') as f:
            f.write('x')
        for args in (('run', 'cycle_storm', '--out', blocker + '/r.json'),
                     ('sweep', 'cycle_storm', '--threshold0', '100,1000', '--out', blocker + '/dir'),
                     ('run', 'cycle_storm', '--out', self.dir)):
            with self.subTest(args=args):
                before = sorted(os.listdir(self.dir))
                status, _, err = rtbench(*args)
                self.assertEqual(status, 2, err)
                self.assertIn(args[-1], err)
                self.assertEqual(sorted(os.listdir(self.dir)), before)

    def test_corrupt_result_files_name_the_file_and_the_problem(self):
        good = self.path('good.json')
        self.assertEqual(rtbench('run', 'list_append', *TINY['list_append'], '--repeat', '2', '--out', good)[0], 0)
        with open(good) as f:
            text = f.read()
        cases = {
            'truncated.json': (text[:len(text) // 2], 'truncated'),
            'empty.json': ('', 'empty file'),
            'junk.json': ('hello', 'not JSON'),
            'other.json': ('{"schema": "other/9", "runs": []}', 'unknown schema'),
            'noschema.json': ('{"runs": []}', 'no "schema"'),
            'badruns.json': ('{"schema": "rtbench/1", "runs": [{"name": 3}]}', 'malformed'),
        }
        for name, (content, problem) in cases.items():
            path = self.path(name)
            with open(path, 'w') as f:
                f.write(content)
            for args in (('compare', good, path), ('export', path, '--to', 'md')):
                with self.subTest(file=name, command=args[0]):
                    status, _, err = rtbench(*args)
                    self.assertEqual(status, 2)
                    self.assertIn(path, err)
                    self.assertIn(problem, err)
        status, _, err = rtbench('compare', good, self.path('missing.json'))
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertEqual(status, 2)
        self.assertIn('missing.json: cannot open', err)


class Sweep(Base):
    def test_sweep_is_a_cross_product(self):
        out = self.path('sw')
        status, _, err = rtbench('sweep', 'cycle_storm', *TINY['cycle_storm'], '--threshold0', '100:10000:log3',
                                 '--rc', 'nonatomic,atomic', '--repeat', '2', '--out', out, '--quiet')
        self.assertEqual(status, 0, err)
        doc = load_result(self, os.path.join(out, 'sweep.json'), 'sweep')
        seen = {(r['config']['threshold'][0], r['config']['rc']) for r in doc['runs']}
        self.assertEqual(seen, {(t, rc) for t in (100, 1000, 10000) for rc in ('nonatomic', 'atomic')})
        self.assertFalse(os.path.exists(os.path.join(out, '.journal.jsonl')))
        check_csv_matches(self, os.path.join(out, 'sweep.json'))

    def test_a_parameter_axis_gives_each_size_its_own_table(self):
        status, report, err = rtbench('sweep', 'cycle_storm', '--n', '200,300', '--rounds', '1', '--repeat', '1',
                                      '--out', self.path('sizes'), '--quiet')
        self.assertEqual(status, 0, err)
        headers = [line for line in report.splitlines() if line.startswith('cycle_storm/')]
        self.assertEqual(len(headers), 2, report)
        self.assertIn('/n:200/', headers[0])
        self.assertIn('/n:300/', headers[1])

    def test_arena_decay_is_an_axis_that_reaches_the_pool(self):
        # list_append drops and rebuilds ~7 MiB of ints a round.  With a decay
        # of 0 the pool unmaps each wholly free arena at once (keeping one), so
        # at most one arena a round comes back from the retained ones; with a
        # day's decay nothing is unmapped, and the next round reuses the
        # arenas that emptied (all but the few that a class's last pool or a
        # free cache pins; those are reused in place).
        out = self.path('decay')
        status, _, err = rtbench('sweep', 'list_append', '--n', '200000', '--rounds', '3',
                                 '--arena-decay', '0,86400000', '--repeat', '1', '--out', out, '--quiet')
        self.assertEqual(status, 0, err)
        doc = load_result(self, os.path.join(out, 'sweep.json'), 'sweep')
        by_decay = {r['config']['arena_decay_ms']: r for r in doc['runs']}
        self.assertEqual(set(by_decay), {0, 86400000})
        self.assertTrue(by_decay[0]['name'].endswith('/alloc:pool/decay:0'), by_decay[0]['name'])
        alloc = {d: r['samples'][0]['alloc'] for d, r in by_decay.items()}
        for d, a in alloc.items():
            with self.subTest(decay=d):
                self.assertEqual(a['arenas_allocated'] - a['arenas_released'], a['arenas_current'])
                self.assertLessEqual(a['arenas_retained'], a['arenas_current'])
        day = alloc[86400000]
        self.assertLessEqual(alloc[0]['arenas_reused'], 3)
        self.assertGreaterEqual(alloc[0]['arenas_released'], 2 * (alloc[0]['arenas_peak'] - 2))
        self.assertEqual(day['arenas_released'], 0)
        self.assertEqual(day['arenas_allocated'], day['arenas_peak'])
        self.assertGreaterEqual(day['arenas_reused'], 2 * (day['arenas_peak'] - 3))
        check_csv_matches(self, os.path.join(out, 'sweep.json'))
        # The environment sets the default; the run records it, CPython's none.
        single = self.path('decay.json')
        status, _, err = rtbench('run', 'list_append', *TINY['list_append'], '--repeat', '1', '--out', single,
                                 '--quiet', env=dict(os.environ, RT_ARENA_DECAY_MS='5'))
        self.assertEqual(status, 0, err)
        run = load_result(self, single)['runs'][0]
        self.assertEqual(run['config']['arena_decay_ms'], 5)
        self.assertTrue(run['name'].endswith('/decay:5'), run['name'])
        self.assertIsNone(run['config']['gc_parallel'])     # nonatomic: no parallel collection
        # The threaded variants record their parallel collection.
        status, _, err = rtbench('run', 'list_append', *TINY['list_append'], '--rc', 'biased', '--repeat', '1',
                                 '--out', single, '--force', '--quiet', env=dict(os.environ, RT_GC_PARALLEL='off'))
        self.assertEqual(status, 0, err)
        run = load_result(self, single)['runs'][0]
        self.assertEqual(run['config']['gc_parallel'], 'off')
        self.assertTrue(run['name'].endswith('/parallel:off'), run['name'])

    def test_killed_sweep_resumes_without_redoing_or_losing_samples(self):
        out = self.path('sw')
        args = ['sweep', 'cycle_storm', '--n', '40000', '--threshold0', '100,1000,10000', '--repeat', '3',
                '--out', out, '--quiet']
        journal = os.path.join(out, '.journal.jsonl')
        p = subprocess.Popen([os.path.join(BUILD, 'rtbench')] + args, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.assertTrue(wait_for_lines(journal, 3, p), 'two samples journaled')
        p.send_signal(signal.SIGKILL)
        p.wait()
        with open(journal) as f:
            done_before = [json.loads(l) for l in f.read().splitlines()[1:] if l.strip().endswith('}')]
        self.assertGreaterEqual(len(done_before), 2)
        self.assertLess(len(done_before), 9)
        # Without --resume it refuses to overwrite; another sweep's resume too.
        self.assertEqual(rtbench(*args)[0], 2)
        other = list(args)
        other[4] = '100,1000'
        self.assertEqual(rtbench(*(other + ['--resume']))[0], 2)
        status, _, err = rtbench(*(args + ['--resume']))
        self.assertEqual(status, 0, err)
        self.assertIn('%d sample(s) already done' % len(done_before), err)
        doc = load_result(self, os.path.join(out, 'sweep.json'), 'sweep')
        self.assertTrue(doc['complete'])
        for run in doc['runs']:
            self.assertEqual(sorted(s['index'] for s in run['samples']), [0, 1, 2])
        kept = {(l['config'], l['sample']['index'], l['sample']['wall_s']) for l in done_before}
        final = {(r['name'], s['index'], s['wall_s']) for r in doc['runs'] for s in r['samples']}
        self.assertTrue(kept <= final, 'journaled samples must be kept, not redone')
        self.assertFalse(os.path.exists(journal))
        # Interleaved: each sample once in the recorded order, rounds in turn.
        self.assertEqual(sorted(map(tuple, doc['schedule']['order'])),
                         sorted((r, i) for r in range(3) for i in range(3)))
        for run in doc['runs']:
            self.assertEqual([s['round'] for s in run['samples']], [0, 1, 2])
        # Rerunning into the finished folder is refused (defect 1).
        status, _, err = rtbench(*args)
        self.assertEqual(status, 2, err)
        self.assertIn('--force', err)


class CompareAndExport(Base):
    def setUp(self):
        super().setUp()
        self.a, self.b = self.path('a.json'), self.path('b.json')
        for out, rc in ((self.a, 'nonatomic'), (self.b, 'atomic')):
            status, _, err = rtbench('run', 'cycle_storm', *TINY['cycle_storm'], '--rc', rc, '--repeat', '3',
                                     '--out', out, '--quiet')
            self.assertEqual(status, 0, err)

    def test_compare_pairs_and_judges(self):
        status, out, err = rtbench('compare', self.a, self.b)
        self.assertEqual(status, 0, err)
        self.assertRegex(out, r'(faster|slower|not significant|too few samples)')
        self.assertIn('geometric mean', out)
        self.assertIn('vs cycle_storm/', out)       # both names: rc:nonatomic vs rc:atomic
        self.assertRegex(out, r'ratio [0-9.]+ \[[0-9.]+, [0-9.]+\], p [0-9.e-]+')
        status, out, _ = rtbench('compare', self.a, self.b, '--table-format', 'md', '--metric', 'peak_rss_bytes')
        self.assertEqual(status, 0)
        self.assertTrue(out.startswith('**peak_rss_bytes**'))
        self.assertIn('| configuration | A median | B median | ratio [95% CI] | p | verdict |', out)
        self.assertIn('| **geometric mean** |', out)

    def synthetic(self, name, walls):
        """A copy of result file a.json whose samples have the given wall_s:
        a known difference, and no timing in the test."""
        doc = load(self.a)
        run = doc['runs'][0]
        run['samples'] = [dict(run['samples'][0], index=i, wall_s=w) for i, w in enumerate(walls)]
        path = self.path(name)
        with open(path, 'w') as f:
            json.dump(doc, f)
        return path

    def test_fail_above_exit_codes(self):
        walls = [0.100, 0.101, 0.099, 0.102, 0.098]
        base = self.synthetic('base.json', walls)
        slower = self.synthetic('slower.json', [w * 1.2 for w in walls])
        status, out, err = rtbench('compare', base, slower, '--fail-above', '5')
        self.assertEqual(status, 1, out + err)
        self.assertIn('1.2x slower', out)
        self.assertIn('1 configuration(s) significantly worse by more than 5%', err)
        status, out, err = rtbench('compare', base, slower, '--fail-above', '25')
        self.assertEqual(status, 0, out + err)
        self.assertIn('no configuration significantly worse by more than 25%', err)
        self.assertEqual(rtbench('compare', base, base, '--fail-above', '0')[0], 0)     # A/A
        faster = self.synthetic('faster.json', [w * 0.8 for w in walls])
        self.assertEqual(rtbench('compare', base, faster, '--fail-above', '0')[0], 0)
        status, out, _ = rtbench('compare', base, slower, '--fail-above', '5', '--table-format', 'md')
        self.assertEqual(status, 1)
        self.assertIn(':x: 1.2x slower', out)
        self.assertIn('significantly worse by more than 5%', out)

    def test_too_few_samples_is_said(self):
        base = self.synthetic('base.json', [0.100, 0.101, 0.099])
        slower = self.synthetic('slower.json', [0.300, 0.301])
        status, out, err = rtbench('compare', base, slower, '--fail-above', '5')
        self.assertEqual(status, 0, out + err)      # 3 v 2: p >= 0.2 at best, nothing can fail
        self.assertIn('too few samples (3 vs 2: p >= 0.2 at best)', out)
        self.assertIn('too few samples for any difference to be significant', err)

    def test_folders_pair_by_file_and_list_the_unpaired(self):
        da, db = self.path('A'), self.path('B')
        os.mkdir(da)
        os.mkdir(db)
        for d, src in ((da, self.a), (db, self.b)):
            with open(src) as f, open(os.path.join(d, 'runs.json'), 'w') as g:
                g.write(f.read())
        with open(os.path.join(da, 'micro.json'), 'w') as f:      # another tool's file: passed over
            json.dump({'context': {}, 'benchmarks': []}, f)
        with open(self.path('a.json')) as f, open(os.path.join(da, 'extra.json'), 'w') as g:
            g.write(f.read())
        status, out, err = rtbench('compare', da, db)
        self.assertEqual(status, 0, err)
        self.assertIn('rc:nonatomic/alloc:pool\n    vs cycle_storm/', out)
        self.assertIn('1 configuration(s) of A (%s) have no counterpart' % da, err)
        status, out, err = rtbench('compare', da, self.a)      # a folder against a file: by names
        self.assertEqual(status, 0, err)
        self.assertNotIn('\n    vs ', out)
        self.assertIn('1 configuration(s) of A (%s) have no counterpart' % da, err)
        os.remove(os.path.join(db, 'runs.json'))
        status, _, err = rtbench('compare', da, db)
        self.assertEqual(status, 2)
        self.assertIn('no rtbench result file', err)

    def test_exports(self):
        g, h = self.path('g.json'), self.path('h.json')
        self.assertEqual(rtbench('export', self.a, '--to', 'gbench', '--out', g)[0], 0)
        doc = load(g)
        its = [b for b in doc['benchmarks'] if b['run_type'] == 'iteration']
        self.assertEqual(len(its), 3)
        self.assertEqual({b['time_unit'] for b in its}, {'ns'})
        samples = load(self.a)['runs'][0]['samples']
        for b, s in zip(its, samples):     # defect 9: one scope, the workload's, in ns
            self.assertAlmostEqual(b['real_time'], s['wall_s'] * 1e9, delta=1)
            self.assertAlmostEqual(b['cpu_time'], s['cpu_s'] * 1e9, delta=1)
            self.assertAlmostEqual(b['process_cpu_ns'], (s['user_s'] + s['sys_s']) * 1e9, delta=1)
            self.assertNotEqual(b['real_time'], round(b['real_time'], -6), 'not whole milliseconds')
        self.assertEqual(sorted(b['aggregate_name'] for b in doc['benchmarks'] if b['run_type'] == 'aggregate'),
                         ['cv', 'mean', 'median', 'stddev'])
        self.assertEqual(rtbench('export', self.a, '--to', 'hyperfine', '--out', h)[0], 0)
        res = load(h)['results'][0]
        self.assertEqual(len(res['times']), 3)
        self.assertNotIn('memory_usage_byte', res)                  # not in hyperfine 1.15
        check_hyperfine_scripts_inputs(self, load(h))
        status, md, _ = rtbench('export', self.a, '--to', 'md')
        self.assertEqual(status, 0)
        self.assertIn('| cycle_storm/', md)

    def test_hyperfine_export_of_a_sweep_has_one_parameter(self):
        sw = self.path('sw')
        status, _, err = rtbench('sweep', 'cycle_storm', *TINY['cycle_storm'], '--threshold0', '100,1000,10000',
                                 '--repeat', '2', '--out', sw, '--quiet')
        self.assertEqual(status, 0, err)
        h = self.path('h.json')
        self.assertEqual(rtbench('export', os.path.join(sw, 'sweep.json'), '--to', 'hyperfine', '--out', h)[0], 0)
        doc = load(h)
        check_hyperfine_scripts_inputs(self, doc, parametrized=True)
        self.assertEqual([r['parameters'] for r in doc['results']],
                         [{'threshold0': v} for v in ('100', '1000', '10000')])
        self.assertEqual([r['command'] for r in doc['results']], ['t0:100', 't0:1000', 't0:10000'])

    @unittest.skipUnless(os.path.exists(COMPARE_PY), 'Debian libbenchmark-tools not installed (compare.py)')
    def test_google_compare_py_reads_the_export(self):
        both = self.path('both.json')
        a, b = load(self.a), load(self.b)
        a['runs'] += b['runs']
        with open(both, 'w') as f:
            json.dump(a, f)
        g = self.path('g.json')
        self.assertEqual(rtbench('export', both, '--to', 'gbench', '--out', g)[0], 0)
        p = subprocess.run([CPYTHON, COMPARE_PY, 'filters', g, '/rc:nonatomic/', '/rc:atomic/'],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('[/rc:nonatomic/ vs. /rc:atomic/]', p.stdout)
        self.assertIn('OVERALL_GEOMEAN', p.stdout)
        # Two files: benchmarksfiltered strips the part that differs.
        ga, gb = self.path('ga.json'), self.path('gb.json')
        self.assertEqual(rtbench('export', self.a, '--to', 'gbench', '--out', ga)[0], 0)
        self.assertEqual(rtbench('export', self.b, '--to', 'gbench', '--out', gb)[0], 0)
        p = subprocess.run([CPYTHON, COMPARE_PY, 'benchmarksfiltered', ga, '/rc:nonatomic/', gb, '/rc:atomic/'],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('[/rc:nonatomic/ vs. /rc:atomic/]', p.stdout)

    @unittest.skipUnless(os.path.exists(COMPARE_PY), 'Debian libbenchmark-tools not installed (compare.py)')
    def test_compare_py_filter_matches_a_part_exactly(self):
        sw = self.path('sw')
        self.assertEqual(rtbench('sweep', 'cycle_storm', *TINY['cycle_storm'], '--threshold0', '100,1000,10000',
                                 '--repeat', '2', '--out', sw, '--quiet')[0], 0)
        g = self.path('g.json')
        self.assertEqual(rtbench('export', os.path.join(sw, 'sweep.json'), '--to', 'gbench', '--out', g)[0], 0)
        p = subprocess.run([CPYTHON, COMPARE_PY, 'filters', g, '/t0:100/', '/t0:1000/'],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        plain = re.sub(r'\x1b\[[0-9;]*m', '', p.stdout)
        rows = [line for line in plain.splitlines() if line.startswith('cycle_storm')]
        self.assertTrue(rows, p.stdout)
        self.assertFalse(any('10000' in line for line in rows), 't0:100 must not match t0:10000')


def check_hyperfine_scripts_inputs(t, doc, parametrized=False):
    """What hyperfine 1.15's scripts/ read of an --export-json file, and the
    checks they make before drawing or computing anything:
      every script: json.load(f)["results"], each result's "command" (label)
      and "times" (a list of seconds);
      plot_whisker.py --sort-by median: "median"; plot_histogram.py: "times";
      advanced_statistics.py: "times" (numpy percentiles, mean, stddev),
      "command";
      welch_ttest.py: exactly two results, "times" with at least two values;
      plot_parametrized.py: every result has exactly one parameter
      ("benchmarks must have exactly one parameter"), the same name for all
      ("benchmarks must all have the same parameter name"), a value float()
      reads, and "mean" and "stddev" numbers for the error bars."""
    results = doc['results']
    t.assertIsInstance(results, list)
    for r in results:
        t.assertIsInstance(r['command'], str)
        t.assertLessEqual(len(r['command']), 40, 'a short label: ' + r['command'])
        t.assertTrue(r['times'] and all(isinstance(v, NUMBER) and v > 0 for v in r['times']))
        for key in ('mean', 'median', 'min', 'max', 'user', 'system'):
            t.assertIsInstance(r[key], NUMBER, key)
        t.assertEqual(len(r['exit_codes']), len(r['times']))
        t.assertTrue(all(isinstance(v, str) for v in r['parameters'].values()))
        t.assertEqual(set(r), {'command', 'mean', 'stddev', 'median', 'user', 'system', 'min', 'max', 'times',
                               'exit_codes', 'parameters'})
    if parametrized:
        names = set()
        for r in results:
            t.assertEqual(len(r['parameters']), 1, 'benchmarks must have exactly one parameter')
            (name, value), = r['parameters'].items()
            names.add(name)
            float(value)
            t.assertIsInstance(r['stddev'], NUMBER)
        t.assertEqual(len(names), 1, 'benchmarks must all have the same parameter name')
    if len(results) == 2:
        t.assertTrue(all(len(r['times']) >= 2 for r in results), 'welch_ttest.py needs two values a side')


class Defects(Base):
    """Issue 14's defects, one test each (the number in the name)."""

    def test_1_an_existing_result_is_not_replaced_without_force(self):
        out = self.path('t700.json')
        args = ['run', 'cycle_storm', *TINY['cycle_storm'], '--repeat', '2', '--out', out, '--quiet']
        self.assertEqual(rtbench(*args)[0], 0)
        with open(out, 'rb') as f:
            before = f.read()
        status, text, err = rtbench(*args[:-5], '--repeat', '1', '--out', out)
        self.assertEqual(status, 2, err)
        self.assertIn('--force', err)
        self.assertEqual(text, '')
        with open(out, 'rb') as f:
            self.assertEqual(f.read(), before)
        status, _, err = rtbench(*args[:-5], '--repeat', '1', '--out', out, '--force', '--quiet')
        self.assertEqual(status, 0, err)
        self.assertEqual(len(load_result(self, out)['runs'][0]['samples']), 1)

    def test_2_environment_is_honoured_and_recorded_or_refused(self):
        out = self.path('env.json')
        env = dict(os.environ, RT_MALLOC='malloc', RT_GC_THRESHOLD='500')
        status, _, err = rtbench('run', 'cycle_storm', *TINY['cycle_storm'], '--repeat', '1', '--out', out, '--quiet',
                                 env=env)
        self.assertEqual(status, 0, err)
        doc = load_result(self, out)
        self.assertEqual(doc['environment'], {'RT_MALLOC': 'malloc', 'RT_GC_THRESHOLD': '500'})
        run = doc['runs'][0]
        self.assertEqual(run['config']['alloc'], 'malloc')
        self.assertEqual(run['config']['threshold'], [500, 10, 10])
        self.assertEqual(run['samples'][0]['alloc']['backend'], 'malloc')
        # The command line wins over the environment.
        status, _, err = rtbench('run', 'cycle_storm', *TINY['cycle_storm'], '--repeat', '1', '--alloc', 'pool',
                                 '--out', out, '--force', '--quiet', env=env)
        self.assertEqual(load_result(self, out)['runs'][0]['config']['alloc'], 'pool')
        for name, value in (('RT_MALLOC', 'tcmalloc'), ('RT_GC_THRESHOLD', 'abc'), ('RT_GC', 'maybe'),
                            ('RT_ARENA_DECAY_MS', 'soon'), ('RT_GC_PARALLEL', 'sometimes')):
            with self.subTest(variable=name):
                bad = self.path('bad.json')
                status, text, err = rtbench('run', 'cycle_storm', '--out', bad, env=dict(os.environ, **{name: value}))
                self.assertEqual(status, 2, err)
                self.assertIn(name, err)
                self.assertEqual(len(err.strip().splitlines()), 1, err)
                self.assertFalse(os.path.exists(bad))
        status, _, err = rtbench('cpython', 'cycle_storm', '--out', self.path('c.json'),
                                 env=dict(os.environ, RT_MALLOC='malloc'))
        self.assertEqual(status, 2, err)

    def test_4_python_name_is_looked_up_in_path(self):
        out = self.path('c.json')
        env = dict(os.environ, PATH=os.path.dirname(CPYTHON) + ':' + os.environ.get('PATH', ''))
        status, _, err = rtbench('cpython', 'dict_churn', *TINY['dict_churn'], '--python', os.path.basename(CPYTHON),
                                 '--repeat', '1', '--out', out, '--quiet', env=env)
        self.assertEqual(status, 0, err)
        self.assertEqual(load_result(self, out)['runs'][0]['config']['python'], CPYTHON)

    def test_5_micro_filter_matching_nothing_writes_nothing(self):
        if not os.path.exists(os.path.join(BUILD, 'rtbench-micro')):
            self.skipTest('rtbench-micro is not built in this preset')
        out = self.path('m0.json')
        status, text, err = rtbench('micro', '--filter', 'nomatch', '--out', out)
        self.assertEqual(status, 1, err)
        self.assertNotIn('wrote', text)
        self.assertIn('no benchmark matches', err)
        self.assertEqual(os.listdir(self.dir), [])

    def test_6_no_nan_where_a_person_reads(self):
        out = self.path('to.json')
        status, text, err = rtbench('run', 'cycle_storm', '--repeat', '2', '--timeout', '0.05', '--out', out)
        self.assertEqual(status, 1, err)
        self.assertIn('no ok samples', text)
        self.assertNoNan(text + err)
        self.assertNotIn('see the error above', err)
        self.assertIn('timeout', err)
        doc = load_result(self, out)
        self.assertEqual({s['status'] for s in doc['runs'][0]['samples']}, {'timeout'})
        status, md, _ = rtbench('export', out, '--to', 'md')
        self.assertEqual(status, 0)
        self.assertNoNan(md)
        self.assertIn('no ok samples', md)

    def test_6_interrupted_sweep_calls_unrun_configurations_not_run(self):
        out = self.path('sw')
        p = subprocess.Popen([os.path.join(BUILD, 'rtbench'), 'sweep', 'cycle_storm', '--n', '40000',
                              '--threshold0', '100,1000,10000', '--repeat', '30', '--out', out, '--quiet'],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertTrue(wait_for_lines(os.path.join(out, '.journal.jsonl'), 2, p))
        p.send_signal(signal.SIGINT)
        text, err = p.communicate(timeout=120)
        self.assertEqual(p.returncode, 130, err)
        self.assertNoNan(text + err)
        doc = load_result(self, os.path.join(out, 'sweep.json'))
        for run in doc['runs']:
            kinds = {w['kind'] for w in run['warnings']}
            self.assertNotIn('failed', kinds)
            if not run['samples']:
                self.assertIn('not-run', kinds)

    def test_7_tables_before_warnings_and_a_heartbeat_in_logs(self):
        out = self.path('sw')
        p = subprocess.run([os.path.join(BUILD, 'rtbench'), 'sweep', 'cycle_storm', *TINY['cycle_storm'],
                            '--threshold0', '100,1000', '--repeat', '2', '--out', out, '--heartbeat', '0.001'],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout)
        lines = p.stdout.splitlines()
        table = next(i for i, line in enumerate(lines) if line.lstrip().startswith('configuration'))
        warnings = [i for i, line in enumerate(lines) if line.startswith('warning:')]
        self.assertTrue(all(i > table for i in warnings), p.stdout)
        self.assertTrue(any(re.match(r'rtbench sweep: \d+ of \d+ samples', line) for line in lines), p.stdout)
        self.assertTrue(all(len(line) <= 80 for line in lines), p.stdout)

    def test_7_auto_past_its_minimum_counts_samples_against_its_budget(self):
        # --repeat auto past its 5 samples has no total to count to: the
        # heartbeat says how many, and how much of --max-time is left.
        p = subprocess.run([os.path.join(BUILD, 'rtbench'), 'run', 'cycle_storm', '--n', '3000', '--rounds', '1',
                            '--repeat', 'auto', '--precision', '0.01', '--max-repeat', '40', '--max-time', '600',
                            '--out', self.path('auto.json'), '--heartbeat', '0.001'],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout)
        past = [line for line in p.stdout.splitlines() if re.match(r'rtbench run: \d+ samples, .*auto: at most ~', line)]
        self.assertTrue(past, p.stdout)
        self.assertFalse(any(re.match(r'rtbench run: (\d+) of \1 samples', line) for line in p.stdout.splitlines()))

    def test_7_progress_on_a_terminal_is_cleared_before_warnings(self):
        import pty
        out = self.path('t.json')
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(os.path.join(BUILD, 'rtbench'), ['rtbench', 'run', 'cycle_storm', *TINY['cycle_storm'],
                                                      '--repeat', '3', '--out', out])
        chunks = []
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        screen = b''.join(chunks).decode()
        self.assertIn('\r\x1b[K', screen, 'progress drawn in place')
        for line in screen.replace('\r\n', '\n').split('\n'):
            last = line.split('\r')[-1].replace('\x1b[K', '')
            self.assertLessEqual(len(last), 80, repr(line))
            if 'warning:' in line:
                self.assertTrue(line.startswith('warning:') or line.split('\r')[-1].replace('\x1b[K', '')
                                .startswith('warning:'), repr(line))

    def test_8_sweep_axis_of_log_range_and_values(self):
        out = self.path('sw')
        status, _, err = rtbench('sweep', 'cycle_storm', *TINY['cycle_storm'], '--threshold0', '100:100000:log4,700',
                                 '--repeat', '1', '--out', out, '--quiet')
        self.assertEqual(status, 0, err)
        doc = load_result(self, os.path.join(out, 'sweep.json'), 'sweep')
        self.assertEqual([r['config']['threshold'][0] for r in doc['runs']], [100, 700, 1000, 10000, 100000])

    def test_10_load_recorded_per_sample(self):
        out = self.path('l.json')
        self.assertEqual(rtbench('run', 'list_append', *TINY['list_append'], '--repeat', '2', '--out', out,
                                 '--quiet')[0], 0)
        doc = load_result(self, out)
        cores = doc['machine']['cores']
        for s in doc['runs'][0]['samples']:
            self.assertGreaterEqual(s['load_before'], 0)
            self.assertGreaterEqual(s['load_after'], 0)
        loaded = any(max(s['load_before'], s['load_after']) > cores for s in doc['runs'][0]['samples'])
        self.assertEqual(loaded, 'load' in {w['kind'] for w in doc['runs'][0]['warnings']})

    def test_11_export_reads_every_sample(self):
        out = self.path('big.json')
        self.assertEqual(rtbench('run', 'list_append', *TINY['list_append'], '--repeat', '2', '--out', out,
                                 '--quiet')[0], 0)
        doc = load(out)
        run = doc['runs'][0]
        run['samples'] = [dict(run['samples'][k % 2], index=k) for k in range(1100)]
        with open(out, 'w') as f:
            json.dump(doc, f)
        status, text, err = rtbench('export', out, '--to', 'gbench')
        self.assertEqual(status, 0, err)
        its = [b for b in json.loads(text)['benchmarks'] if b['run_type'] == 'iteration']
        self.assertEqual(len(its), 1100)

    def test_12_a_child_that_cannot_start_is_a_failed_sample(self):
        bin_dir = self.path('bin')
        os.mkdir(bin_dir)
        import shutil
        shutil.copy(os.path.join(BUILD, 'rtbench'), bin_dir)        # without rtbench-atomic beside it
        out = self.path('a.json')
        p = subprocess.run([os.path.join(bin_dir, 'rtbench'), 'run', 'cycle_storm', *TINY['cycle_storm'],
                            '--rc', 'atomic', '--repeat', '1', '--out', out, '--quiet'],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 1, p.stderr)
        s = load_result(self, out)['runs'][0]['samples'][0]
        self.assertEqual(s['status'], 'failed')
        self.assertIn('rtbench-atomic', s['error'])
        self.assertIn('No such file', s['error'])


class Driver(Base):
    """The one sample driver: interleaving, --repeat auto, shards."""

    def test_order_is_seeded_and_recorded(self):
        orders = []
        for k in range(2):
            out = self.path('sw%d' % k)
            status, _, err = rtbench('sweep', 'cycle_storm', *TINY['cycle_storm'], '--threshold0', '100,700,1000,10000',
                                     '--repeat', '2', '--seed', '7', '--out', out, '--quiet')
            self.assertEqual(status, 0, err)
            doc = load_result(self, os.path.join(out, 'sweep.json'))
            self.assertEqual(doc['schedule']['seed'], 7)
            self.assertTrue(doc['schedule']['interleaved'])
            orders.append(doc['schedule']['order'])
        self.assertEqual(orders[0], orders[1])
        self.assertEqual(len(orders[0]), 8)
        self.assertEqual([o[1] for o in orders[0]], [0] * 4 + [1] * 4, 'round-robin: every run once per round')

    def test_repeat_auto_takes_at_least_five_and_stops_within_budget(self):
        out = self.path('auto.json')
        status, _, err = rtbench('run', 'list_append', *TINY['list_append'], '--repeat', 'auto', '--max-repeat', '7',
                                 '--out', out, '--quiet')
        self.assertEqual(status, 0, err)
        doc = load_result(self, out)
        self.assertEqual(doc['schedule']['repeat'], 'auto')
        n = len(doc['runs'][0]['samples'])
        self.assertGreaterEqual(n, 5)
        self.assertLessEqual(n, 7)
        ci = doc['runs'][0]['summary']['wall_s']['ci95']
        self.assertLessEqual(ci[0], doc['runs'][0]['summary']['wall_s']['median'])

    def test_cpu_pinning_is_recorded(self):
        out = self.path('cpu.json')
        status, _, err = rtbench('run', 'list_append', *TINY['list_append'], '--repeat', '1', '--cpu', '0',
                                 '--out', out, '--quiet')
        self.assertEqual(status, 0, err)
        self.assertEqual(load_result(self, out)['cpu_list'], '0')

    def test_three_shards_merge_into_the_whole(self):
        args = ['sweep', 'cycle_storm', *TINY['cycle_storm'], '--threshold0', '100,700,1000,10000',
                '--rc', 'nonatomic,atomic', '--repeat', '1', '--quiet']
        whole = self.path('whole')
        self.assertEqual(rtbench(*args, '--out', whole)[0], 0)
        names = {r['name'] for r in load_result(self, os.path.join(whole, 'sweep.json'))['runs']}
        shards = []
        for i in (1, 2, 3):
            d = self.path('shard%d' % i)
            status, _, err = rtbench(*args, '--shard', '%d/3' % i, '--out', d)
            self.assertEqual(status, 0, err)
            doc = load_result(self, os.path.join(d, 'sweep.json'))
            self.assertEqual(doc['shard'], {'index': i, 'count': 3})
            shards.append({r['name'] for r in doc['runs']})
        self.assertEqual(sum(len(s) for s in shards), len(names), 'nothing doubled')
        self.assertEqual(set().union(*shards), names, 'nothing lost')
        merged = self.path('merged')
        status, _, err = rtbench('merge', *(self.path('shard%d' % i) for i in (1, 2, 3)), '--out', merged)
        self.assertEqual(status, 0, err)
        doc = load_result(self, os.path.join(merged, 'sweep.json'), 'sweep')
        self.assertEqual({r['name'] for r in doc['runs']}, names)
        self.assertIsNone(doc['shard'])
        status, _, err = rtbench('merge', self.path('shard1'), self.path('shard3'), '--out', self.path('m2'))
        self.assertEqual(status, 1, err)
        self.assertIn('shard 2 of 3 is missing', err)
        self.assertFalse(os.path.exists(os.path.join(self.path('m2'), 'sweep.json')))


class Counted(Base):
    """--metric instructions: each sample a counted child (perf, else
    callgrind), --repeat auto judging the count."""

    def setUp(self):
        super().setUp()
        if os.environ.get('RTB_COUNTED_RUNS', 'yes') != 'yes':
            self.skipTest('a sanitizer build: valgrind cannot run it')
        if shutil.which('valgrind') is None:
            self.skipTest('no valgrind (apt-get install valgrind)')

    def test_counts_are_exact_recorded_and_stop_auto_at_the_minimum(self):
        for cmd in ('run', 'cpython'):
            out = self.path(cmd + '.json')
            status, _, err = rtbench(cmd, 'list_append', *TINY['list_append'], '--metric', 'instructions',
                                     '--repeat', 'auto', '--max-repeat', '8', '--out', out, '--quiet')
            self.assertEqual(status, 0, err)
            samples = load_result(self, out)['runs'][0]['samples']
            counts = {s['instructions'] for s in samples}
            self.assertEqual(len(counts), 1, '%s: two counts of one configuration differ: %s' % (cmd, counts))
            self.assertGreater(counts.pop(), 0)
            self.assertEqual(len(samples), 5, '%s: equal counts make the interval tight at the minimum' % cmd)
            self.assertIn(samples[0]['instructions_counter'], ('perf', 'callgrind'))

    def test_a_counted_sweep_interleaves_and_counts_more_work_as_more(self):
        out = self.path('sw')
        status, _, err = rtbench('sweep', 'list_append', '--n', '2000,2200', '--rounds', '2', '--metric',
                                 'instructions', '--repeat', '2', '--seed', '3', '--out', out, '--quiet')
        self.assertEqual(status, 0, err)
        doc = load_result(self, os.path.join(out, 'sweep.json'))
        self.assertTrue(doc['schedule']['interleaved'])
        small, large = ({s['instructions'] for s in r['samples']} for r in doc['runs'])
        self.assertEqual((len(small), len(large)), (1, 1))
        self.assertGreater(large.pop(), small.pop())

    def test_every_thread_of_a_threaded_workload_is_counted(self):
        # The same work split over two threads counts about as many
        # instructions as on one: callgrind switches counting per thread,
        # and it counted the first thread's half alone once.
        out = self.path('threads')
        status, _, err = rtbench('sweep', 'list_append', '--n', '2000', '--rounds', '8', '--rc', 'biased',
                                 '--threads', '1,2', '--metric', 'instructions', '--repeat', '1', '--out', out,
                                 '--quiet')
        self.assertEqual(status, 0, err)
        runs = load_result(self, os.path.join(out, 'sweep.json'))['runs']
        counts = {r['params']['threads']: r['samples'][0]['instructions'] for r in runs}
        self.assertEqual(sorted(counts), [1, 2])
        self.assertLess(abs(counts[2] / counts[1] - 1), 0.1, counts)


class Baseline(Base):
    """suite --baseline: two builds' workers in one interleaved plan."""

    def test_base_and_head_are_measured_in_the_same_rounds(self):
        out = self.path('gate')
        status, _, err = rtbench('suite', '--tiny', '--baseline', BUILD, '--no-plots', '--seed', '5', '--out', out,
                                 '--quiet', timeout=900)
        self.assertEqual(status, 0, err)
        self.assertIn('no CPython twins', err)
        seqs = {}
        for side in ('base', 'head'):
            files = sorted(f for f in os.listdir(os.path.join(out, side)) if f.endswith('.json'))
            self.assertIn('runs.json', files)
            self.assertNotIn('cpython.json', files)
            seqs[side] = [s['seq'] for f in files for r in load_result(self, os.path.join(out, side, f))['runs']
                          for s in r['samples']]
        both = sorted(seqs['base'] + seqs['head'])
        self.assertEqual(both, list(range(len(both))), 'one plan: one sequence of samples, none lost or doubled')
        first_round = len(seqs['head'])             # every configuration once per round, both sides
        self.assertTrue(any(q < first_round for q in seqs['base']), 'the base is not measured after the head')
        self.assertTrue(any(q < first_round for q in seqs['head']), 'the head is not measured after the base')
        status, report, err = rtbench('compare', os.path.join(out, 'base'), os.path.join(out, 'head'))
        self.assertEqual(status, 0, err)
        self.assertNotIn('\n    vs ', report, 'each pair has one name')
        self.assertNotIn('no counterpart', err, 'every configuration paired by name')

    def test_run_baseline_measures_both_builds_in_the_same_rounds_and_compares(self):
        out = self.path('aa.json')
        status, report, err = rtbench('run', 'cycle_storm', '--n', '300', '--rounds', '1', '--repeat', '3', '--seed',
                                      '2', '--baseline', BUILD, '--out', out, '--quiet')
        self.assertEqual(status, 0, err)
        base = self.path('aa.base.json')
        self.assertIn('wrote %s and %s' % (out, base), report)
        self.assertIn('A = %s, B = %s' % (base, out), report, 'the comparison follows, base first')
        head_doc, base_doc = load_result(self, out), load_result(self, base)
        self.assertEqual(head_doc['runs'][0]['name'], base_doc['runs'][0]['name'], 'the same configuration')
        seqs = sorted([s['seq'] for s in head_doc['runs'][0]['samples']] + [s['seq'] for s in base_doc['runs'][0]['samples']])
        self.assertEqual(seqs, list(range(6)), 'one plan: three rounds of both')
        rounds = {s['round'] for d in (head_doc, base_doc) for s in d['runs'][0]['samples']}
        self.assertEqual(rounds, {0, 1, 2})

    def test_interrupted_run_baseline_names_both_files_and_resumes(self):
        out = self.path('ib.json')
        base = self.path('ib.base.json')
        args = ['run', 'cycle_storm', '--n', '60000', '--repeat', '40', '--seed', '3', '--baseline', BUILD,
                '--out', out, '--quiet']
        p = subprocess.Popen([os.path.join(BUILD, 'rtbench')] + args,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.assertTrue(wait_for_lines(self.path('.ib.json.journal.jsonl'), 3, p), 'two samples journaled')
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
        self.assertEqual(p.returncode, 130, err)
        self.assertIn('the finished samples are in %s and %s' % (out, base), err)
        self.assertFalse(load_result(self, out)['complete'])
        self.assertFalse(load_result(self, base)['complete'])
        status, _, err = rtbench(*(args[:5] + ['6'] + args[6:] + ['--resume']))
        self.assertEqual(status, 0, err)
        for f in (out, base):
            doc = load_result(self, f)
            self.assertTrue(doc['complete'])
            self.assertEqual([s['index'] for s in doc['runs'][0]['samples']], list(range(6)))

    def test_a_shard_keeps_each_base_configuration_with_its_head_twin(self):
        out = self.path('shard')
        status, _, err = rtbench('suite', '--tiny', '--baseline', BUILD, '--no-plots', '--no-cpython', '--shard', '2/7',
                                 '--out', out, '--quiet', timeout=900)
        self.assertEqual(status, 0, err)
        names = {}
        for side in ('base', 'head'):
            folder = os.path.join(out, side)
            names[side] = sorted((f, r['name'], len(r['samples'])) for f in os.listdir(folder) if f.endswith('.json')
                                 for r in load_result(self, os.path.join(folder, f))['runs'])
        self.assertTrue(names['head'])
        self.assertEqual(names['base'], names['head'], 'the same configurations, with as many samples, a side')


def load_scaling():
    """scripts/scaling as a module (it has no .py name), for its tables."""
    loader = importlib.machinery.SourceFileLoader('scaling', os.path.join(SOURCE, 'scripts', 'scaling'))
    scaling = types.ModuleType('scaling')
    loader.exec_module(scaling)
    return scaling


class Scaling(Base):
    """scripts/scaling end to end at tiny sizes: its sweeps, its tables, the
    machine's ceiling from the microbenchmarks."""

    def test_the_cpython_series_says_what_its_threads_do(self):
        """The CPython series is named for the interpreter's version and says
        that a GIL serialises its threads, or that a free-threaded build runs
        them at once (sys.version says which); with no version, no number."""
        scaling = load_scaling()
        label = lambda version: scaling.cpython_label({'w': ({1: 1.0}, version)})
        self.assertEqual(label('3.11.2 (main, Mar 13 2023, 12:18:29) [GCC 12.2.0]'),
                         'CPython 3.11.2: the GIL serialises its threads')
        self.assertEqual(label('3.13.1 experimental free-threading build (main) [GCC 14.2.0]'),
                         'CPython 3.13.1 free-threaded: its threads run at once')
        self.assertEqual(label(None), 'CPython: the GIL serialises its threads')

    def test_a_host_that_gave_less_than_its_cores_is_marked(self):
        """The processes' table marks a row whose processes sped up less than
        0.75 T, and says below it what that means; a row at full speed is not
        marked, and with none marked there is no such line."""
        scaling = load_scaling()
        run = lambda t, wall: {'config': {'rc': 'biased'}, 'params': {'threads': t},
                               'summary': {'wall_s': {'median': wall}}}
        threads = {'a': [run(1, 1.0), run(2, 0.6)], 'b': [run(1, 1.0), run(2, 0.9)]}
        rows = scaling.table_processes({'a': {2: (1.0, 0.55)}, 'b': {2: (1.0, 0.8)}}, threads)
        self.assertIn('| a | 2 | 1.000 | 0.550 | 1.82× | 1.67× |', rows)
        self.assertIn('| b | 2 | 1.000 | 0.800 | 1.25× (short) | 1.11× |', rows)
        self.assertTrue(rows[-1].startswith('(short): T processes that share nothing'), rows)
        rows = scaling.table_processes({'a': {2: (1.0, 0.55)}}, threads)
        self.assertFalse(any('(short)' in r for r in rows), rows)

    def test_scaling_writes_its_tables_and_the_machines_ceiling(self):
        out = self.path('scaling')
        done = subprocess.run([sys.executable, os.path.join(SOURCE, 'scripts', 'scaling'), '--build', BUILD,
                               '--sizes', 'tiny', '--threads', '1,2', '--repeat', '1', '--workloads', 'list_append',
                               '--out', out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(os.path.join(out, 'summary.md')) as f:
            summary = f.read()
        for heading in ('## Single thread', '## Throughput against threads'):
            self.assertIn(heading, summary)
        for rc in ('atomic', 'biased'):
            for t in (1, 2):
                self.assertRegex(summary, r'\| list_append \| %s \| %d \| [0-9.]+ \|' % (rc, t))
        # The chart's points always; the chart wherever a Python with
        # matplotlib is found (this one, or /usr/bin/python3 on Debian).
        with open(os.path.join(out, 'chart.json')) as f:
            series = json.load(f)['list_append']
        self.assertIn('processes', series)
        # The Python twin's threads under CPython, said to take turns (the
        # GIL) in the chart's series name and the table's heading; or, where
        # CPython does not run, a line that says so.
        cpython = [name for name in series if name.startswith('CPython')]
        if cpython:
            self.assertIn('the GIL serialises its threads', cpython[0])
            self.assertEqual([p[0] for p in series[cpython[0]]], [1, 2])
            self.assertRegex(summary, r'## CPython [0-9.]+: the GIL serialises its threads')
            self.assertRegex(summary, r'\| list_append \| 2 \| [0-9.]+ \| [0-9.]+× \| [0-9.]+ \|')
        else:
            self.assertIn('CPython did not run list_append', done.stderr)
        has_mpl = subprocess.run(['/usr/bin/python3', '-c', 'import matplotlib'], stderr=subprocess.DEVNULL).returncode == 0
        if has_mpl:
            self.assertTrue(os.path.exists(os.path.join(out, 'scaling.png')), done.stderr)
        # The processes' ceiling: two processes, one share each, timed.
        self.assertIn("## The processes' ceiling", summary)
        self.assertRegex(summary, r'\| list_append \| 2 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+×( \(short\))? \| [0-9.]+× \|')
        if not os.access(os.path.join(BUILD, 'rtbench-micro'), os.X_OK):
            # A build without the microbenchmarks (the sanitizer presets):
            # said, and the tables without the ceiling.
            self.assertIn('rtbench-micro does not run here', done.stderr)
            self.assertNotIn("## The machine's ceiling", summary)
            return
        # The ceiling: one thread is 1.00x by definition; two threads a number.
        self.assertIn("## The machine's ceiling", summary)
        self.assertRegex(summary, r'\| 1 \| 1\.00× \| 1\.00× \|')
        self.assertRegex(summary, r'\| 2 \| [0-9.]+× \| [0-9.]+× \|')


class System(Base):
    NAMES = ('CPU governor', 'CPU boost', 'load average', 'busy processes', 'ASLR', 'cores', 'isolated CPUs',
             'hypervisor', 'instruction counter', 'valgrind')

    @staticmethod
    def read(path):
        try:
            with open(path) as f:
                return f.read().strip()
        except OSError:
            return None

    def test_every_check_has_a_verdict_consistent_with_the_machine(self):
        status, out, err = rtbench('system')
        self.assertEqual(status, 0, err)
        lines = {}
        for line in out.splitlines():
            for name in self.NAMES:
                if line[9:].startswith(name + ' '):
                    verdict, value = line[:8].strip(), line[9 + 21:]
                    self.assertIn(verdict, ('ok', 'warning', 'info'), line)
                    lines[name] = (verdict, value)
        self.assertEqual(set(lines), set(self.NAMES), out)
        aslr = self.read('/proc/sys/kernel/randomize_va_space')
        self.assertEqual(lines['ASLR'][0], 'ok' if aslr == '2' else 'warning')
        self.assertTrue(lines['ASLR'][1].startswith(aslr + ' '))
        online = os.sysconf('SC_NPROCESSORS_ONLN')
        self.assertTrue(lines['cores'][1].startswith('%d online' % online))
        load1, cores = re.match(r'([0-9.]+) .* on (\d+) core', lines['load average'][1]).groups()
        self.assertEqual(int(cores), online)
        self.assertEqual(lines['load average'][0], 'warning' if float(load1) >= online else 'ok')
        running = int(lines['busy processes'][1].split()[0])
        self.assertEqual(lines['busy processes'][0], 'warning' if running else 'ok')
        with open('/proc/cpuinfo') as f:
            vm = any(l.startswith('flags') and ' hypervisor' in l for l in f)
        self.assertEqual(lines['hypervisor'][1].startswith('yes'), vm)
        gov = self.read('/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor')
        if gov is None:
            self.assertEqual(lines['CPU governor'][0], 'info')
        else:
            self.assertEqual(lines['CPU governor'], ('ok' if gov == 'performance' else 'warning', gov))
        isolated = self.read('/sys/devices/system/cpu/isolated') or ''
        self.assertEqual(lines['isolated CPUs'][1], isolated or 'none')
        # No PMU device: the counter cannot be readable (this VM: ENOENT).
        pmu = any(os.path.exists('/sys/bus/event_source/devices/' + d) for d in ('cpu', 'cpu_core', 'armv8_pmuv3'))
        if not pmu:
            self.assertEqual(lines['instruction counter'][0], 'warning')
            self.assertIn('perf_event_paranoid', lines['instruction counter'][1])
        has_valgrind = shutil.which('valgrind') is not None
        self.assertEqual(lines['valgrind'][1].startswith('valgrind-'), has_valgrind)
        if lines['instruction counter'][0] == 'warning':
            self.assertEqual(lines['valgrind'][0], 'ok' if has_valgrind else 'warning')
        warnings = sum(v == 'warning' for v, _ in lines.values())
        self.assertIn('\n%d warning(s).' % warnings, out)


class Micro(Base):
    def test_micro_writes_google_benchmark_json(self):
        if not os.path.exists(os.path.join(BUILD, 'rtbench-micro')):
            self.skipTest('rtbench-micro is not built in this preset (RT_BUILD_BENCH=OFF)')
        out = self.path('m.json')
        status, _, err = rtbench('micro', '--filter', '^(alloc_free/pool/64|incref_decref/atomic)$',
                                 '--repetitions', '1', '--min-time', '0.01', '--out', out)
        self.assertEqual(status, 0, err)
        doc = load(out)
        self.assertEqual(sorted(b['name'] for b in doc['benchmarks']), ['alloc_free/pool/64', 'incref_decref/atomic'])
        self.assertIn('context', doc)
        self.assertRegex(doc['context'].get('git_commit', ''), r'^([0-9a-f]{7,}(-dirty)?|unknown)$')


@unittest.skipUnless(os.access(CPYTHON, os.X_OK), 'no CPython at %s: conformance check skipped' % CPYTHON)
class CPython(Base):
    def test_cpython_run_has_the_same_schema(self):
        out = self.path('c.json')
        status, _, err = rtbench('cpython', 'dict_churn', *TINY['dict_churn'], '--repeat', '2', '--out', out)
        self.assertEqual(status, 0, err)
        doc = load_result(self, out, 'cpython')
        self.assertEqual(doc['runs'][0]['implementation'], 'cpython')
        self.assertIsNone(doc['runs'][0]['samples'][0]['alloc'])

    def test_collections_agree_with_cpython(self):
        """The model behaves like CPython 3.11: collections per generation
        within 10% (or 1) of the twin's, with the same parameters and the
        default thresholds."""
        if not subprocess.run([CPYTHON, '-c', 'import sys; sys.exit(sys.version_info[:2] != (3, 11))']).returncode == 0:
            self.skipTest('conformance is defined against CPython 3.11')
        for name, params in (('cycle_storm', ['--n', '20000']), ('dict_churn', ['--keys', '2000', '--n', '100000']),
                             ('list_append', ['--n', '100000', '--rounds', '2000']),
                             ('long_lived', ['--m', '20000', '--n', '100000'])):
            with self.subTest(workload=name):
                got = {}
                for cmd in ('run', 'cpython'):
                    out = self.path('%s-%s.json' % (cmd, name))
                    # Large enough to collect often: minutes under a sanitizer on a busy machine.
                    status, _, err = rtbench(cmd, name, *params, '--repeat', '1', '--out', out, '--quiet',
                                             timeout=1200)
                    self.assertEqual(status, 0, err)
                    got[cmd] = load(out)['runs'][0]['samples'][0]['gc']['collections']
                for gen in range(3):
                    a, b = got['run'][gen], got['cpython'][gen]
                    self.assertLessEqual(abs(a - b), max(1, 0.10 * b), '%s gen %d: %s vs %s' % (name, gen, got['run'], got['cpython']))


def main():
    global BUILD
    parser = argparse.ArgumentParser()
    parser.add_argument('--build', required=True, help='the build directory holding rtbench')
    args, rest = parser.parse_known_args()
    BUILD = os.path.abspath(args.build)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == '__main__':
    main()
