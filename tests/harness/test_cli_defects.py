#!/usr/bin/env python3
"""End-to-end tests of the rtbench command line: issue 14's defects, counted
runs, and two builds measured in one plan.

Run by ctest (tests/CMakeLists.txt) as harness_cli_defects:

    python3 tests/harness/test_cli_defects.py --build BUILD_DIR

Issue 14's defects, one test each (the number in the name): an existing
result is never replaced without --force, the environment is honoured and
recorded or refused, --python is looked up in PATH, no 'nan' where a person
reads, tables before warnings and a heartbeat in logs, a child that cannot
start is a failed sample, and the rest.  --metric instructions: counts are
exact and recorded, and stop --repeat auto at its minimum (skipped without
valgrind, and where RTB_COUNTED_RUNS=no: ctest sets it for the sanitizer
builds, which valgrind cannot run).  --baseline: base and head measured in
the same rounds, for suite and run, interrupted and resumed, and sharded.
Every result file is checked as cli_support.py says.
"""

import json
import os
import re
import shutil
import signal
import subprocess

from cli_support import CPYTHON, TINY, Base, build, load, load_result, main, rtbench, wait_for_lines


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
        for name, value in (('RT_MALLOC', 'malloc'), ('RT_GC_PARALLEL', 'off')):
            status, _, err = rtbench('cpython', 'cycle_storm', '--out', self.path('c.json'),
                                     env=dict(os.environ, **{name: value}))
            self.assertEqual(status, 2, err)
            self.assertIn(name + '=' + value + ' does not apply to CPython', err)

    def test_2_a_worker_started_by_hand_takes_rt_gc_parallel_as_run_does(self):
        worker = build('rtbench-biased')
        if not os.path.exists(worker):
            self.skipTest('rtbench-biased is not built in this preset')
        # Collections of every generation, two threads attached through
        # most of them: at the default each clears on both threads.
        args = [worker, '__worker', 'cycle_storm', '--n', '3000', '--rounds', '2', '--threads', '2',
                '--threshold', '10,1,1', '--result-fd', '1']

        def cleared_on_every_thread(extra, **env):
            p = subprocess.run(args + extra, capture_output=True, text=True,
                               env=dict(os.environ, RT_SHOW_STATS='1', **env))
            self.assertEqual(p.returncode, 0, p.stderr)
            found = re.search(r'(\d+) collections cleared on every thread', p.stderr)
            self.assertIsNotNone(found, p.stderr)
            return int(found.group(1))

        self.assertGreater(cleared_on_every_thread([]), 0)
        self.assertEqual(cleared_on_every_thread([], RT_GC_PARALLEL='off'), 0)
        self.assertGreater(cleared_on_every_thread(['--gc-parallel', '1'], RT_GC_PARALLEL='off'), 0)

    def test_4_python_name_is_looked_up_in_path(self):
        out = self.path('c.json')
        env = dict(os.environ, PATH=os.path.dirname(CPYTHON) + ':' + os.environ.get('PATH', ''))
        status, _, err = rtbench('cpython', 'dict_churn', *TINY['dict_churn'], '--python', os.path.basename(CPYTHON),
                                 '--repeat', '1', '--out', out, '--quiet', env=env)
        self.assertEqual(status, 0, err)
        self.assertEqual(load_result(self, out)['runs'][0]['config']['python'], CPYTHON)

    def test_5_micro_filter_matching_nothing_writes_nothing(self):
        if not os.path.exists(build('rtbench-micro')):
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
        p = subprocess.Popen([build('rtbench'), 'sweep', 'cycle_storm', '--n', '40000',
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
        p = subprocess.run([build('rtbench'), 'sweep', 'cycle_storm', *TINY['cycle_storm'],
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
        p = subprocess.run([build('rtbench'), 'run', 'cycle_storm', '--n', '3000', '--rounds', '1',
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
            os.execv(build('rtbench'), ['rtbench', 'run', 'cycle_storm', *TINY['cycle_storm'],
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
        shutil.copy(build('rtbench'), bin_dir)     # without rtbench-atomic beside it
        out = self.path('a.json')
        p = subprocess.run([os.path.join(bin_dir, 'rtbench'), 'run', 'cycle_storm', *TINY['cycle_storm'],
                            '--rc', 'atomic', '--repeat', '1', '--out', out, '--quiet'],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 1, p.stderr)
        s = load_result(self, out)['runs'][0]['samples'][0]
        self.assertEqual(s['status'], 'failed')
        self.assertIn('rtbench-atomic', s['error'])
        self.assertIn('No such file', s['error'])


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
        # and it counted the first thread's half alone once (a ratio of
        # about 0.5).  Two threads also pay the start, the attach and the
        # shared mode's paths: 8-11% more at this size.
        out = self.path('threads')
        status, _, err = rtbench('sweep', 'list_append', '--n', '2000', '--rounds', '8', '--rc', 'biased',
                                 '--threads', '1,2', '--metric', 'instructions', '--repeat', '1', '--out', out,
                                 '--quiet')
        self.assertEqual(status, 0, err)
        runs = load_result(self, os.path.join(out, 'sweep.json'))['runs']
        counts = {r['params']['threads']: r['samples'][0]['instructions'] for r in runs}
        self.assertEqual(sorted(counts), [1, 2])
        self.assertLess(abs(counts[2] / counts[1] - 1), 0.25, counts)


class Baseline(Base):
    """suite --baseline: two builds' workers in one interleaved plan."""

    def test_base_and_head_are_measured_in_the_same_rounds(self):
        out = self.path('gate')
        status, _, err = rtbench('suite', '--tiny', '--baseline', build(), '--no-plots', '--seed', '5', '--out', out,
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
                                      '2', '--baseline', build(), '--out', out, '--quiet')
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
        args = ['run', 'cycle_storm', '--n', '60000', '--repeat', '40', '--seed', '3', '--baseline', build(),
                '--out', out, '--quiet']
        p = subprocess.Popen([build('rtbench')] + args,
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
        status, _, err = rtbench('suite', '--tiny', '--baseline', build(), '--no-plots', '--no-cpython',
                                 '--shard', '2/7', '--out', out, '--quiet', timeout=900)
        self.assertEqual(status, 0, err)
        names = {}
        for side in ('base', 'head'):
            folder = os.path.join(out, side)
            names[side] = sorted((f, r['name'], len(r['samples'])) for f in os.listdir(folder) if f.endswith('.json')
                                 for r in load_result(self, os.path.join(folder, f))['runs'])
        self.assertTrue(names['head'])
        self.assertEqual(names['base'], names['head'], 'the same configurations, with as many samples, a side')


if __name__ == '__main__':
    main()
