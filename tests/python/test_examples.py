"""Tests of the example programs (examples/) and their tools.

Each example runs at a tiny size, alone and under run.py: it answers the
same either way, and under run.py its report is complete.  The pre-fork
server runs with forked workers, with and without the freeze.  The tools
(show_report.py, overhead.py) run on real reports, and their errors are
one line and status 2.

Run from the repository root:

    python3 -m unittest discover -s tests/python
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_twins import ROOT, TIMEOUT                        # noqa: E402
from test_programs import ProgramTest, run_py               # noqa: E402

EXAMPLES = os.path.join(ROOT, 'examples')


def example(name):
    return os.path.join(EXAMPLES, name)


def run_tool(name, *args, env=None):
    return subprocess.run([sys.executable, example(name), *map(str, args)],
                          capture_output=True, text=True, timeout=TIMEOUT, env=env)


def tiny_catalogue():
    """The environment for a small prefork_app catalogue."""
    env = dict(os.environ)
    env['PREFORK_CATALOGUE'] = '3000'
    return env


class TestExamples(ProgramTest):

    def assertSameAnswer(self, name, *args):
        """Run example name alone and under run.py; return the report."""
        alone = run_tool(name, *args)
        self.assertEqual(alone.returncode, 0, alone.stderr)
        done, report = self.run_ok('--script', example(name), '--', *args)
        self.assertEqual(done.stdout, alone.stdout)
        self.assertEqual(report['program']['args'], list(map(str, args)))
        return alone.stdout, report

    def test_request_handler(self):
        out, report = self.assertSameAnswer('request_handler.py', '--requests', 400)
        self.assertTrue(out.startswith('handled 400 requests, checksum '), out)
        self.assertGreater(report['gc']['collections'][0], 0)

    def test_orm_graph(self):
        out, report = self.assertSameAnswer('orm_graph.py', '--units', 8,
                                            '--customers', 10)
        self.assertTrue(out.startswith('8 units of work, '), out)
        # The sessions are cycles: only the collector frees them.
        self.assertGreater(sum(report['gc']['collected']), 0)

    def test_prefork_server_alone(self):
        done = run_tool('prefork_server.py', '--requests', 300, '--workers', 2,
                        env=tiny_catalogue())
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout, '2 workers served 300 requests each; 0 failed\n')

    def test_prefork_server_freeze(self):
        server = example('prefork_server.py')
        reports = {}
        for freeze in ([], ['--freeze-after-import', 'prefork_app']):
            done, report = self.run_ok('--fork-workers', 2, *freeze, '--script', server,
                                       '--', '--requests', 300, env=tiny_catalogue())
            self.assertEqual(done.stdout, '')       # workers print nothing
            fork = report['fork_workers']
            self.assertEqual([w['exit_status'] for w in fork['workers']], [0, 0])
            for worker in fork['workers']:
                memory = worker['memory']
                self.assertLessEqual(memory['uss_bytes'], memory['pss_bytes'])
                self.assertLessEqual(memory['pss_bytes'], memory['rss_bytes'])
            reports[bool(freeze)] = report
        # The catalogue's objects are frozen before the fork: 3000 products.
        self.assertGreater(reports[True]['fork_workers']['frozen_at_fork'],
                           reports[False]['fork_workers']['frozen_at_fork'] + 3000)


class TestTools(ProgramTest):

    def report_file(self, *args, env=None):
        """Run run.py with args; return the path of its report."""
        done = run_py(*args, env=env)
        self.assertEqual(done.returncode, 0, done.stderr)
        path = os.path.join(self.dir, 'report%d.json' % len(os.listdir(self.dir)))
        with open(path, 'w') as f:
            f.write(done.result)
        return path

    def test_show_report(self):
        plain = self.report_file('--threshold', '5000', '--script',
                                 example('request_handler.py'), '--requests', 200)
        tuner = self.report_file('--script', self.script('t.py', 'import gc\n'
                                                         'gc.set_threshold(9)\n'))
        done = run_tool('show_report.py', plain, tuner)
        self.assertEqual(done.returncode, 0, done.stderr)
        lines = done.stdout.splitlines()
        self.assertEqual(lines[0].split()[:3], ['report', 'settings', 'exit'])
        self.assertEqual(lines[1].split()[:3], [plain, 't=5000,10,10', '0'])
        self.assertTrue(lines[3].startswith(tuner + ': the program set the GC thresholds'))

        server = self.report_file('--fork-workers', 2, '--script',
                                  example('prefork_server.py'), '--requests', 100,
                                  env=tiny_catalogue())
        done = run_tool('show_report.py', server)
        self.assertEqual(done.returncode, 0, done.stderr)
        header, row = done.stdout.splitlines()
        self.assertTrue(header.endswith('worker USS  total PSS MiB'), header)
        with open(server) as f:
            fork = json.load(f)['fork_workers']
        self.assertEqual(row.split()[-1], '%.1f' % (fork['pss_bytes_total'] / 2**20))

    def test_show_report_errors(self):
        twin = os.path.join(self.dir, 'twin.json')
        with open(twin, 'w') as f:
            f.write(run_py('list_append', '--n', 10).result)
        broken = self.script('broken.json', '{"wall_s": ')
        for args, mentions in [([], 'no report'), ([os.path.join(self.dir, 'none.json')],
                                                   'cannot read'),
                               ([broken], 'cannot read'), ([twin], 'not a report')]:
            with self.subTest(args=args):
                done = run_tool('show_report.py', *args)
                self.assertEqual(done.returncode, 2)
                self.assertEqual(done.stderr.count('\n'), 1, done.stderr)
                self.assertIn(mentions, done.stderr)

    def test_overhead(self):
        program = self.script('churn.py', 'x = [[i] for i in range(3000)]\n')
        done = run_tool('overhead.py', '--rounds', 2, program)
        self.assertEqual(done.returncode, 0, done.stderr)
        lines = done.stdout.splitlines()
        self.assertEqual([line.split()[0] for line in lines],
                         ['program:', 'wall', 'wall', 'cpu', 'cpu', 'one', 'load'])
        self.assertIn('2 pairs', lines[2])

        failing = self.script('fails.py', 'raise SystemExit(3)\n')
        done = run_tool('overhead.py', '--rounds', 1, failing)
        self.assertEqual(done.returncode, 2)
        self.assertEqual(done.stderr.count('\n'), 1, done.stderr)
        self.assertIn('status 3', done.stderr)


if __name__ == '__main__':
    unittest.main()
