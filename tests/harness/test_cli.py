#!/usr/bin/env python3
"""End-to-end tests of the rtbench command line.

Run by ctest (tests/CMakeLists.txt) as

    python3 tests/harness/test_cli.py --build BUILD_DIR

Every subcommand at small sizes: result files validate against the rtbench/1
schema (results/README.md), CSV rows match the JSON samples, every bad input
exits 2 with one line and writes nothing, an interrupted run keeps its
finished samples, a sweep killed with SIGKILL resumes without redoing or
losing samples, the exports are read by Debian's compare.py, and the
collector's counts agree with real CPython's (the conformance check).
Standard library only.  No timing assertions.
"""

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

BUILD = None
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
}


def rtbench(*args, timeout=300, env=None):
    """Run rtbench; return (status, stdout, stderr)."""
    p = subprocess.run([os.path.join(BUILD, 'rtbench')] + list(args), capture_output=True,
                       text=True, timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


# -- the schema ----------------------------------------------------------------

NUMBER = (int, float)
STAT_KEYS = ('n', 'median', 'min', 'max', 'mean', 'stdev')


def check_sample(t, s, implementation):
    t.assertIn(s['status'], ('ok', 'failed', 'crashed', 'timeout'))
    for key in ('index', 'user_s', 'sys_s', 'peak_rss_bytes', 'process_wall_s', 'minflt', 'majflt'):
        t.assertIsInstance(s[key], NUMBER, key)
    if s['status'] != 'ok':
        t.assertIsInstance(s['error'], str)
        return
    t.assertIsNone(s['error'])
    for key in ('wall_s', 'final_rss_bytes'):
        t.assertIsInstance(s[key], NUMBER, key)
    t.assertGreater(s['peak_rss_bytes'], 0)
    tl = s['rss_timeline']
    t.assertEqual(len(tl['t_s']), len(tl['rss_bytes']))
    g = s['gc']
    for key in ('collections', 'collected', 'uncollectable'):
        t.assertEqual(len(g[key]), 3, key)
        t.assertTrue(all(isinstance(v, int) for v in g[key]))
    p = g['pauses']
    for key in ('count', 'total_s', 'p50_s', 'p90_s', 'p99_s', 'max_s'):
        t.assertIsInstance(p[key], NUMBER, key)
    t.assertEqual(p['count'], sum(g['collections']))
    t.assertLessEqual(p['p50_s'], p['p99_s'])
    t.assertLessEqual(p['p99_s'], p['max_s'] + 1e-12)
    t.assertIsInstance(s['result']['check'], int)
    t.assertIsInstance(s['marks'], list)
    if implementation == 'rtbench':
        for key in ('backend', 'blocks_peak', 'arenas_peak', 'arenas_released'):
            t.assertIn(key, s['alloc'])
        t.assertIsInstance(s['profile']['types'], list)
        t.assertTrue(s['heap_clean'])


def check_result(t, doc, kind=None):
    t.assertEqual(doc['schema'], 'rtbench/1')
    if kind:
        t.assertEqual(doc['kind'], kind)
    t.assertIsInstance(doc['complete'], bool)
    for key in ('hostname', 'cpu_model', 'cores', 'kernel', 'compiler', 'git_commit', 'governor',
                'aslr', 'load_avg'):
        t.assertIn(key, doc['machine'])
    for run in doc['runs']:
        t.assertIn(run['implementation'], ('rtbench', 'cpython'))
        t.assertEqual(len(run['config']['threshold']), 3)
        t.assertTrue(run['name'].startswith(run['workload'] + '/'))
        for s in run['samples']:
            check_sample(t, s, run['implementation'])
        for key in ('wall_s', 'user_s', 'peak_rss_bytes', 'gc_pause_p99_s'):
            t.assertEqual(set(run['summary'][key]), set(STAT_KEYS))
        t.assertEqual(len(run['summary']['gc_collections']), 3)
        t.assertIsInstance(run['warnings'], list)


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


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)


class ListAndHelp(Base):
    def test_list_names_every_workload_and_backend(self):
        status, out, _ = rtbench('list', '--json')
        self.assertEqual(status, 0)
        doc = json.loads(out)
        self.assertEqual([w['name'] for w in doc['workloads']], list(TINY))
        self.assertEqual(doc['rc'], ['nonatomic', 'atomic'])
        self.assertEqual([b['name'] for b in doc['alloc']], ['pool', 'malloc', 'debug', 'mimalloc', 'jemalloc'])
        status, out, _ = rtbench('list')
        self.assertEqual(status, 0)
        self.assertIn('--ring', out)

    def test_every_command_has_help(self):
        for cmd in ('list', 'run', 'sweep', 'suite', 'cpython', 'compare', 'export', 'micro', 'plot'):
            status, out, err = rtbench(cmd, '--help')
            self.assertEqual(status, 0, cmd)
            self.assertIn('usage: rtbench ' + cmd, out)
        status, out, _ = rtbench('--help')
        self.assertEqual(status, 0)
        self.assertIn('RT_MALLOC', out)


class Run(Base):
    def test_every_workload_writes_a_valid_result(self):
        for name, params in TINY.items():
            with self.subTest(workload=name):
                out = self.path(name + '.json')
                status, _, err = rtbench('run', name, *params, '--repeat', '2', '--out', out)
                self.assertEqual(status, 0, err)
                doc = load(out)
                check_result(self, doc, 'run')
                self.assertTrue(doc['complete'])
                self.assertEqual(len(doc['runs'][0]['samples']), 2)
                check_csv_matches(self, out)

    def test_variants_and_backends(self):
        doc = load_or_fail(self, 'list')
        backends = [b['name'] for b in doc['alloc'] if b['available']]
        for rc in ('nonatomic', 'atomic'):
            for alloc in backends:
                with self.subTest(rc=rc, alloc=alloc):
                    out = self.path('v-%s-%s.json' % (rc, alloc))
                    status, _, err = rtbench('run', 'cycle_storm', *TINY['cycle_storm'], '--rc', rc,
                                             '--alloc', alloc, '--repeat', '1', '--out', out)
                    self.assertEqual(status, 0, err)
                    run = load(out)['runs'][0]
                    self.assertEqual(run['config']['rc'], rc)
                    self.assertEqual(run['samples'][0]['rc'], rc)
                    self.assertEqual(run['samples'][0]['alloc']['backend'], alloc)

    def test_interrupted_run_keeps_finished_samples(self):
        out = self.path('int.json')
        p = subprocess.Popen([os.path.join(BUILD, 'rtbench'), 'run', 'cycle_storm', '--n', '60000',
                              '--repeat', '50', '--out', out, '--quiet'],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 130, err)
        self.assertIn('interrupted', err)
        doc = load(out)
        check_result(self, doc)
        self.assertFalse(doc['complete'])
        kept = doc['runs'][0]['samples']
        self.assertGreaterEqual(len(kept), 1)
        self.assertLess(len(kept), 50)
        self.assertTrue(all(s['status'] == 'ok' for s in kept))
        check_csv_matches(self, out)


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
        ('export', 'x.json', '--to', 'xml'),
        ('micro', '--repetitions', 'many'),
        ('plot', '/no/such/folder'),
        ('frobnicate',),
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
                     ('sweep', 'cycle_storm', '--threshold0', '100', '--out', blocker + '/dir'),
                     ('run', 'cycle_storm', '--out', self.dir)):
            with self.subTest(args=args):
                t0 = time.monotonic()
                status, _, err = rtbench(*args)
                self.assertEqual(status, 2, err)
                self.assertIn(args[-1], err)
                self.assertLess(time.monotonic() - t0, 5)    # failed before running samples

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
        self.assertEqual(status, 2)
        self.assertIn('missing.json: cannot open', err)


class Sweep(Base):
    def test_sweep_is_a_cross_product(self):
        out = self.path('sw')
        status, _, err = rtbench('sweep', 'cycle_storm', *TINY['cycle_storm'], '--threshold0', '100:10000:log3',
                                 '--rc', 'nonatomic,atomic', '--repeat', '2', '--out', out, '--quiet')
        self.assertEqual(status, 0, err)
        doc = load(os.path.join(out, 'sweep.json'))
        check_result(self, doc, 'sweep')
        seen = {(r['config']['threshold'][0], r['config']['rc']) for r in doc['runs']}
        self.assertEqual(seen, {(t, rc) for t in (100, 1000, 10000) for rc in ('nonatomic', 'atomic')})
        self.assertFalse(os.path.exists(os.path.join(out, '.journal.jsonl')))
        check_csv_matches(self, os.path.join(out, 'sweep.json'))

    def test_killed_sweep_resumes_without_redoing_or_losing_samples(self):
        out = self.path('sw')
        args = ['sweep', 'cycle_storm', '--n', '40000', '--threshold0', '100,1000,10000', '--repeat', '3',
                '--out', out, '--quiet']
        journal = os.path.join(out, '.journal.jsonl')
        p = subprocess.Popen([os.path.join(BUILD, 'rtbench')] + args, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:     # until two samples are journaled
            if os.path.exists(journal) and sum(1 for _ in open(journal)) >= 3:
                break
            time.sleep(0.02)
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
        doc = load(os.path.join(out, 'sweep.json'))
        self.assertTrue(doc['complete'])
        for run in doc['runs']:
            self.assertEqual(sorted(s['index'] for s in run['samples']), [0, 1, 2])
        kept = {(l['config'], l['sample']['index'], l['sample']['wall_s']) for l in done_before}
        final = {(r['name'], s['index'], s['wall_s']) for r in doc['runs'] for s in r['samples']}
        self.assertTrue(kept <= final, 'journaled samples must be kept, not redone')
        self.assertFalse(os.path.exists(journal))


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
        self.assertRegex(out, r'(faster|slower|not significant)')
        self.assertIn('geometric mean', out)
        status, out, _ = rtbench('compare', self.a, self.b, '--table-format', 'md', '--metric', 'peak_rss_bytes')
        self.assertEqual(status, 0)
        self.assertTrue(out.startswith('| configuration |'))
        self.assertIn('| geometric mean |', out)

    def test_exports(self):
        g, h = self.path('g.json'), self.path('h.json')
        self.assertEqual(rtbench('export', self.a, '--to', 'gbench', '--out', g)[0], 0)
        doc = load(g)
        its = [b for b in doc['benchmarks'] if b['run_type'] == 'iteration']
        self.assertEqual(len(its), 3)
        self.assertEqual({b['time_unit'] for b in its}, {'ms'})
        self.assertEqual(sorted(b['aggregate_name'] for b in doc['benchmarks'] if b['run_type'] == 'aggregate'),
                         ['cv', 'mean', 'median', 'stddev'])
        self.assertEqual(rtbench('export', self.a, '--to', 'hyperfine', '--out', h)[0], 0)
        res = load(h)['results'][0]
        self.assertEqual(len(res['times']), 3)
        self.assertTrue(all(isinstance(v, str) for v in res['parameters'].values()))
        status, md, _ = rtbench('export', self.a, '--to', 'md')
        self.assertEqual(status, 0)
        self.assertIn('| cycle_storm/', md)

    @unittest.skipUnless(os.path.exists(COMPARE_PY), 'Debian libbenchmark-tools not installed (compare.py)')
    def test_google_compare_py_reads_the_export(self):
        both = self.path('both.json')
        a, b = load(self.a), load(self.b)
        a['runs'] += b['runs']
        with open(both, 'w') as f:
            json.dump(a, f)
        g = self.path('g.json')
        self.assertEqual(rtbench('export', both, '--to', 'gbench', '--out', g)[0], 0)
        p = subprocess.run([CPYTHON, COMPARE_PY, 'filters', g, 'rc:nonatomic', 'rc:atomic'],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('[rc:nonatomic vs. rc:atomic]', p.stdout)
        self.assertIn('OVERALL_GEOMEAN', p.stdout)


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


@unittest.skipUnless(os.access(CPYTHON, os.X_OK), 'no CPython at %s: conformance check skipped' % CPYTHON)
class CPython(Base):
    def test_cpython_run_has_the_same_schema(self):
        out = self.path('c.json')
        status, _, err = rtbench('cpython', 'dict_churn', *TINY['dict_churn'], '--repeat', '2', '--out', out)
        self.assertEqual(status, 0, err)
        doc = load(out)
        check_result(self, doc, 'cpython')
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
                    status, _, err = rtbench(cmd, name, *params, '--repeat', '1', '--out', out, '--quiet')
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
