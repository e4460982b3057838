#!/usr/bin/env python3
"""End-to-end tests of the rtbench command line: the machine, scaling, the
microbenchmarks, instructions per operation, and CPython.

Run by ctest (tests/CMakeLists.txt) as harness_cli_system:

    python3 tests/harness/test_cli_system.py --build BUILD_DIR

scripts/scaling end to end at tiny sizes (its tables, the CPython series,
the processes' and the machine's ceilings); rtbench system's verdicts
against what the machine says; rtbench micro's Google Benchmark JSON;
scripts/instructions-per-op's --threads; and CPython: rtbench cpython's
results have the same schema, and the collector's counts agree with real
CPython 3.11's (the conformance check, skipped without /usr/bin/python3).
Every result file is checked as cli_support.py says.
"""

import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import unittest

from cli_support import CPYTHON, SOURCE, TINY, Base, build, load, load_result, main, rtbench


def load_scaling():
    """scripts/scaling as a module (it has no .py name), for its tables."""
    loader = importlib.machinery.SourceFileLoader('scaling', os.path.join(SOURCE, 'scripts', 'scaling'))
    scaling = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(scaling)     # with __file__: it finds scripts/instructions-per-op beside it
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

    def test_collections_are_counted_per_generation_median_of_samples(self):
        """The throughput table's collection counts: each generation's
        median over the samples (they vary with the threads' interleaving),
        a sample without counts left out, none at all shown as a dash."""
        scaling = load_scaling()
        sample = lambda counts: {'gc': {'collections': counts}}
        run = {'samples': [sample([851, 77, 8]), sample([4174, 379, 35]), sample([2041, 185, 17]),
                           {'gc': None}]}
        self.assertEqual(scaling.rtscaling.collection_counts(run['samples']), '2041/185/17')
        self.assertIsNone(scaling.rtscaling.collection_counts([{'gc': None}]))

    def test_the_speedup_is_split_into_outside_and_inside_collections(self):
        """Beside each speedup, the speedup of the time outside collections
        (each sample's wall less its pauses and its time to safepoint,
        median) and of the collections' time; the latter shown only where
        collections are at least 5% of one thread's wall time.  Beside them
        the share of the threads' time the stops took."""
        scaling = load_scaling()
        sample = lambda wall, paused: {'wall_s': wall, 'gc': {'pauses': {'total_s': paused}}}
        run = lambda t, samples: {'config': {'rc': 'biased'}, 'params': {'threads': t}, 'samples': samples,
                                  'summary': {'wall_s': {'median': sorted(s['wall_s'] for s in samples)[1]}}}
        single = {'w': [{'config': {'rc': 'nonatomic'}, 'params': {'threads': 1},
                         'summary': {'wall_s': {'median': 0.8}}}]}
        one = run(1, [sample(1.0, 0.6), sample(1.1, 0.6), sample(0.9, 0.6)])     # outside 0.4, 0.5, 0.3
        two = run(2, [sample(0.6, 0.4), sample(0.7, 0.5), sample(0.5, 0.3)])     # outside 0.2 each
        rows, _ = scaling.table_scaling(single, {'w': [two, one]})
        self.assertEqual(rows[2:], ['| w | biased | 1 | 1.000 | 0.80 | 1.00 | 0.4000 | 1.00 | 0.6000 | 1.00 | — | 60% | — |',
                                    '| w | biased | 2 | 0.600 | 1.33 | 1.67 | 0.2000 | 2.00 | 0.4000 | 1.50 | — | — | — |'])
        few = run(1, [sample(1.0, 0.04)] * 3)
        rows, _ = scaling.table_scaling(single, {'w': [few, run(2, [sample(0.5, 0.01)] * 3)]})
        self.assertEqual(rows[3], '| w | biased | 2 | 0.500 | 1.60 | 2.00 | 0.4900 | 1.96 | 0.0100 | — | — | — | — |')
        # No one-thread run to compare with (its sweep failed): no speedups.
        rows, _ = scaling.table_scaling(single, {'w': [two]})
        self.assertEqual(rows[2:], ['| w | biased | 2 | 0.600 | 1.33 | — | 0.2000 | — | 0.4000 | — | — | — | — |'])
        # The stoppers' wait for a safepoint is not time outside collections
        # either; the threads stopped are the stoppers' pauses and waits and
        # the others' time parked, over threads x wall: (0.3 + 0.1 + 0.3) / 1.2
        # (above one thread, only where the time parked is recorded: a dash above).
        waited = lambda wall, paused, safepoint: {'wall_s': wall, 'gc': {'pauses': {
            'total_s': paused, 'safepoint_total_s': safepoint, 'parked_total_s': 0.3}}}
        rows, _ = scaling.table_scaling(single, {'w': [one, run(2, [waited(0.6, 0.3, 0.1)] * 3)]})
        self.assertEqual(rows[3], '| w | biased | 2 | 0.600 | 1.33 | 1.67 | 0.2000 | 2.00 | 0.3000 | 2.00 | 0.1000 | 58% '
                                  '| — |')

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

    def test_the_instructions_table_gives_ratios_to_nonatomic(self):
        scaling = load_scaling()
        rows = scaling.table_instructions({'list_append': {'nonatomic': 73.0, 'atomic': 99.4, 'biased': 116.2},
                                           'gc_traversal': {'nonatomic': 10.5e6, 'atomic': 10.5e6, 'biased': 10.6e6}})
        self.assertEqual(rows[2:], ['| list_append, per append | 73 | 1.362× | 1.592× |',
                                    '| gc_traversal, per full collection | 10.5 M | 1.000× | 1.010× |'])

    def test_instructions_count_the_single_thread_cost(self):
        """--instructions adds the single-thread cost counted by callgrind:
        each threaded variant runs more instructions a lookup than
        nonatomic (its counts' atomics, or the owner test and per-thread
        counts), and under twice as many."""
        if os.environ.get('RTB_COUNTED_RUNS', 'yes') != 'yes':
            self.skipTest('a sanitizer build: valgrind cannot run it')
        if shutil.which('valgrind') is None or not os.access(build('rtbench-count-biased'), os.X_OK):
            self.skipTest('no valgrind or no rtbench-count-biased in this build')
        out = self.path('scaling-instructions')
        done = subprocess.run([sys.executable, os.path.join(SOURCE, 'scripts', 'scaling'), '--build', build(),
                               '--sizes', 'tiny', '--threads', '1', '--repeat', '1', '--workloads', 'shared_refs',
                               '--no-cpython', '--no-micro', '--instructions', '--out', out],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(os.path.join(out, 'summary.md')) as f:
            summary = f.read()
        self.assertIn('## Single thread: instructions per operation against nonatomic', summary)
        row = re.search(r'^\| shared_refs, per lookup \| ([0-9,]+) \| ([0-9.]+)× \| ([0-9.]+)× \|$', summary, re.M)
        self.assertIsNotNone(row, summary)
        self.assertGreater(int(row.group(1).replace(',', '')), 20)
        for ratio in (float(row.group(2)), float(row.group(3))):
            self.assertTrue(1.0 < ratio < 2.0, summary)

    def test_scaling_writes_its_tables_and_the_machines_ceiling(self):
        out = self.path('scaling')
        done = subprocess.run([sys.executable, os.path.join(SOURCE, 'scripts', 'scaling'), '--build', build(),
                               '--sizes', 'tiny', '--threads', '1,2', '--repeat', '1', '--workloads', 'list_append',
                               '--out', out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(os.path.join(out, 'summary.md')) as f:
            summary = f.read()
        for heading in ('## Single thread', '## Throughput against threads'):
            self.assertIn(heading, summary)
        for rc in ('atomic', 'biased'):
            for t in (1, 2):
                self.assertRegex(summary, r'\| list_append \| %s \| %d \| [0-9.]+ \|.* \| [0-9]+/[0-9]+/[0-9]+ \|\n'
                                 % (rc, t))
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
        if not os.access(build('rtbench-micro'), os.X_OK):
            # A build without the microbenchmarks (the sanitizer presets):
            # said, and the tables without the ceiling.
            self.assertIn('rtbench-micro does not run here', done.stderr)
            self.assertNotIn("## The machine's ceiling", summary)
            return
        # The ceilings (the walk in the caches, the stream from memory, a
        # private incref+decref): one thread is 1.00x by definition; two
        # threads a number.
        self.assertIn("## The machine's ceiling", summary)
        self.assertIn('| threads | private walk, 512 KiB of nodes | private stream, 64 MiB of nodes |', summary)
        self.assertRegex(summary, r'\| 1 \| 1\.00× \| 1\.00× \| 1\.00× \|')
        self.assertRegex(summary, r'\| 2 \| [0-9.]+× \| [0-9.]+× \| [0-9.]+× \|')
        # Only the sweep's thread counts ran (each stream maps 64 MiB a thread).
        with open(os.path.join(out, 'micro.json')) as f:
            names = [b['name'] for b in json.load(f)['benchmarks']]
        self.assertIn('ceiling_stream/threads:2', names)
        pairs = summary[summary.index('## incref+decref microbenchmarks'):]
        self.assertIn('| incref_decref/biased |', pairs)
        self.assertNotIn('ceiling_', pairs)
        self.assertEqual([n for n in names if re.search('/threads:([3-9]|[1-9][0-9])', n)], [])


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
        if not os.path.exists(build('rtbench-micro')):
            self.skipTest('rtbench-micro is not built in this preset (RT_BUILD_BENCH=OFF)')
        out = self.path('m.json')
        status, _, err = rtbench('micro', '--filter', '^(alloc_free/pool/64|incref_decref/atomic)$',
                                 '--repetitions', '1', '--min-time', '0.01', '--out', out)
        self.assertEqual(status, 0, err)
        doc = load(out)
        self.assertEqual(sorted(b['name'] for b in doc['benchmarks']), ['alloc_free/pool/64', 'incref_decref/atomic'])
        self.assertIn('context', doc)
        self.assertRegex(doc['context'].get('git_commit', ''), r'^([0-9a-f]{7,}(-dirty)?|unknown)$')


class InstructionsPerOp(Base):
    """scripts/instructions-per-op's --threads: its refusals, and a count at
    two threads against one (callgrind, exact)."""

    def per_op(self, *args):
        done = subprocess.run([sys.executable, os.path.join(SOURCE, 'scripts', 'instructions-per-op'),
                               '--build', build(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=600)
        return done.returncode, done.stdout, done.stderr

    def test_threads_need_a_threaded_variant_and_workload(self):
        status, _, err = self.per_op('--threads', '2', 'shared_refs')
        self.assertNotEqual(status, 0)
        self.assertIn('needs --rc atomic or biased', err)
        for named in (['gc_traversal'], ['list_append', 'gc_traversal']):    # refused, not dropped
            status, _, err = self.per_op('--rc', 'biased', '--threads', '2', *named)
            self.assertNotEqual(status, 0)
            self.assertIn('gc_traversal runs on one thread only', err)
        status, _, err = self.per_op('--threads', '0')
        self.assertNotEqual(status, 0)
        self.assertIn("bad argument '--threads'", err)

    def test_per_thread_counts_cost_a_second_thread_little(self):
        """shared_refs' values are counted per thread once a second thread
        attaches (biased): a lookup at two threads runs at most 15% more
        instructions than at one thread, whose values keep their owner's
        count -- the cheapest (measured: 102 and 115; the parts start
        together, so the count is the same from run to run)."""
        if os.environ.get('RTB_COUNTED_RUNS', 'yes') != 'yes':
            self.skipTest('a sanitizer build: valgrind cannot run it')
        if shutil.which('valgrind') is None or not os.access(build('rtbench-count-biased'), os.X_OK):
            self.skipTest('no valgrind or no rtbench-count-biased in this build')
        counts = {}
        for threads in ('1', '2'):
            status, out, err = self.per_op('--no-cpython', '--rc', 'biased', '--threads', threads, 'shared_refs')
            self.assertEqual(status, 0, err)
            row = re.search(r'^\| shared_refs \(n=1000000( threads=2)?\), per lookup \| ([0-9,]+) \| \| \|$', out, re.M)
            self.assertIsNotNone(row, out)
            self.assertEqual(row.group(1) is not None, threads == '2', out)
            counts[threads] = int(row.group(2).replace(',', ''))
        self.assertGreater(counts['1'], 20)
        self.assertLess(counts['1'], counts['2'], counts)
        if os.environ.get('RTB_BUILD_TYPE', 'Release') == 'Release':     # a debug build's asserts weigh more
            self.assertLessEqual(counts['2'], 1.15 * counts['1'], counts)


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
        default thresholds -- in each refcount variant (one thread)."""
        if not subprocess.run([CPYTHON, '-c', 'import sys; sys.exit(sys.version_info[:2] != (3, 11))']).returncode == 0:
            self.skipTest('conformance is defined against CPython 3.11')
        for name, params in (('cycle_storm', ['--n', '20000']), ('dict_churn', ['--keys', '2000', '--n', '100000']),
                             ('list_append', ['--n', '100000', '--rounds', '2000']),
                             ('long_lived', ['--m', '20000', '--n', '100000'])):
            with self.subTest(workload=name):
                got = {}
                for side in ('nonatomic', 'atomic', 'biased', 'cpython'):
                    out = self.path('%s-%s.json' % (side, name))
                    cmd = ['cpython', name] if side == 'cpython' else ['run', name, '--rc', side]
                    # Large enough to collect often: minutes under a sanitizer on a busy machine.
                    status, _, err = rtbench(*cmd, *params, '--repeat', '1', '--out', out, '--quiet',
                                             timeout=1200)
                    self.assertEqual(status, 0, err)
                    got[side] = load(out)['runs'][0]['samples'][0]['gc']['collections']
                for side in ('nonatomic', 'atomic', 'biased'):
                    for gen in range(3):
                        a, b = got[side][gen], got['cpython'][gen]
                        self.assertLessEqual(abs(a - b), max(1, 0.10 * b),
                                             '%s, %s gen %d: %s vs %s' % (name, side, gen, got[side], got['cpython']))


if __name__ == '__main__':
    main()
