"""Tests of run.py measuring any program: --script PATH and -m MODULE.

Each test writes tiny programs into a temporary folder and runs them
through run.py in a subprocess, the report on a descriptor of its own
(--result-fd, a temporary file); what the program sees is checked against
the same program run by the interpreter directly.  Also: GC settings
before the first line and programs that change them, and forked workers
and their memory.  Failures, interruptions and usage errors:
test_program_failures.py.

Run from the repository root:

    python3 -m unittest discover -s tests/python
"""

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_twins import RUN, TIMEOUT, TWINS, SchemaMixin   # noqa: E402  (the path above)

# The fields of a program's report beyond a twin's.
PROGRAM_KEYS = {'program', 'exit_status', 'error', 'gc_settings',
                'gc_settings_at_end', 'warnings', 'fork_workers'}
TWIN_KEYS = {'wall_s', 'cpu_s', 'result', 'marks', 'gc', 'alloc', 'profile',
             'final_rss_bytes', 'python', 't0_monotonic', 'peak_rss_bytes',
             't_exec_monotonic', 'rss_at_start_bytes'}
MEMORY_KEYS = {'rss_bytes', 'pss_bytes', 'uss_bytes', 'shared_bytes',
               'pss_anon_bytes'}
PAUSE_STAT_KEYS = {'count', 'total_s', 'p50_s', 'p90_s', 'p99_s', 'max_s'}

# What a program sees of its own start, printed as one JSON line.
PROBE = '''\
import json, os, sys
print(json.dumps({
    'argv': sys.argv, 'name': __name__, 'file': globals().get('__file__'),
    'package': __package__, 'spec': getattr(__spec__, 'name', None),
    'loader': type(__loader__).__name__,
    'cached': globals().get('__cached__', 'unset'), 'path': sys.path,
    'main_is_me': sys.modules['__main__'].__dict__ is globals(),
    'common': getattr(sys.modules.get('common'), 'WHERE', None),
}))
'''


def write(folder, name, text):
    """Write text (dedented) to folder/name; return the path."""
    path = os.path.join(folder, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(textwrap.dedent(text))
    return path


class Done:
    """How a run ended: returncode, stdout, stderr and the result channel."""

    def __init__(self, process, stdout, stderr, result):
        self.returncode = process.returncode
        self.stdout = stdout
        self.stderr = stderr
        self.result = result

    def report(self):
        """The one JSON report on the result channel."""
        if self.result.count('\n') != 1 or not self.result.endswith('\n'):
            raise AssertionError('not one report line: %r (stderr: %s)'
                                 % (self.result[:200], self.stderr))
        return json.loads(self.result)


def run_py(*args, cwd=None, env=None, flags=(), result_fd=True):
    """Run run.py with args, its report on a temporary file's descriptor
    (unless result_fd is False); return a Done."""
    with tempfile.TemporaryFile() as result:
        fd = result.fileno()
        command = [sys.executable, *flags, RUN]
        if result_fd:
            command += ['--result-fd', str(fd)]
        command += [str(a) for a in args]
        process = subprocess.run(command, pass_fds=(fd,), capture_output=True,
                                 text=True, timeout=TIMEOUT, cwd=cwd, env=env)
        result.seek(0)
        return Done(process, process.stdout, process.stderr, result.read().decode())


def run_python(*args, cwd=None, flags=()):
    """Run the interpreter directly: python [flags] args."""
    return subprocess.run([sys.executable, *flags, *map(str, args)],
                          capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd)


class ProgramTest(SchemaMixin, unittest.TestCase):
    """A temporary folder for the programs, and checks of their reports."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = os.path.realpath(self._tmp.name)
        self.addCleanup(self._tmp.cleanup)

    def script(self, name, text):
        return write(self.dir, name, text)

    def check_program_report(self, report, timed=True):
        """The fields every program's report has, and how they agree."""
        self.assertEqual(set(report), TWIN_KEYS | PROGRAM_KEYS)
        self.assertIsNone(report['result'])
        self.assertEqual(report['marks'], [])
        self.assertIsNone(report['alloc'])
        self.assertIsNone(report['profile'])
        self.assertSeconds(report['wall_s'], 'wall_s')
        self.assertSeconds(report['cpu_s'], 'cpu_s')
        self.assertLess(report['t_exec_monotonic'], report['t0_monotonic'])
        self.assertGreaterEqual(report['peak_rss_bytes'], report['final_rss_bytes'])
        self.assertCount(report['rss_at_start_bytes'], 'rss_at_start_bytes')
        self.assertIn(report['program']['kind'], ('script', 'module'))
        self.assertIsInstance(report['program']['args'], list)
        self.assertCount(report['exit_status'], 'exit_status')
        self.assertEqual(report['error'] is None, report['exit_status'] == 0
                         and not (report['fork_workers'] and any(
                             w['error'] for w in report['fork_workers']['workers'])))
        if report['error'] is not None:
            self.assertNotIn('\n', report['error'])
        first, end = report['gc_settings'], report['gc_settings_at_end']
        self.assertEqual(set(first), {'threshold', 'enabled', 'frozen',
                                      'freeze_after_import'})
        self.assertEqual(set(end), {'threshold', 'enabled', 'frozen'})
        for settings in (first, end):
            self.assertEqual(len(settings['threshold']), 3)
            self.assertIsInstance(settings['enabled'], bool)
            self.assertCount(settings['frozen'], 'frozen')
        for warning in report['warnings']:
            self.assertEqual(set(warning), {'kind', 'message'})
            self.assertIsInstance(warning['message'], str)

        gc_ = report['gc']
        self.assertEqual(set(gc_), {'collections', 'collected', 'uncollectable',
                                    'pauses'})
        for key in ('collections', 'collected', 'uncollectable'):
            self.assertEqual(len(gc_[key]), 3)
            for value in gc_[key]:
                self.assertCount(value, key)
        pauses = gc_['pauses']
        if not timed:
            self.assertIsNone(pauses)
            return
        self.assertEqual(pauses['count'], sum(gc_['collections']))
        self.assertEqual(pauses['generation'].count(0), gc_['collections'][0])
        self.assertLessEqual(pauses['total_s'], report['wall_s'])
        by_generation = pauses['by_generation']
        self.assertEqual(len(by_generation), 3)
        for g, stats in enumerate(by_generation):
            self.assertEqual(set(stats), PAUSE_STAT_KEYS)
            self.assertEqual(stats['count'], gc_['collections'][g])
            self.assertLessEqual(stats['max_s'], pauses['max_s'])
        self.assertAlmostEqual(sum(s['total_s'] for s in by_generation),
                               pauses['total_s'])
        for start, length in zip(pauses['t_s'], pauses['seconds']):
            self.assertGreaterEqual(start, 0.0)
            self.assertLessEqual(start + length, report['wall_s'] + 1e-9)

    def run_ok(self, *args, timed=True, **kwargs):
        """Run, expect status 0 and a good report; return (Done, report)."""
        done = run_py(*args, **kwargs)
        self.assertEqual(done.returncode, 0, done.stderr)
        report = done.report()
        self.check_program_report(report, timed=timed)
        return done, report


class TestAsPythonRuns(ProgramTest):
    """The program sees what `python PATH ARGS` or `python -m MODULE` gives."""

    def assertSameView(self, python_args, run_args, cwd=None, flags=()):
        direct = run_python(*python_args, cwd=cwd, flags=flags)
        self.assertEqual(direct.returncode, 0, direct.stderr)
        done = run_py(*run_args, cwd=cwd, flags=flags)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.check_program_report(done.report())
        self.assertEqual(done.stdout, direct.stdout)
        self.stdout = done.stdout
        return json.loads(done.stdout.splitlines()[0])

    def test_script(self):
        probe = self.script('probe.py', PROBE)
        self.script('common.py', 'WHERE = "beside the script"\n')
        with open(probe, 'a') as f:     # run.py's folder has a common.py too
            f.write('import common\nprint(common.WHERE)\n')
        view = self.assertSameView([probe, 'a', '--b'], ['--script', probe, 'a', '--b'])
        self.assertEqual(view['common'], None)      # not imported by run.py
        self.assertEqual(self.stdout.splitlines()[1], 'beside the script')
        self.assertEqual(view['argv'], [probe, 'a', '--b'])
        self.assertEqual(view['name'], '__main__')
        self.assertEqual(view['path'][0], self.dir)
        self.assertTrue(view['main_is_me'])

    def test_modules_named_as_run_pys_parts_are_the_programs(self):
        # run.py's parts stay in sys.modules while the program runs: a
        # program's own cli.py, measure.py ... must still be the ones it
        # imports (so the parts live in a package, _rtbench_run).
        parts = sorted(name[:-3] for name in os.listdir(os.path.join(TWINS, '_rtbench_run'))
                       if name.endswith('.py') and name != '__init__.py')
        self.assertIn('measure', parts)
        for name in parts + ['run']:
            self.script(name + '.py', 'WHERE = "the program\'s %s"\n' % name)
        main = self.script('main.py', 'import importlib\nfor name in %r:\n'
                           '    print(importlib.import_module(name).WHERE)\n' % (parts + ['run']))
        done = run_py('--script', main)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.splitlines(),
                         ["the program's %s" % name for name in parts + ['run']])
        self.assertEqual(done.stdout, run_python(main).stdout)

    def test_relative_path_and_symlink(self):
        os.mkdir(os.path.join(self.dir, 'real'))
        probe = self.script('real/probe.py', PROBE)
        os.symlink(probe, os.path.join(self.dir, 'link.py'))
        view = self.assertSameView(['link.py', 'x'], ['--script', 'link.py', 'x'],
                                   cwd=self.dir)
        self.assertEqual(view['argv'], ['link.py', 'x'])
        self.assertEqual(view['path'][0], os.path.join(self.dir, 'real'))
        # Absolute since Python 3.9 (as given before).
        self.assertEqual(os.path.join(self.dir, view['file']),
                         os.path.join(self.dir, 'link.py'))

    def test_isolated_interpreter(self):
        probe = self.script('probe.py', PROBE)
        view = self.assertSameView([probe], ['--script', probe], flags=['-I'])
        self.assertNotIn(self.dir, view['path'])

    def test_module(self):
        self.script('pkg/__init__.py', '')
        self.script('pkg/probe.py', PROBE)
        view = self.assertSameView(['-m', 'pkg.probe', 'a', '-m', 'z'],
                                   ['-m', 'pkg.probe', 'a', '-m', 'z'], cwd=self.dir)
        self.assertEqual(view['argv'], [os.path.join(self.dir, 'pkg', 'probe.py'),
                                        'a', '-m', 'z'])
        self.assertEqual(view['spec'], 'pkg.probe')
        self.assertEqual(view['package'], 'pkg')
        self.assertEqual(view['path'][0], self.dir)
        done, report = self.run_ok('-m', 'pkg.probe', '--', 'x', cwd=self.dir)
        self.assertEqual(report['program'], {'kind': 'module', 'target': 'pkg.probe',
                                             'args': ['x']})

    def test_folder_and_zip_with_main(self):
        folder = os.path.join(self.dir, 'app')
        self.script('app/__main__.py', PROBE)
        view = self.assertSameView([folder, '1'], ['--script', folder, '1'])
        self.assertEqual(view['path'][0], folder)
        archive = os.path.join(self.dir, 'app.zip')
        with zipfile.ZipFile(archive, 'w') as z:
            z.writestr('__main__.py', PROBE)
        view = self.assertSameView([archive], ['--script', archive])
        self.assertEqual(view['path'][0], archive)

    def test_arguments_after_double_dash(self):
        probe = self.script('probe.py', PROBE)
        for args, expected in [
                (['--', '--threshold', '5', '--gc', 'off', 'x'],
                 ['--threshold', '5', '--gc', 'off', 'x']),
                (['--threshold', '5'], ['--threshold', '5']),
                (['--', '--', 'y'], ['--', 'y']),
                ([], [])]:
            with self.subTest(args=args):
                done, report = self.run_ok('--script', probe, *args)
                self.assertEqual(json.loads(done.stdout)['argv'], [probe] + expected)
                self.assertEqual(report['program']['args'], expected)
                # run.py did not take them for its own options.
                self.assertEqual(report['gc_settings']['threshold'],
                                 report['gc_settings_at_end']['threshold'])
                self.assertTrue(report['gc_settings']['enabled'])
        self.assertNotEqual(report['gc_settings']['threshold'][0], 5)

    def test_program_output_keeps_off_the_report(self):
        noisy = self.script('noisy.py', '''\
            import sys
            print('{"wall_s": 1}')
            print('no newline at the end', end='')
            sys.stdout.flush()
            sys.stderr.write('to stderr\\n')
            ''')
        done, report = self.run_ok('--script', noisy)
        self.assertEqual(done.stdout, '{"wall_s": 1}\nno newline at the end')
        self.assertEqual(done.stderr, 'to stderr\n')
        self.assertEqual(report['exit_status'], 0)
        # Without --result-fd, the report has stdout and the program stderr.
        done = run_py('--script', noisy, result_fd=False)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.count('\n'), 1)
        self.check_program_report(json.loads(done.stdout))
        self.assertIn('{"wall_s": 1}\nno newline at the end', done.stderr)

    def test_threads_joined_and_atexit_inside_the_window(self):
        program = self.script('ends.py', '''\
            import atexit, gc, threading
            go = threading.Event()
            def late():
                go.wait()
                gc.collect()
            threading.Thread(target=late).start()
            atexit.register(gc.collect)
            go.set()
            ''')
        done, report = self.run_ok('--script', program, '--threshold', '0')
        # Both full collections ran before the report was made.
        self.assertEqual(report['gc']['collections'], [0, 0, 2])

    def test_executor_left_running(self):
        # The executor's threads stop at the interpreter's exit, through
        # threading's exit functions: joining them alone would wait forever.
        program = self.script('pool.py', '''\
            from concurrent.futures import ThreadPoolExecutor
            pool = ThreadPoolExecutor(2)
            print(pool.submit(sum, [1, 2]).result())
            ''')
        done, _ = self.run_ok('--script', program)
        self.assertEqual(done.stdout, '3\n')

    def test_forked_child_writes_no_second_report(self):
        program = self.script('forks.py', '''\
            import os, sys
            pid = os.fork()
            if pid == 0:
                sys.exit(0)     # back into run.py, in the child
            os.waitpid(pid, 0)
            print('parent')
            ''')
        done, report = self.run_ok('--script', program)
        self.assertEqual(done.stdout, 'parent\n')


class TestSettings(ProgramTest):
    """GC settings before the program's first line, and programs that
    change them."""

    FIRST_LINE = '''\
        import gc, sys; print(list(gc.get_threshold()), gc.isenabled(), gc.get_freeze_count(), 'email.parser' in sys.modules, sep=';')
        '''

    def first_line(self, *options):
        """Return what the program's first line saw (threshold, enabled,
        frozen, email.parser imported) and the report."""
        program = self.script('first.py', self.FIRST_LINE)
        done, report = self.run_ok(*options, '--script', program)
        threshold, enabled, frozen, parser_imported = done.stdout.strip().split(';')
        return (json.loads(threshold), enabled == 'True', int(frozen),
                parser_imported == 'True'), report

    def test_applied_before_the_first_line(self):
        (threshold, enabled, frozen, _), report = self.first_line(
            '--threshold', '123,4,5', '--gc', 'off')
        self.assertEqual((threshold, enabled), ([123, 4, 5], False))
        self.assertEqual(report['gc_settings'], {
            'threshold': [123, 4, 5], 'enabled': False, 'frozen': frozen,
            'freeze_after_import': []})
        self.assertEqual(report['gc']['collections'], [0, 0, 0])
        self.assertEqual(report['warnings'], [])

        (threshold, enabled, frozen, _), _ = self.first_line('--threshold', '99')
        default = run_python('-c', 'import gc; print(list(gc.get_threshold()))')
        self.assertEqual(threshold, [99] + json.loads(default.stdout)[1:])
        self.assertTrue(enabled)

    def test_freeze_after_import(self):
        # Python 3.12 and later keep immortal objects in the permanent
        # generation too: compare with a run that freezes nothing.
        (_, _, unfrozen, parser_imported), report = self.first_line()
        self.assertFalse(parser_imported)
        self.assertEqual(report['gc_settings']['frozen'], unfrozen)
        (_, _, frozen, parser_imported), report = self.first_line(
            '--freeze-after-import', 'json,email.parser')
        self.assertTrue(parser_imported)
        self.assertGreater(frozen, unfrozen)
        self.assertEqual(report['gc_settings']['frozen'], frozen)
        self.assertEqual(report['gc_settings']['freeze_after_import'],
                         ['json', 'email.parser'])
        # The freeze module is found beside the script, as its imports are.
        self.script('app_state.py', 'STATE = [[i] for i in range(1000)]\n')
        (_, _, frozen_app, _), report = self.first_line(
            '--freeze-after-import', 'app_state')
        self.assertGreater(frozen_app, unfrozen + 1000)

    def test_failing_freeze_import(self):
        self.script('broken_app.py', 'raise RuntimeError("bad config")\n')
        program = self.script('first.py', self.FIRST_LINE)
        done = run_py('--freeze-after-import', 'broken_app', '--script', program)
        self.assertEqual(done.returncode, 1)
        report = done.report()
        self.check_program_report(report)
        self.assertEqual(report['error'], 'importing broken_app '
                         '(--freeze-after-import): exit status 1: RuntimeError: bad config')
        self.assertEqual(done.stdout, '')           # the program never started
        self.assertTrue(done.stderr.endswith('RuntimeError: bad config\n'), done.stderr)

    def test_program_changes_its_settings(self):
        program = self.script('tuner.py', '''\
            import gc
            gc.set_threshold(1234, 5, 6)
            gc.disable()
            ''')
        done, report = self.run_ok('--threshold', '700,10,10', '--script', program)
        self.assertEqual(report['gc_settings']['threshold'], [700, 10, 10])
        end = report['gc_settings_at_end']
        self.assertEqual((end['threshold'], end['enabled']), ([1234, 5, 6], False))
        self.assertEqual(report['exit_status'], 0)
        kinds = {w['kind']: w['message'] for w in report['warnings']}
        self.assertEqual(set(kinds), {'threshold-changed', 'gc-switched'})
        self.assertIn('(1234, 5, 6)', kinds['threshold-changed'])
        self.assertIn('(700, 10, 10)', kinds['threshold-changed'])
        self.assertIn('gc.disable()', kinds['gc-switched'])

    def test_gc_timing_off(self):
        program = self.script('churn.py', 'x = [[i] for i in range(20000)]\n')
        _, timed = self.run_ok('--script', program)
        self.assertGreater(timed['gc']['collections'][0], 0)
        _, untimed = self.run_ok('--gc-timing', 'off', '--script', program, timed=False)
        self.assertIsNone(untimed['gc']['pauses'])
        self.assertEqual(untimed['gc']['collections'], timed['gc']['collections'])

    def test_callbacks_cleared_by_the_program(self):
        program = self.script('clears.py', 'import gc\ngc.callbacks.clear()\n'
                                           'x = [[i] for i in range(5000)]\n')
        done = run_py('--script', program)
        self.assertEqual(done.returncode, 0, done.stderr)
        report = done.report()
        self.assertEqual([w['kind'] for w in report['warnings']], ['callbacks-cleared'])
        self.assertGreater(report['gc']['collections'][0], 0)
        self.assertEqual(report['gc']['pauses']['count'], 0)


class TestForkWorkers(ProgramTest):

    SERVER = '''\
        import gc, os, sys
        print('master', os.environ['RTBENCH_FORK_WORKERS'], flush=True)
        SHARED = [{'n': [i]} for i in range(20000)]
        def worker():
            global MINE         # the worker's own state, kept to the end
            index = int(os.environ['RTBENCH_WORKER_INDEX'])
            MINE = [[i] for i in range(10000 * (index + 1))]
            gc.collect()
            if index == 1 and len(sys.argv) > 1:
                {'raise': lambda: 1 / 0, 'exit': lambda: sys.exit(7),
                 'kill': lambda: os.kill(os.getpid(), 9),
                 'threshold': lambda: gc.set_threshold(5)}[sys.argv[1]]()
            os.write(1, b'worker %d\\n' % index)    # one write: no interleaving
        '''

    def check_workers(self, report, count):
        fork = report['fork_workers']
        self.assertEqual(set(fork), {'count', 'fork_at_s', 'frozen_at_fork',
                                     'gc_settings_at_fork', 'main', 'workers',
                                     'rss_bytes_mean', 'pss_bytes_mean',
                                     'uss_bytes_mean', 'pss_bytes_total'})
        self.assertEqual(fork['count'], count)
        self.assertEqual(len(fork['workers']), count)
        self.assertLessEqual(fork['fork_at_s'], report['wall_s'])
        self.assertEqual(fork['frozen_at_fork'], fork['gc_settings_at_fork']['frozen'])
        self.assertEqual(len({w['pid'] for w in fork['workers']}), count)
        for memory in [fork['main']] + [w['memory'] for w in fork['workers']]:
            if memory is None:
                continue
            self.assertEqual(set(memory), MEMORY_KEYS)
            self.assertGreater(memory['uss_bytes'], 0)
            self.assertLessEqual(memory['uss_bytes'], memory['pss_bytes'])
            self.assertLessEqual(memory['pss_bytes'], memory['rss_bytes'])
            # Shared pages count whole in RSS, in part in PSS.
            self.assertEqual(memory['rss_bytes'],
                             memory['uss_bytes'] + memory['shared_bytes'])
        for index, worker in enumerate(fork['workers']):
            self.assertEqual(set(worker), {'index', 'pid', 'exit_status', 'signal',
                                           'error', 'wall_s', 'peak_rss_bytes',
                                           'memory', 'gc'})
            self.assertEqual(worker['index'], index)
        return fork

    def test_memory_measured_at_the_synchronisation_point(self):
        program = self.script('server.py', self.SERVER)
        done, report = self.run_ok('--fork-workers', '3', '--script', program)
        fork = self.check_workers(report, 3)
        self.assertEqual(sorted(done.stdout.splitlines()),
                         ['master 3', 'worker 0', 'worker 1', 'worker 2'])
        measured = [w['memory'] for w in fork['workers']]
        for key in ('rss_bytes', 'pss_bytes', 'uss_bytes'):
            self.assertEqual(fork[key + '_mean'], sum(m[key] for m in measured) // 3)
        self.assertEqual(fork['pss_bytes_total'],
                         sum(m['pss_bytes'] for m in measured) + fork['main']['pss_bytes'])
        # The workers share the master's pages: each maps more than it owns.
        for memory in measured:
            self.assertGreater(memory['shared_bytes'], 0)
        for worker in fork['workers']:
            self.assertEqual((worker['exit_status'], worker['signal'], worker['error']),
                             (0, None, None))
            self.assertSeconds(worker['wall_s'], 'wall_s')
            self.assertGreaterEqual(worker['peak_rss_bytes'], 0)
            gc_ = worker['gc']
            self.assertGreaterEqual(gc_['collections'][2], 1)    # its gc.collect()
            self.assertEqual(gc_['pauses']['count'], sum(gc_['collections']))
            self.assertEqual([s['count'] for s in gc_['pauses']['by_generation']],
                             gc_['collections'])
            self.assertEqual(set(gc_['pauses']), PAUSE_STAT_KEYS | {'by_generation'})
        # The worker that built more holds more of its own.
        uss = [m['uss_bytes'] for m in measured]
        self.assertLess(uss[0], uss[2])

    def test_freeze_recorded(self):
        self.script('app.py', 'STATE = [{"n": [i]} for i in range(20000)]\n')
        program = self.script('server.py', 'import app\n' + textwrap.dedent(self.SERVER))
        _, plain = self.run_ok('--fork-workers', '2', '--script', program)
        _, frozen = self.run_ok('--fork-workers', '2', '--freeze-after-import', 'app',
                                '--script', program)
        self.assertGreater(self.check_workers(frozen, 2)['frozen_at_fork'],
                           self.check_workers(plain, 2)['frozen_at_fork'] + 40000)
        self.assertEqual(frozen['gc_settings']['freeze_after_import'], ['app'])

    def test_failing_workers(self):
        program = self.script('server.py', self.SERVER)
        for how, error, status, signum in [
                ('raise', 'exit status 1: ZeroDivisionError: division by zero', 1, None),
                ('exit', 'exit status 7', 7, None),
                ('kill', 'killed by signal 9', None, 9)]:
            with self.subTest(how=how):
                done = run_py('--fork-workers', '2', '--script', program, how)
                self.assertEqual(done.returncode, 1, done.stderr)
                report = done.report()
                self.check_program_report(report)
                fork = self.check_workers(report, 2)
                good, bad = fork['workers']
                self.assertEqual((good['exit_status'], good['error']), (0, None))
                self.assertEqual((bad['exit_status'], bad['signal'], bad['error']),
                                 (status, signum, error))
                self.assertEqual(report['exit_status'], 0)   # the master's
                self.assertEqual(report['error'], 'worker 1 (pid %d): %s'
                                 % (bad['pid'], error))
                if how == 'kill':
                    self.assertIsNone(bad['memory'])
                    self.assertEqual(fork['pss_bytes_mean'], good['memory']['pss_bytes'])
                    self.assertIsNone(fork['pss_bytes_total'])
                if how == 'raise':
                    self.assertTrue(done.stderr.endswith('ZeroDivisionError: division by zero\n'))
                    self.assertNotIn('run.py', done.stderr)

    def test_worker_changes_thresholds(self):
        program = self.script('server.py', self.SERVER)
        done, report = self.run_ok('--fork-workers', '2', '--threshold', '700',
                                   '--script', program, 'threshold')
        self.assertEqual(report['fork_workers']['workers'][1]['gc']['threshold'][0], 5)
        self.assertEqual([(w['kind'], w['message'].split(' set ')[0])
                          for w in report['warnings']],
                         [('threshold-changed', 'worker 1')])

    def test_master_failing_forks_no_worker(self):
        program = self.script('server.py', textwrap.dedent(self.SERVER)
                              + 'raise SystemExit(4)\n')
        done = run_py('--fork-workers', '2', '--script', program)
        self.assertEqual(done.returncode, 4)
        report = done.report()
        self.assertIsNone(report['fork_workers'])
        self.assertEqual(report['error'], 'exit status 4')
        self.assertEqual(done.stdout, 'master 2\n')


class TestTwinChannel(SchemaMixin, unittest.TestCase):
    """A twin's report goes on --result-fd as well; stdout stays empty."""

    def test_twin_on_result_fd(self):
        done = run_py('list_append', '--n', '1000', '--rounds', '2')
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout, '')
        report = done.report()
        self.check_report(report)
        self.assertEqual(report['result']['check'], 2000)

    def test_twin_gc_timing_off(self):
        done = run_py('cycle_storm', '--n', '300', '--gc-timing', 'off')
        self.assertEqual(done.returncode, 0, done.stderr)
        report = done.report()
        self.assertIsNone(report['gc']['pauses'])
        self.assertEqual(report['gc']['collections'][2], 1)


if __name__ == '__main__':
    unittest.main()
