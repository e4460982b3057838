#!/usr/bin/env python3
"""End-to-end tests of the rtbench command line: its commands at small sizes.

Run by ctest (tests/CMakeLists.txt) as harness_cli:

    python3 tests/harness/test_cli.py --build BUILD_DIR

list and every command's --help; run of every workload, variant and backend;
every bad input exits 2 with one line and writes nothing, an unwritable
output fails before any work, a corrupt or truncated result file gets an
error naming the file and the problem; an interrupted run keeps its finished
samples and resumes, a sweep is a cross product, a sweep killed with SIGKILL
resumes without redoing or losing samples; the one sample driver: samples
interleaved in a seeded, recorded order, --repeat auto, shards merge back
into the whole; compare pairs and judges (--fail-above), and the exports are
read by Debian's compare.py and pass hyperfine 1.15's scripts' input checks.
Every result file is checked as cli_support.py says (the schema, the RSS
timeline's invariants, CSV rows against the JSON samples).  The other parts:
test_cli_defects.py, test_cli_system.py.
"""

import json
import os
import re
import signal
import subprocess
import unittest

from cli_support import (COMPARE_PY, CPYTHON, NUMBER, TINY, Base, build, check_csv_matches, load, load_result,
                         main, rtbench, wait_for_lines)


class ListAndHelp(Base):
    def test_list_names_every_workload_and_backend(self):
        status, out, _ = rtbench('list', '--json')
        self.assertEqual(status, 0)
        doc = json.loads(out)
        self.assertEqual([w['name'] for w in doc['workloads']], list(TINY))
        self.assertEqual(doc['rc'], ['nonatomic', 'atomic', 'biased'])
        self.assertEqual([b['name'] for b in doc['alloc']], ['pool', 'malloc', 'debug', 'mimalloc', 'jemalloc'])
        bounded = {(w['name'], p['name']): (p['min'], p['max'])
                   for w in doc['workloads'] for p in w['params'] if 'max' in p}
        threaded = ('list_append', 'dict_churn', 'cycle_storm', 'binary_trees', 'shared_refs')
        self.assertEqual(bounded, {**{(w, 'threads'): (1, 1024) for w in threaded},
                                   ('binary_trees', 'depth'): (0, 40), ('fragmentation', 'keep'): (0, 100),
                                   ('shared_refs', 'hold'): (1, 64), ('shared_refs', 'perthread'): (0, 1)})
        status, out, _ = rtbench('list')
        self.assertEqual(status, 0)
        self.assertIn('--ring', out)
        self.assertIn('--hold      8          references each thread holds at a time [1 to 64]', out)

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

    def test_the_profile_holds_each_types_peak_and_every_threads(self):
        # dict_churn's blocks peak in its fill, where it collects, its ints
        # later, in its churn: the profile is the fill's, the peaks the run's.
        out = self.path('peaks.json')
        status, _, err = rtbench('run', 'dict_churn', '--keys', '2000', '--n', '20000', '--repeat', '1',
                                 '--out', out, '--quiet')
        self.assertEqual(status, 0, err)
        peaks = {t['name']: t['live_peak'] for t in load_result(self, out)['runs'][0]['samples'][0]['profile']['types']}
        self.assertGreaterEqual(peaks['int'], 1800, peaks)      # 2,000 at most, 1,744 when the fill ends
        self.assertGreaterEqual(peaks['str'], 1900, peaks)
        if not os.path.exists(build('rtbench-biased')):
            self.skipTest('rtbench-biased is not built in this preset')
        # Two threads, each its own list of 20,000 ints (half of n): the peaks
        # count every thread's heap -- at least one whole list, the sum when
        # the lists overlap (they read 0 while only the end of a run was
        # sampled).
        out = self.path('peaks2.json')
        status, _, err = rtbench('run', 'list_append', '--n', '40000', '--rounds', '4', '--threads', '2',
                                 '--rc', 'biased', '--repeat', '1', '--out', out, '--quiet')
        self.assertEqual(status, 0, err)
        s = load_result(self, out)['runs'][0]['samples'][0]
        self.assertGreaterEqual(s['alloc']['blocks_peak'], 19000, s['alloc'])
        ints = [t for t in s['profile']['types'] if t['name'] == 'int']
        self.assertGreaterEqual(ints[0]['live_peak'], 19000, s['profile'])

    def test_the_profile_is_taken_near_the_peak_of_a_growing_heap(self):
        # long_lived's old heap grows through its collections: the profile is
        # renewed each time the blocks pass the last one's by 1/32, so it sits
        # within 1/33 of the highest point a collection saw -- itself below
        # the run's peak by at most a young generation's allocations.
        p = subprocess.run([build('rtbench'), '__worker', 'long_lived', '--m', '20000', '--n', '100000',
                            '--result-fd', '1'], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        sample = json.loads(p.stdout)
        profiled, peak = sample['profile']['blocks_in_use'], sample['alloc']['blocks_peak']
        self.assertLessEqual(profiled, peak)
        self.assertGreaterEqual(profiled + profiled // 32 + 2 * 700, peak, sample['profile'])

    def test_threads_split_each_round_and_keep_the_checks(self):
        # list_append and cycle_storm give each thread a span of every
        # round's items: the same check at any thread count (cycle_storm's
        # Nodes count each cycle's shape, by its index in the round).
        worker = build('rtbench-biased')
        if not os.path.exists(worker):
            self.skipTest('rtbench-biased is not built in this preset')
        for workload, params in (('cycle_storm', ['--n', '1001', '--ring', '5', '--rounds', '2']),
                                 ('list_append', ['--n', '1001', '--rounds', '2'])):
            checks = {}
            for threads in (1, 2, 3):
                p = subprocess.run([worker, '__worker', workload, '--result-fd', '1', '--threads', str(threads)]
                                   + params, capture_output=True, text=True)
                self.assertEqual(p.returncode, 0, p.stderr)
                checks[threads] = json.loads(p.stdout)['result']['check']
            self.assertEqual(len(set(checks.values())), 1, (workload, checks))

    def test_interrupted_run_keeps_finished_samples_and_resumes(self):
        out = self.path('int.json')
        args = ['run', 'cycle_storm', '--n', '60000', '--repeat', '50', '--out', out, '--quiet']
        p = subprocess.Popen([build('rtbench')] + args,
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
        ('run', 'list_append', '--threads', '2'),                       # nonatomic runs one thread
        ('sweep', 'list_append', '--threads', '2,4'),
        ('run', 'list_append', '--rc', 'biased', '--threads', '1025'),   # past RT_WORKLOAD_MAX_THREADS
        ('sweep', 'list_append', '--rc', 'biased', '--threads', '1,2,2048'),
        ('run', 'shared_refs', '--hold', '65'),                           # its window holds 64
        ('sweep', 'fragmentation', '--keep', '10,101'),                   # a percentage
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

    def test_nonatomic_points_above_one_thread_are_left_out_and_said(self):
        out = self.path('threads')
        status, _, err = rtbench('sweep', 'list_append', '--n', '1000', '--rounds', '4', '--threads', '1,2',
                                 '--rc', 'nonatomic,biased', '--repeat', '1', '--out', out, '--quiet')
        self.assertEqual(status, 0, err)
        self.assertIn('leaving out 1 configuration of --rc nonatomic with --threads above 1', err)
        doc = load_result(self, os.path.join(out, 'sweep.json'), 'sweep')
        seen = sorted((r['config']['rc'], r['params']['threads']) for r in doc['runs'])
        self.assertEqual(seen, [('biased', 1), ('biased', 2), ('nonatomic', 1)])
        self.assertTrue(all(s.get('error') is None for r in doc['runs'] for s in r['samples']))
        # The threaded variant records its stops (the CSV too); nonatomic has none to record.
        pauses = {(r['config']['rc'], r['params']['threads']): r['samples'][0]['gc']['pauses'] for r in doc['runs']}
        self.assertIn('parked_total_s', pauses[('biased', 2)])
        self.assertNotIn('parked_total_s', pauses[('nonatomic', 1)])
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
        doc = load_result(self, single)
        self.assertEqual(doc['environment'], {'RT_GC_PARALLEL': 'off'})
        run = doc['runs'][0]
        self.assertEqual(run['config']['gc_parallel'], 'off')
        self.assertTrue(run['name'].endswith('/parallel:off'), run['name'])

    def test_killed_sweep_resumes_without_redoing_or_losing_samples(self):
        out = self.path('sw')
        args = ['sweep', 'cycle_storm', '--n', '40000', '--threshold0', '100,1000,10000', '--repeat', '3',
                '--out', out, '--quiet']
        journal = os.path.join(out, '.journal.jsonl')
        p = subprocess.Popen([build('rtbench')] + args, stdout=subprocess.DEVNULL,
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


if __name__ == '__main__':
    main()
