#!/usr/bin/env python3
"""End-to-end tests of rtbench measuring any Python program: rtbench cpython,
sweep and tune with --script PATH or -m MODULE.

Run by ctest (tests/CMakeLists.txt) as

    python3 tests/harness/test_programs_cli.py --build BUILD_DIR

Tiny programs written into a temporary folder: one that raises (a failed
sample, stderr's tail kept), one that calls sys.exit(3), one that never
ends (--timeout: its forked child is killed with it, through the process
group), one that changes its own thresholds (recorded, and said in a
warning), a module run with -m, arguments passed through after '--', a
missing script (one line, exit 2, nothing written), forked workers' PSS and
USS, a sweep over the collector switch and two interpreter paths, and the
search's answer on a program whose best threshold is known by construction
(and on one where no threshold matters: keep the defaults).  Every result
file validates against results/schema.json.  No timing assertions: the
known-best program's cost grows several-fold away from its best.
"""

import argparse
import json
import os
import select
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_support import VALIDATOR  # noqa: E402  (results/schema.json, under jsonschema)

BUILD = None
QUICK = ['--repeat', '1', '--quiet', '--no-rss']

# Its work grows with the distance, in powers of two, of threshold0 from 2800.
KNOWN_BEST = '''\
import gc, math, sys
distance = abs(math.log2(gc.get_threshold()[0] / 2800))
total = 0
for i in range(int(int(sys.argv[1]) * (1 + 3 * distance))):
    total += i * i
'''


class Programs(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='rtb-programs-')

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(textwrap.dedent(text))
        return path

    def rtbench(self, *args, timeout=600):
        p = subprocess.run([os.path.join(BUILD, 'rtbench')] + list(args), capture_output=True, text=True,
                           timeout=timeout, cwd=self.dir)
        return p.returncode, p.stdout, p.stderr

    def result(self, path):
        with open(os.path.join(self.dir, path)) as f:
            doc = json.load(f)
        errors = sorted(VALIDATOR.iter_errors(doc), key=str)
        self.assertFalse(errors, '%s does not validate: %s' % (path, errors[:1]))
        return doc

    def one_sample(self, script_text, *args, status=None):
        """Run a script once through rtbench cpython; its run and sample."""
        self.write('prog.py', script_text)
        st, out, err = self.rtbench('cpython', '--script', 'prog.py', '--out', 'r.json', *QUICK, *args)
        if status is not None:
            self.assertEqual(st, status, err)
        run = self.result('r.json')['runs'][0]
        return run, run['samples'][0], err

    # -- failures --------------------------------------------------------------

    def test_raises(self):
        run, s, err = self.one_sample('raise ValueError("boom in the program")\n', status=1)
        self.assertEqual(s['status'], 'failed')
        self.assertEqual(s['exit_status'], 1)
        self.assertIn('ValueError: boom in the program', s['error'])
        self.assertIn('Traceback', s['stderr_tail'])
        self.assertIn('ValueError: boom in the program', s['stderr_tail'])

    def test_exit_3(self):
        run, s, err = self.one_sample('import sys\nsys.exit(3)\n', status=1)
        self.assertEqual(s['status'], 'failed')
        self.assertEqual(s['exit_status'], 3)
        self.assertIn('exit status 3', s['error'])

    def test_never_ends(self):
        """--timeout kills the program and what it forked (its process group)."""
        pidfile = os.path.join(self.dir, 'child.pid')
        text = '''\
            import os, time
            pid = os.fork()
            if pid == 0:
                while True:
                    time.sleep(1000)
            with open(%r + '.tmp', 'w') as f:
                f.write(str(pid))
            os.rename(%r + '.tmp', %r)
            while True:
                time.sleep(1000)
            ''' % (pidfile, pidfile, pidfile)
        run, s, err = self.one_sample(text, '--timeout', '3', status=1)
        self.assertEqual(s['status'], 'timeout')
        self.assertIsNone(s['exit_status'])
        with open(pidfile) as f:
            child = int(f.read())
        # Killed with the group: SIGKILL is sent when rtbench returns, but
        # the child dies when it next runs, which on a busy machine may be
        # later.  Wait for its end (a pidfd turns readable then; it is
        # never reached by a child that was not killed, which sleeps on).
        try:
            fd = os.pidfd_open(child)
        except ProcessLookupError:
            return      # dead and reaped already
        try:
            ended, _, _ = select.select([fd], [], [], 120)
        finally:
            os.close(fd)
        self.assertTrue(ended, 'the program\'s forked child outlived the timeout by two minutes')

    def test_missing_script(self):
        st, out, err = self.rtbench('cpython', '--script', 'nope.py', '--out', 'r.json', *QUICK)
        self.assertEqual(st, 2)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn('no script nope.py', err)
        self.assertFalse(os.path.exists(os.path.join(self.dir, 'r.json')))
        for cmd in (['sweep', '--threshold0', '100,700'], ['tune']):
            st, out, err = self.rtbench(*cmd, '--script', 'nope.py', '--out', 'd')
            self.assertEqual(st, 2, err)
            self.assertFalse(os.path.exists(os.path.join(self.dir, 'd')))

    def test_usage_errors(self):
        self.write('prog.py', 'pass\n')
        for args, said in [(['cpython', '--script', 'prog.py', '--rc', 'atomic'], '--rc'),
                           (['cpython', '-m', '1bad'], 'module name'),
                           (['cpython', 'list_append', '--fork-workers', '2'], 'Python program'),
                           (['tune', '--script', 'prog.py', '--objective', 'speed'], '--objective'),
                           (['sweep', '--script', 'prog.py', '--freeze', 'on,off'], '--freeze-after-import'),
                           (['tune'], 'which program')]:
            st, out, err = self.rtbench(*args)
            self.assertEqual(st, 2, (args, err))
            self.assertIn(said, err)

    # -- settings and arguments ------------------------------------------------------

    def test_changes_thresholds(self):
        run, s, err = self.one_sample('import gc\ngc.set_threshold(5000, 20, 20)\nx = [[] for _ in range(9000)]\n',
                                      '--threshold', '900,10,10', status=0)
        self.assertEqual(s['gc_settings']['threshold'], [900, 10, 10])
        self.assertEqual(s['gc_settings_at_end']['threshold'], [5000, 20, 20])
        self.assertIn('threshold-changed', [w['kind'] for w in s['warnings']])
        self.assertIn('threshold-changed', [w['kind'] for w in run['warnings']])
        self.assertIn('threshold-changed', err)

    def test_arguments_after_dashes(self):
        self.write('prog.py', '''\
            import json, sys
            with open(sys.argv[1], 'w') as f:
                json.dump(sys.argv[2:], f)
            ''')
        args = ['argv.json', '--out', '-m', 'x y', '--', '--script']
        st, out, err = self.rtbench('cpython', '--script', 'prog.py', '--out', 'r.json', *QUICK, '--', *args)
        self.assertEqual(st, 0, err)
        with open(os.path.join(self.dir, 'argv.json')) as f:
            self.assertEqual(json.load(f), args[1:])
        config = self.result('r.json')['runs'][0]['config']
        self.assertEqual(config['program'], {'kind': 'script', 'target': 'prog.py', 'args': args})

    def test_module(self):
        self.write('pkg/__init__.py', '')
        self.write('pkg/tool.py', 'import sys\nassert __name__ == "__main__"\nsys.exit(int(sys.argv[1]))\n')
        st, out, err = self.rtbench('cpython', '-m', 'pkg.tool', '--out', 'r.json', *QUICK, '--', '0')
        self.assertEqual(st, 0, err)
        run = self.result('r.json')['runs'][0]
        self.assertEqual(run['workload'], 'pkg.tool')
        self.assertEqual(run['config']['program']['kind'], 'module')
        self.assertEqual(run['samples'][0]['status'], 'ok')
        st, out, err = self.rtbench('cpython', '-m', 'pkg.missing', '--out', 'm.json', *QUICK)
        self.assertEqual(st, 2, err)
        self.assertIn('pkg.missing', err)

    def test_fork_workers(self):
        run, s, err = self.one_sample('''\
            import json
            catalogue = [{'id': i, 'name': 'item %d' % i} for i in range(20000)]
            def worker():
                seen = [json.dumps(c) for c in catalogue[:3000]]
            ''', '--fork-workers', '2', '--freeze-after-import', 'json', status=0)
        self.assertEqual(run['config']['fork_workers'], 2)
        self.assertEqual(run['config']['freeze_after_import'], ['json'])
        f = s['fork_workers']
        self.assertEqual(f['count'], 2)
        self.assertEqual(len(f['workers']), 2)
        for w in f['workers']:
            m = w['memory']
            self.assertGreater(m['pss_bytes'], 0)
            self.assertLessEqual(m['uss_bytes'], m['pss_bytes'])
            self.assertLessEqual(m['pss_bytes'], m['rss_bytes'])
        self.assertGreaterEqual(f['pss_bytes_total'], sum(w['memory']['pss_bytes'] for w in f['workers']))
        self.assertEqual(run['summary']['worker_pss_bytes']['median'], f['pss_bytes_mean'])
        self.assertGreater(s['gc_settings']['frozen'], 0)

    # -- sweeps and comparisons ---------------------------------------------------------

    def test_sweep_axes_and_compare(self):
        self.write('prog.py', 'x = [[i] for i in range(20000)]\n')
        st, out, err = self.rtbench('sweep', '--script', 'prog.py', '--gc', 'on,off', '--python',
                                    '/usr/bin/python3,/usr/bin/python3.11', '--repeat', '2', '--quiet', '--no-rss',
                                    '--out', 'sw')
        self.assertEqual(st, 0, err)
        runs = self.result('sw/sweep.json')['runs']
        self.assertEqual(len(runs), 4)
        self.assertEqual(sorted(r['config']['gc'] for r in runs), [False, False, True, True])
        self.assertEqual(len({r['name'] for r in runs}), 4)
        self.assertTrue(all('/python:' in r['name'] for r in runs))
        self.assertEqual(sorted({r['config']['python'] for r in runs}), ['/usr/bin/python3', '/usr/bin/python3.11'])
        for r in runs:
            pauses = r['samples'][0]['gc']['pauses']
            self.assertEqual(len(pauses['by_generation']), 3)
        # compare works on programs' results unchanged
        for name in ('a.json', 'b.json'):
            st, out, err = self.rtbench('cpython', '--script', 'prog.py', '--out', name, '--repeat', '3', '--quiet')
            self.assertEqual(st, 0, err)
        st, out, err = self.rtbench('compare', 'a.json', 'b.json')
        self.assertEqual(st, 0, err)
        self.assertIn('prog.py', out)

    # -- the search ---------------------------------------------------------------------

    def test_tune_known_best(self):
        self.write('known_best.py', KNOWN_BEST)
        st, out, err = self.rtbench('tune', '--script', 'known_best.py', '--threshold', '700,10,10', '--repeat', '6',
                                    '--quiet', '--no-rss', '--out', 'tune', '--', '60000')
        self.assertEqual(st, 0, err)
        self.assertIn('gc.set_threshold(2800, 10, 10)', out)
        with open(os.path.join(self.dir, 'tune', 'tune.json')) as f:
            t = json.load(f)
        rec = t['recommendation']
        self.assertFalse(rec['keep_defaults'])
        self.assertEqual(rec['threshold'], [2800, 10, 10])
        wall = rec['effects']['wall_s']
        self.assertTrue(wall['significant'])
        self.assertLess(wall['ci95_high'], 1)
        self.assertEqual([s['stage'] for s in t['stages']], ['coarse', 'fine'])
        for chart in ('tune.png', 'tune.svg'):
            self.assertGreater(os.path.getsize(os.path.join(self.dir, 'tune', chart)), 1000)
        for s in t['stages']:
            self.result(os.path.join('tune', s['result']))
            self.assertEqual(s['candidates'][0]['threshold'], [700, 10, 10])

    def test_tune_keeps_defaults(self):
        """No threshold matters to a program that allocates no containers."""
        self.write('flat.py', 'total = 0\nfor i in range(100000):\n    total += i\n')
        st, out, err = self.rtbench('tune', '--script', 'flat.py', '--repeat', '6', '--quiet', '--no-rss',
                                    '--out', 'tune')
        self.assertEqual(st, 0, err)
        self.assertIn('keep the defaults', out)
        with open(os.path.join(self.dir, 'tune', 'tune.json')) as f:
            rec = json.load(f)['recommendation']
        self.assertTrue(rec['keep_defaults'])
        st, out, err = self.rtbench('tune', '--script', 'flat.py', '--out', 'tune')
        self.assertEqual(st, 2, 'an existing tune.json needs --force')


def main():
    global BUILD
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', required=True)
    args, rest = ap.parse_known_args()
    BUILD = os.path.abspath(args.build)
    unittest.main(argv=[sys.argv[0]] + rest)


if __name__ == '__main__':
    main()
