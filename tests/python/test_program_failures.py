"""Tests of run.py measuring a program that fails: exceptions and exit
statuses, interruptions (after run.py's readiness signal, never after a
sleep), and every usage error.  The programs that run to their end, the GC
settings and the forked workers: test_programs.py.

Run from the repository root:

    python3 -m unittest discover -s tests/python
"""

import os
import signal
import subprocess
import sys
import tempfile
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_twins import RUN, TIMEOUT   # noqa: E402  (the path above)
from test_programs import ProgramTest, run_py, run_python   # noqa: E402


class TestFailures(ProgramTest):
    """A failing program is a failed sample, never a silent zero."""

    def test_raises(self):
        program = self.script('raises.py', '''\
            import sys
            print('working')
            sys.stderr.write('about to fail\\n')
            def handler():
                raise ValueError('boom')
            handler()
            ''')
        done = run_py('--script', program)
        self.assertEqual(done.returncode, 1)
        report = done.report()
        self.check_program_report(report)
        self.assertEqual(report['exit_status'], 1)
        self.assertEqual(report['error'], 'exit status 1: ValueError: boom')
        self.assertEqual(done.stdout, 'working\n')
        # The stderr tail is the program's, traceback and all, as Python
        # prints it: no frame of run.py's.
        direct = run_python(program)
        self.assertEqual(direct.returncode, 1)
        self.assertEqual(done.stderr, direct.stderr)
        self.assertTrue(done.stderr.endswith('ValueError: boom\n'))
        self.assertNotIn('run.py', done.stderr)

    def test_exit_statuses(self):
        program = self.script('exits.py', '''\
            import sys
            code = sys.argv[1]
            sys.exit(None if code == 'None' else int(code) if code.lstrip('-').isdigit() else code)
            ''')
        for code, status, error in [
                ('3', 3, 'exit status 3'),
                ('0', 0, None),
                ('None', 0, None),
                ('256', 0, None),
                ('-1', 255, 'exit status 255'),
                ('2', 2, 'exit status 2'),
                ('bye now', 1, 'exit status 1: bye now')]:
            with self.subTest(code=code):
                done = run_py('--script', program, code)
                self.assertEqual(done.returncode, status, done.stderr)
                report = done.report()
                self.check_program_report(report)
                self.assertEqual((report['exit_status'], report['error']), (status, error))
                self.assertEqual(done.stderr, 'bye now\n' if status == 1 else '')

    def test_keyboard_interrupt_raised_by_the_program(self):
        program = self.script('ki.py', 'raise KeyboardInterrupt\n')
        done = run_py('--script', program)
        self.assertEqual(done.returncode, 1)
        self.assertEqual(done.report()['error'], 'exit status 1: KeyboardInterrupt')

    def test_syntax_error(self):
        program = self.script('bad.py', 'x = 1\ndef (:\n')
        done = run_py('--script', program)
        self.assertEqual(done.returncode, 1)
        self.assertEqual(done.result, '')
        self.assertEqual(done.stderr, run_python(program).stderr)
        self.assertIn('SyntaxError', done.stderr)
        # Null bytes: a ValueError from compile() before Python 3.12.
        nul = os.path.join(self.dir, 'nul.py')
        with open(nul, 'wb') as f:
            f.write(b'x = 1\0\n')
        done = run_py('--script', nul)
        self.assertEqual((done.returncode, done.result), (1, ''))
        self.assertTrue(done.stderr.startswith('SyntaxError: '), done.stderr)
        self.assertIn('null bytes', done.stderr)


class TestInterruptions(ProgramTest):
    """A program that never ends: SIGTERM or SIGINT ends run.py at once
    with status 130, nothing on the result channel, its workers killed."""

    def start(self, *args):
        """Start run.py with a readiness descriptor; return (process,
        result file) once run.py said it is ready."""
        result = tempfile.TemporaryFile()
        self.addCleanup(result.close)
        read_fd, write_fd = os.pipe()
        try:
            process = subprocess.Popen(
                [sys.executable, RUN, '--result-fd', str(result.fileno()),
                 '--ready-fd', str(write_fd), *args],
                pass_fds=(result.fileno(), write_fd), stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, start_new_session=True)
        finally:
            os.close(write_fd)
        self.addCleanup(self.stop, process)
        with os.fdopen(read_fd, 'rb') as ready:
            self.assertEqual(ready.read(), b'ready\n')
        return process, result

    def stop(self, process):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()

    def assertInterrupted(self, process, result):
        stdout, stderr = process.communicate(timeout=TIMEOUT)
        self.assertEqual(process.returncode, 130, stderr)
        self.assertEqual(stderr, 'run.py: interrupted\n')
        result.seek(0)
        self.assertEqual(result.read(), b'')

    def test_sigterm_and_sigint(self):
        program = self.script('forever.py', '''\
            print('looping', flush=True)
            while True:
                pass
            ''')
        for signum in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(signal=signum):
                process, result = self.start('--script', program)
                self.assertEqual(process.stdout.readline(), 'looping\n')
                process.send_signal(signum)
                self.assertInterrupted(process, result)

    def test_workers_killed_too(self):
        program = self.script('server.py', '''\
            import os
            def worker():
                os.write(1, b'%d\\n' % os.getpid())
                while True:
                    pass
            ''')
        process, result = self.start('--fork-workers', '2', '--script', program)
        pids = [int(process.stdout.readline()) for _ in range(2)]
        process.send_signal(signal.SIGTERM)
        self.assertInterrupted(process, result)
        for pid in pids:        # reaped by run.py before it left
            with self.assertRaises(ProcessLookupError):
                os.kill(pid, 0)


class TestUsageErrors(ProgramTest):
    """One line on stderr, status 2, nothing on stdout or the result channel."""

    def assertUsageError(self, *args, mentions, cwd=None):
        done = run_py(*args, cwd=cwd)
        self.assertEqual(done.returncode, 2, (args, done.stderr))
        self.assertEqual(done.result, '')
        self.assertEqual(done.stdout, '')
        self.assertEqual(done.stderr.count('\n'), 1, done.stderr)
        self.assertTrue(done.stderr.startswith('run.py: '), done.stderr)
        for word in mentions:
            self.assertIn(word, done.stderr)

    def test_missing_script_or_module(self):
        missing = os.path.join(self.dir, 'nowhere.py')
        self.assertUsageError('--script', missing, mentions=[missing, 'No such file'])
        self.assertUsageError('-m', 'no_such_module_here', mentions=['no_such_module_here'],
                              cwd=self.dir)
        os.mkdir(os.path.join(self.dir, 'empty'))
        self.assertUsageError('--script', os.path.join(self.dir, 'empty'),
                              mentions=['__main__'])
        archive = os.path.join(self.dir, 'empty.zip')
        with zipfile.ZipFile(archive, 'w') as z:
            z.writestr('other.py', '')
        self.assertUsageError('--script', archive, mentions=['__main__'])
        program = self.script('ok.py', '')
        self.assertUsageError('--freeze-after-import', 'json,no_such_app', '--script',
                              program, mentions=['no_such_app'])

    def test_no_worker_defined(self):
        program = self.script('plain.py', 'x = 1\n')
        self.assertUsageError('--fork-workers', '2', '--script', program,
                              mentions=['worker()', program])

    def test_bad_options(self):
        program = self.script('ok.py', '')
        for args, mentions in [
                (['--script'], ['--script', 'path']),
                (['-m'], ['-m', 'module']),
                (['--script='], ['--script']),
                (['-m', 'a b'], ['-m', 'a b']),
                (['list_append', '--script', program], ['list_append', 'one']),
                (['--fork-workers', '0', '--script', program], ['--fork-workers', '>= 1']),
                (['--fork-workers', 'many', '--script', program], ['--fork-workers']),
                (['--fork-workers', '2', 'list_append'], ['--fork-workers', 'list_append']),
                (['--freeze-after-import', 'json', 'list_append'],
                 ['--freeze-after-import']),
                (['--freeze-after-import', 'json,,os', '--script', program],
                 ['--freeze-after-import']),
                (['--freeze-after-import', '', '--script', program],
                 ['--freeze-after-import']),
                (['--threshold', '1,x', '--script', program], ['--threshold']),
                (['--gc', 'maybe', '--script', program], ['--gc', 'on', 'off']),
                (['--gc-timing', 'yes', '--script', program], ['--gc-timing']),
                (['--bogus', '1', '--script', program], ['--bogus', '--fork-workers']),
                (['--ready-fd', '1', '--script', program], ['--ready-fd', '>= 3']),
                (['--ready-fd', '999999', '--script', program], ['999999', 'not open'])]:
            with self.subTest(args=args):
                self.assertUsageError(*args, mentions=mentions)

    def test_result_fd(self):
        program = self.script('ok.py', '')
        for value, mentions in [('2', ['>= 3']), ('999999', ['not open'])]:
            with self.subTest(value=value):
                done = run_py('--result-fd', value, '--script', program, result_fd=False)
                self.assertEqual(done.returncode, 2)
                self.assertEqual(done.stdout, '')
                self.assertEqual(done.stderr.count('\n'), 1)
                for word in mentions:
                    self.assertIn(word, done.stderr)
        with tempfile.TemporaryFile() as f:
            fd = str(f.fileno())
            done = subprocess.run([sys.executable, RUN, '--result-fd', fd, '--ready-fd', fd,
                                   '--script', program], pass_fds=(f.fileno(),),
                                  capture_output=True, text=True, timeout=TIMEOUT)
            self.assertEqual(done.returncode, 2)
            self.assertIn('two descriptors', done.stderr)
            f.seek(0)
            self.assertEqual(f.read(), b'')


if __name__ == '__main__':
    unittest.main()
