"""Tests of the Python twins of the workloads (workloads/python/).

Each workload runs through run.py in a subprocess at a tiny size; the JSON
it prints is checked field by field, and its checksum against the value
worked out from the parameters.  Also: the command line's errors, the
collector switches (--gc off, --threshold 0), the pause statistics, the
signals (sent once run.py says it is ready), and prng.py against values
from the C prng.h.  Programs run with --script and -m: test_programs.py.

Run from the repository root:

    python3 -m unittest discover -s tests/python
    python3 tests/python/test_twins.py
"""

import json
import os
import signal
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TWINS = os.path.join(ROOT, 'workloads', 'python')
RUN = os.path.join(TWINS, 'run.py')

sys.path.insert(0, TWINS)
import prng                     # noqa: E402  (needs the path above)
from _rtbench_run import cli, measure    # noqa: E402  (run.py's parts)
from common import share, span  # noqa: E402  (the twins' --threads shares)

TIMEOUT = 60


def run_twin(*args):
    """Run run.py with args; return the CompletedProcess (text mode)."""
    return subprocess.run([sys.executable, RUN, *map(str, args)],
                          capture_output=True, text=True, timeout=TIMEOUT)


# -- checksums worked out from the parameters --------------------------------

def cycle_storm_nodes(n, ring, rounds):
    pairs, selves, rings = (n + 2) // 3, (n + 1) // 3, n // 3
    return rounds * (2 * pairs + selves + ring * rings)


def binary_trees_check(depth):
    def nodes(d):
        return 2 ** (d + 1) - 1
    check = nodes(depth)
    for d in range(4, depth + 1, 2):
        check += 2 ** (depth - d + 4) * nodes(d)
    return check


def shared_refs_check(keys, n, threads=1):
    """Each thread's stream (seed index + 1) picks its share of n keys."""
    total = 0
    for index in range(threads):
        rng = prng.SplitMix64(index + 1)
        for _ in range(n // threads + (1 if index < n % threads else 0)):
            total += 1000 + rng.below(keys)
    return total


def long_lived_nodes(m, n):
    every = max(1, n // m)
    return 2 * n + min(m, -(-n // every))


def fragmentation_expected(n, keep, seed):
    """Return (held, allocated_bytes, kept_bytes), drawing as the workload does."""
    rng = prng.SplitMix64(seed)
    sizes = [1 + rng.below(400) for _ in range(n)]
    kept = [size for size in sizes if rng.below(100) < keep]
    return len(kept), sum(sizes), sum(kept)


# Each workload at a tiny size: (name, params, expected result.check).
CASES = [
    ('list_append', {'n': 1000, 'rounds': 3}, 3000),
    ('dict_churn', {'keys': 50, 'n': 400}, 50 * 400 + 50 * 49 // 2),
    ('cycle_storm', {'n': 1000, 'ring': 5, 'rounds': 2},
     cycle_storm_nodes(1000, 5, 2)),
    ('binary_trees', {'depth': 8}, binary_trees_check(8)),
    ('long_lived', {'m': 30, 'n': 2000}, long_lived_nodes(30, 2000)),
    ('fragmentation', {'n': 2000, 'keep': 10, 'seed': 7},
     fragmentation_expected(2000, 10, 7)[0]),
    ('gc_collect', {'cycles': 10, 'links': 4, 'loops': 3}, 3 * 10 * 5),
    ('gc_traversal', {'levels': 60, 'loops': 3}, 60 * 59 // 2),
    ('shared_refs', {'keys': 10, 'n': 500}, shared_refs_check(10, 500)),
    ('shared_refs', {'keys': 10, 'n': 500, 'threads': 3}, shared_refs_check(10, 500, 3)),
    ('cycle_storm', {'n': 300, 'ring': 4, 'rounds': 5, 'threads': 2},
     cycle_storm_nodes(300, 4, 5)),
    ('binary_trees', {'depth': 8, 'threads': 3}, binary_trees_check(8)),
    # Spans of 334, 334 and 333 cycles: each cycle's shape by its index in
    # the round, not in its thread's span, or the Nodes would differ.
    ('cycle_storm', {'n': 1001, 'ring': 5, 'rounds': 2, 'threads': 3},
     cycle_storm_nodes(1001, 5, 2)),
    ('list_append', {'n': 1001, 'rounds': 2, 'threads': 3}, 2002),
]


def param_args(params):
    args = []
    for name, value in params.items():
        args += ['--' + name, value]
    return args


class SchemaMixin:
    """Checks of the JSON object run.py prints."""

    def assertCount(self, value, what):
        self.assertIs(type(value), int, what)
        self.assertGreaterEqual(value, 0, what)

    def assertSeconds(self, value, what):
        self.assertIs(type(value), float, what)
        self.assertGreaterEqual(value, 0.0, what)

    def check_report(self, report):
        self.assertEqual(set(report), {'wall_s', 'cpu_s', 'result', 'marks', 'gc', 'alloc',
                                       'profile', 'final_rss_bytes', 'python',
                                       't0_monotonic', 'peak_rss_bytes', 't_exec_monotonic',
                                       'rss_at_start_bytes'})
        self.assertGreaterEqual(report['peak_rss_bytes'], report['final_rss_bytes'])
        self.assertLess(report['t_exec_monotonic'], report['t0_monotonic'])
        self.assertSeconds(report['wall_s'], 'wall_s')
        self.assertSeconds(report['cpu_s'], 'cpu_s')
        self.assertIsInstance(report['t0_monotonic'], float)
        self.assertIsInstance(report['result'], dict)
        self.assertCount(report['result']['check'], 'result.check')
        self.assertIsNone(report['alloc'])
        self.assertIsNone(report['profile'])
        self.assertCount(report['final_rss_bytes'], 'final_rss_bytes')
        python = report['python']
        self.assertEqual(set(python), {'version', 'executable', 'implementation'})
        for key, value in python.items():
            self.assertIsInstance(value, str, 'python.' + key)

        self.assertIsInstance(report['marks'], list)
        last = 0.0
        for mark in report['marks']:
            self.assertEqual(set(mark), {'name', 't_s', 'rss_bytes', 'live_bytes'})
            self.assertIsInstance(mark['name'], str)
            self.assertSeconds(mark['t_s'], 'mark t_s')
            self.assertGreaterEqual(mark['t_s'], last)
            self.assertLessEqual(mark['t_s'], report['wall_s'])
            last = mark['t_s']
            self.assertCount(mark['rss_bytes'], 'mark rss_bytes')
            if mark['live_bytes'] is not None:
                self.assertCount(mark['live_bytes'], 'mark live_bytes')

        gc_ = report['gc']
        self.assertEqual(set(gc_), {'collections', 'collected', 'uncollectable',
                                    'pauses'})
        for key in ('collections', 'collected', 'uncollectable'):
            self.assertEqual(len(gc_[key]), 3, key)
            for value in gc_[key]:
                self.assertCount(value, key)
        pauses = gc_['pauses']
        subsampled = pauses.get('subsampled', False)
        keys = {'count', 'total_s', 'p50_s', 'p90_s', 'p99_s', 'max_s',
                'seconds', 'generation', 't_s'}
        self.assertEqual(set(pauses), keys | {'subsampled'} if subsampled else keys)
        self.assertCount(pauses['count'], 'pauses.count')
        for key in ('total_s', 'p50_s', 'p90_s', 'p99_s', 'max_s'):
            self.assertSeconds(pauses[key], 'pauses.' + key)
        self.assertLessEqual(pauses['p50_s'], pauses['p90_s'])
        self.assertLessEqual(pauses['p90_s'], pauses['p99_s'])
        self.assertLessEqual(pauses['p99_s'], pauses['max_s'])
        self.assertLessEqual(pauses['max_s'], pauses['total_s'])
        self.assertLessEqual(pauses['total_s'], report['wall_s'])
        for value in pauses['seconds']:
            self.assertSeconds(value, 'pauses.seconds')
        for value in pauses['generation']:
            self.assertIn(value, (0, 1, 2))
        # Start times: in order, within the run, one per kept pause.
        self.assertEqual(len(pauses['t_s']), len(pauses['seconds']))
        self.assertEqual(pauses['t_s'], sorted(pauses['t_s']))
        for start, length in zip(pauses['t_s'], pauses['seconds']):
            self.assertGreaterEqual(start, 0.0)
            self.assertLessEqual(start + length, report['wall_s'] + 1e-9)
        # Every collection was timed.
        self.assertEqual(pauses['count'], sum(gc_['collections']))
        if subsampled:
            self.assertIs(subsampled, True)
            self.assertGreater(pauses['count'], measure.MAX_PAUSE_SAMPLES)
            self.assertEqual(len(pauses['seconds']), measure.MAX_PAUSE_SAMPLES)
            self.assertEqual(len(pauses['generation']), measure.MAX_PAUSE_SAMPLES)
            self.assertLessEqual(max(pauses['seconds']), pauses['max_s'])
        else:
            self.assertEqual(len(pauses['seconds']), pauses['count'])
            self.assertEqual([pauses['generation'].count(g) for g in range(3)],
                             gc_['collections'])
            self.assertEqual(max(pauses['seconds']), pauses['max_s'])
            # The full collection that ends every run.
            self.assertEqual(pauses['generation'][-1], 2)

    def run_report(self, *args):
        done = run_twin(*args)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.count('\n'), 1)
        report = json.loads(done.stdout)
        self.check_report(report)
        return report


class TestWorkloads(SchemaMixin, unittest.TestCase):

    def test_checksums(self):
        for name, params, expected in CASES:
            with self.subTest(workload=name):
                report = self.run_report(name, *param_args(params))
                self.assertEqual(report['result']['check'], expected)

    def test_defaults_listed(self):
        done = run_twin('--list')
        self.assertEqual(done.returncode, 0, done.stderr)
        listing = json.loads(done.stdout)
        self.assertEqual([w['name'] for w in listing], list(cli.WORKLOADS))
        for workload in listing:
            self.assertEqual(set(workload), {'name', 'description', 'params'})
            self.assertIsInstance(workload['description'], str)
            self.assertNotIn('\n', workload['description'])
            for value in workload['params'].values():
                self.assertCount(value, 'default')
        params = {w['name']: w['params'] for w in listing}
        self.assertEqual(params['cycle_storm'], {'n': 100000, 'ring': 8, 'rounds': 10, 'threads': 1})
        self.assertEqual(params['gc_collect'], {'cycles': 100, 'links': 20, 'loops': 2000})

    def test_cycles_freed_by_the_collector(self):
        # All of cycle_storm's Nodes are cyclic garbage, as are long_lived's pairs.
        report = self.run_report('cycle_storm', '--n', 3000, '--ring', 3)
        self.assertEqual(sum(report['gc']['collected']), report['result']['check'])
        self.assertGreater(report['gc']['collections'][0], 0)
        report = self.run_report('long_lived', '--m', 100, '--n', 3000)
        self.assertEqual(sum(report['gc']['collected']), 2 * 3000)

    def test_fragmentation_marks(self):
        held, allocated, kept = fragmentation_expected(3000, 25, 3)
        report = self.run_report('fragmentation', '--n', 3000, '--keep', 25,
                                 '--seed', 3)
        result = report['result']
        self.assertEqual(result, {'check': held, 'allocated_bytes': allocated,
                                  'kept_bytes': kept})
        marks = [(m['name'], m['live_bytes']) for m in report['marks']]
        self.assertEqual(marks, [('allocated', allocated), ('freed', kept),
                                 ('collected', kept), ('dropped', 0),
                                 ('trimmed', 0)])
        # The workload's gc.collect() and the final one.
        self.assertEqual(report['gc']['collections'], [0, 0, 2])

    def test_gc_collect(self):
        report = self.run_report('gc_collect', '--cycles', 20, '--links', 6,
                                 '--loops', 4)
        result = report['result']
        self.assertEqual(result['check'], 4 * 20 * 7)
        self.assertSeconds(result['collect_s'], 'collect_s')
        self.assertLessEqual(result['collect_s'], report['wall_s'])
        self.assertGreaterEqual(report['gc']['collections'][2], 2 * 4 + 1)
        self.assertEqual(report['gc']['collected'][2], 4 * 20 * 7)
        # pyperformance's create_cycle makes no ring of a lone Node.
        report = self.run_report('gc_collect', '--cycles', 5, '--links', 0,
                                 '--loops', 2)
        self.assertEqual(report['result']['check'], 0)

    def test_gc_traversal(self):
        report = self.run_report('gc_traversal', '--levels', 40, '--loops', 5)
        result = report['result']
        self.assertEqual(result['check'], 40 * 39 // 2)
        self.assertEqual(result['collected'], 0)
        self.assertSeconds(result['collect_s'], 'collect_s')
        self.assertEqual(report['gc']['collections'][2], 2 * 5 + 1)

    def test_edge_sizes(self):
        for name, args, expected in [
                ('list_append', ['--n', 0], 0),
                ('cycle_storm', ['--n', 4, '--ring', 1, '--rounds', 1], 2 + 1 + 1 + 2),
                ('binary_trees', ['--depth', 0], 1),
                ('binary_trees', ['--depth', 5], binary_trees_check(5)),
                ('long_lived', ['--m', 5, '--n', 3], long_lived_nodes(5, 3)),
                ('fragmentation', ['--n', 0], 0),
                ('gc_traversal', ['--levels', 0, '--loops', 0], 0)]:
            with self.subTest(workload=name, args=args):
                report = self.run_report(name, *args)
                self.assertEqual(report['result']['check'], expected)


class TestCollectorSwitches(SchemaMixin, unittest.TestCase):
    # A cycle_storm big enough for several automatic collections.
    STORM = ('cycle_storm', '--n', 3000, '--ring', 4, '--rounds', 2)

    def test_automatic_collections_happen(self):
        report = self.run_report(*self.STORM)
        self.assertGreater(report['gc']['collections'][0], 0)

    def test_gc_off(self):
        report = self.run_report(*self.STORM, '--gc', 'off')
        self.assertEqual(report['gc']['collections'], [0, 0, 1])
        self.assertEqual(sum(report['gc']['collected']), report['result']['check'])
        report = self.run_report('gc_collect', '--cycles', 100, '--links', 20,
                                 '--loops', 3, '--gc', 'off')
        self.assertEqual(report['gc']['collections'], [0, 0, 2 * 3 + 1])
        report = self.run_report('fragmentation', '--n', 1000, '--gc=off')
        self.assertEqual(report['gc']['collections'], [0, 0, 2])

    def test_threshold_zero(self):
        report = self.run_report(*self.STORM, '--threshold', 0)
        self.assertEqual(report['gc']['collections'], [0, 0, 1])

    def test_many_pauses_subsampled(self):
        # A collection every other allocation: over 20000 pauses.
        report = self.run_report('long_lived', '--m', 1, '--n', 25000,
                                 '--threshold', '1,1000000,1000000')
        self.assertTrue(report['gc']['pauses']['subsampled'])
        self.assertEqual(report['gc']['collections'][1], 0)

    def test_threshold_set(self):
        default = self.run_report(*self.STORM)
        frequent = self.run_report(*self.STORM, '--threshold', '50,2,1000000')
        self.assertGreater(frequent['gc']['collections'][0],
                           default['gc']['collections'][0])
        self.assertGreater(frequent['gc']['collections'][1], 0)
        self.assertEqual(frequent['gc']['collections'][2], 1)


class TestBadArguments(unittest.TestCase):

    def assertUsageError(self, *args, mentions):
        done = run_twin(*args)
        self.assertEqual(done.returncode, 2, (args, done.stderr))
        self.assertEqual(done.stdout, '')
        self.assertEqual(done.stderr.count('\n'), 1, done.stderr)
        self.assertTrue(done.stderr.endswith('\n'))
        self.assertTrue(done.stderr.startswith('run.py: '), done.stderr)
        for word in mentions:
            self.assertIn(word, done.stderr)

    def test_workload(self):
        self.assertUsageError('nope', mentions=['nope', 'cycle_storm'])
        self.assertUsageError(mentions=['workload', 'list_append'])
        self.assertUsageError('list_append', 'dict_churn', mentions=['one workload'])
        self.assertUsageError('--list', 'list_append', mentions=['--list'])

    def test_parameter(self):
        self.assertUsageError('cycle_storm', '--size', '3',
                              mentions=['--size', '--n', '--ring', '--rounds'])
        self.assertUsageError('list_append', '--n', mentions=['--n', 'value'])

    def test_values(self):
        for value in ('-1', '-0x1'):
            with self.subTest(value=value):
                self.assertUsageError('list_append', '--n', value, mentions=['--n', '>= 0'])
        for value in ('1.5', 'abc', '', '0x10', '1e3', ' 5', '1_000', '\u0662'):
            with self.subTest(value=value):
                self.assertUsageError('list_append', '--n', value,
                                      mentions=['--n', 'integer'])
        self.assertUsageError('list_append', '--n', str(2**63), mentions=['<='])
        self.assertUsageError('cycle_storm', '--ring', '0', mentions=['--ring', '>= 1'])
        self.assertUsageError('long_lived', '--m=0', mentions=['--m', '>= 1'])

    def test_threshold(self):
        for value in ('', 'a', '1,,2', '1,2,3,4', '-1', '1,-2', '7,x', '1.0', str(2**31)):
            with self.subTest(value=value):
                self.assertUsageError('list_append', '--threshold', value,
                                      mentions=['--threshold'])

    def test_gc_switch(self):
        self.assertUsageError('list_append', '--gc', 'maybe',
                              mentions=['--gc', 'on', 'off'])


class TestPauseSummary(unittest.TestCase):

    def test_nearest_rank(self):
        summary = measure.summarize_pauses([5.0, 1.0, 4.0, 2.0, 3.0], [0, 0, 1, 0, 2],
                                       [0.0, 0.1, 0.2, 0.3, 0.4])
        self.assertEqual((summary['p50_s'], summary['p90_s'], summary['p99_s'],
                          summary['max_s']), (3.0, 5.0, 5.0, 5.0))
        self.assertEqual(summary['count'], 5)
        self.assertEqual(summary['total_s'], 15.0)
        self.assertEqual(summary['seconds'], [5.0, 1.0, 4.0, 2.0, 3.0])
        self.assertEqual(summary['generation'], [0, 0, 1, 0, 2])
        self.assertEqual(summary['t_s'], [0.0, 0.1, 0.2, 0.3, 0.4])
        self.assertNotIn('subsampled', summary)

        values = [float(i) for i in range(1, 101)]
        summary = measure.summarize_pauses(values[::-1], [0] * 100, [0.0] * 100)
        self.assertEqual((summary['p50_s'], summary['p90_s'], summary['p99_s']),
                         (50.0, 90.0, 99.0))
        summary = measure.summarize_pauses([float(i) for i in range(1, 11)], [0] * 10, [0.0] * 10)
        self.assertEqual((summary['p50_s'], summary['p90_s'], summary['p99_s']),
                         (5.0, 9.0, 10.0))

    def test_no_pauses(self):
        summary = measure.summarize_pauses([], [], [])
        self.assertEqual(summary, {'count': 0, 'total_s': 0.0, 'p50_s': 0.0,
                                   'p90_s': 0.0, 'p99_s': 0.0, 'max_s': 0.0,
                                   'seconds': [], 'generation': [], 't_s': []})

    def test_subsampled(self):
        n = 50001
        seconds = [float(i % 1000) for i in range(n)]
        generation = [i % 3 for i in range(n)]
        starts = [i * 0.001 for i in range(n)]
        summary = measure.summarize_pauses(seconds, generation, starts)
        self.assertTrue(summary['subsampled'])
        self.assertEqual(summary['count'], n)
        self.assertEqual(summary['total_s'], sum(seconds))
        self.assertEqual(summary['max_s'], 999.0)
        self.assertEqual(len(summary['seconds']), measure.MAX_PAUSE_SAMPLES)
        self.assertEqual(len(summary['generation']), measure.MAX_PAUSE_SAMPLES)
        self.assertEqual(summary['seconds'][0], seconds[0])
        step = n / measure.MAX_PAUSE_SAMPLES        # evenly spaced, in order
        for k in (1, 777, measure.MAX_PAUSE_SAMPLES - 1):
            self.assertEqual(summary['seconds'][k], seconds[int(k * step)])
            self.assertEqual(summary['generation'][k], generation[int(k * step)])
            self.assertEqual(summary['t_s'][k], starts[int(k * step)])

        at_limit = measure.summarize_pauses([1.0] * measure.MAX_PAUSE_SAMPLES,
                                        [0] * measure.MAX_PAUSE_SAMPLES,
                                        [0.0] * measure.MAX_PAUSE_SAMPLES)
        self.assertNotIn('subsampled', at_limit)


class TestSignals(unittest.TestCase):

    def interrupt(self, signum):
        # list_append this long runs for minutes in little memory.  The
        # signal goes once run.py says on --ready-fd that its handlers are
        # installed: never after a sleep that hopes so.
        read_fd, write_fd = os.pipe()
        try:
            process = subprocess.Popen(
                [sys.executable, RUN, 'list_append', '--n', '1000000', '--rounds', '100000',
                 '--ready-fd', str(write_fd)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                pass_fds=(write_fd,))
        finally:
            os.close(write_fd)
        try:
            with os.fdopen(read_fd, 'rb') as ready:
                self.assertEqual(ready.read(), b'ready\n')
            process.send_signal(signum)
            stdout, stderr = process.communicate(timeout=TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        self.assertEqual(process.returncode, 130, stderr)
        self.assertEqual(stdout, '')
        self.assertEqual(stderr, 'run.py: interrupted\n')

    def test_sigterm(self):
        self.interrupt(signal.SIGTERM)

    def test_sigint(self):
        self.interrupt(signal.SIGINT)

    def test_ready_fd_errors(self):
        for value, mentions in [('1', '>= 3'), ('999999', 'not open'), ('x', 'integer')]:
            with self.subTest(value=value):
                done = run_twin('list_append', '--ready-fd', value)
                self.assertEqual(done.returncode, 2)
                self.assertEqual(done.stdout, '')
                self.assertIn(mentions, done.stderr)


class TestPrng(unittest.TestCase):
    # From a C program calling rt_prng_next / rt_prng_below (workloads/prng.h).

    def test_seed_1(self):
        rng = prng.SplitMix64(1)
        self.assertEqual([rng.next() for _ in range(3)],
                         [10451216379200822465, 13757245211066428519,
                          17911839290282890590])

    def test_extreme_seeds(self):
        self.assertEqual(prng.SplitMix64(0).next(), 16294208416658607535)
        self.assertEqual(prng.SplitMix64(2**64 - 1).next(), 16490336266968443936)
        # A seed past 64 bits is reduced as the C uint64_t conversion does.
        self.assertEqual(prng.SplitMix64(2**64 + 1).next(), 10451216379200822465)

    def test_below(self):
        rng = prng.SplitMix64(42)
        self.assertEqual([rng.below(400) for _ in range(5)], [296, 63, 111, 137, 15])
        # The product's high half needs all 128 bits: n near 2^64.
        rng = prng.SplitMix64(9)
        self.assertEqual([rng.below(2**64 - 1) for _ in range(3)],
                         [12587370737594032227, 13847876567842155105, 4894335158745139637])

    def test_range(self):
        rng = prng.SplitMix64(123)
        for _ in range(1000):
            value = rng.next()
            self.assertTrue(0 <= value < 2**64)


class TestSpans(unittest.TestCase):
    """span, the twins' rt_workload_span: the threads' ranges of a round's
    items are consecutive in thread order and cover each item once."""

    def test_consecutive_and_whole(self):
        for total in range(41):
            for threads in range(1, 10):
                spans = [span(total, i, threads) for i in range(threads)]
                self.assertEqual([i for r in spans for i in r], list(range(total)), (total, threads))
                self.assertEqual([len(r) for r in spans], [share(total, i, threads) for i in range(threads)])


if __name__ == '__main__':
    unittest.main()
