"""A program instead of a twin: --script PATH or -m MODULE, prepared as
`python PATH` or `python -m MODULE` would start it, then run and measured
(run.py's docstring, "Programs").
"""
import gc
import importlib
import importlib.util
import os
import sys
from time import monotonic, perf_counter, process_time

from .cli import EXIT_FAILED, UsageError, parse_args
from .fork import fork_warnings, fork_workers, worker_error
from .interp import (call_program, flush_stdio, leave_if_forked, raise_again,
                     run_atexit, shutdown_threads)
from .measure import (PauseLog, apply_settings, clean_start, counted_region,
                      gc_settings, pauses_by_generation, read_rss, read_stats,
                      sample_report, settings_warnings, stats_delta,
                      summarize_pauses)

# run.py's folder: sys.path[0] when the interpreter ran run.py (not -I, -P).
TWINS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Program:
    """A program ready to run: its __main__ module and how to start it."""

    __slots__ = ('kind', 'target', 'argv', 'main', 'code', 'path0', 'run_module')

    def __init__(self, kind, target):
        self.kind = kind        # 'script', 'module', or 'main-dir' (a folder
                                # or zip file with a __main__.py)
        self.target = target
        self.argv = None        # sys.argv as the program starts
        self.main = type(sys)('__main__')
        self.code = None        # the compiled script ('script' only)
        self.path0 = None       # sys.path[0] as `python` would set it
        self.run_module = None  # runpy's, imported before the run

    def run(self):
        """Run the program's body in its __main__ module."""
        if self.kind == 'script':
            exec(self.code, self.main.__dict__)
        elif self.kind == 'module':
            self.run_module(self.target, True)
        else:
            self.run_module('__main__', False)


def load_script(path):
    """Return the code object of the script at path, or raise UsageError.

    A SyntaxError propagates: the program cannot start.
    """
    try:
        with open(path, 'rb') as f:
            source = f.read()
    except OSError as error:
        raise UsageError('cannot open script %r: %s (give the path of a '
                         'Python file, or of a folder or zip file with a '
                         '__main__.py)' % (path, error.strerror or error))
    if source[:4] == importlib.util.MAGIC_NUMBER:   # a .pyc file
        import marshal
        try:
            return marshal.loads(source[16:])
        except (EOFError, ValueError, TypeError):
            raise UsageError('cannot load %r: a damaged .pyc file (give the '
                             'source file)' % path)
    try:
        return compile(source, main_file(path), 'exec', dont_inherit=True)
    except ValueError as error:     # null bytes: a SyntaxError from 3.12 on
        raise SyntaxError(str(error)) from None


def main_file(path):
    """__main__.__file__ of a script: absolute since Python 3.9."""
    return os.path.abspath(path) if sys.version_info >= (3, 9) else path


def has_main(path):
    """Whether a folder or zip file at path holds a __main__ module."""
    if os.path.isdir(path):
        return any(os.path.isfile(os.path.join(path, name))
                   for name in ('__main__.py', '__main__.pyc'))
    import zipfile
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return None             # not a zip file: a script
    return '__main__.py' in names or '__main__.pyc' in names


def prepare_program(command, path_at_start):
    """Return the Program of a --script or -m command, or raise UsageError.

    Reads and compiles a script (a SyntaxError propagates), checks that a
    module can be found, and works out sys.argv and sys.path[0] from
    path_at_start, sys.path as the interpreter made it for run.py.
    """
    target = command.target
    # The interpreter's path: sys.path[0] was run.py's folder unless the
    # interpreter ran isolated (-I, -P), in which case there is no slot.
    path = list(path_at_start)
    own_slot = bool(path) and os.path.realpath(path[0] or '.') == os.path.realpath(TWINS_DIR)
    if command.mode == 'module':
        program = Program('module', target)
        program.argv = ['-m'] + command.args      # runpy puts the file in [0]
        program.path0 = os.getcwd()
        top = target.split('.')[0]
        if not all(part.isidentifier() for part in target.split('.')):
            raise UsageError('-m expects a module name (pkg.module), got %r' % target)
        sys.path[:] = [program.path0] + path[1:] if own_slot else path
        if importlib.util.find_spec(top) is None:
            raise UsageError('no module named %r on the path %s (run from the '
                             'folder that holds it, or give --script PATH)'
                             % (top, sys.path[:3] + ['...']))
    else:
        if not os.path.exists(target):
            raise UsageError('cannot open script %r: No such file or directory '
                             '(give the path of a Python file, or of a folder or '
                             'zip file with a __main__.py)' % target)
        holds_main = has_main(target)
        if holds_main is None:
            program = Program('script', target)
            program.code = load_script(target)
            program.path0 = os.path.dirname(os.path.realpath(target))
            program.main.__file__ = main_file(target)
            program.main.__cached__ = None
            from importlib import machinery
            loader = (machinery.SourcelessFileLoader
                      if target.endswith('.pyc') else machinery.SourceFileLoader)
            program.main.__loader__ = loader('__main__', program.main.__file__)
        elif holds_main:
            program = Program('main-dir', target)
            program.path0 = os.path.abspath(target)
            if not own_slot:            # runpy finds __main__ on sys.path[0]
                path.insert(0, program.path0)
                own_slot = True
        else:
            raise UsageError("cannot run %r: no '__main__' module in it (give "
                             "the path of a Python file, or of a folder or zip "
                             "file with a __main__.py)" % target)
        program.argv = [target] + command.args
        if own_slot:
            path[0] = program.path0
        sys.path[:] = path
    for name in command.freeze:
        if importlib.util.find_spec(name.split('.')[0]) is None:
            raise UsageError('--freeze-after-import: no module named %r on the '
                             "program's path" % name.split('.')[0])
    if program.kind != 'script':
        import runpy            # what `python -m` itself calls:
        program.run_module = runpy._run_module_as_main
    import builtins
    program.main.__builtins__ = builtins
    return program


def prepare(argv, path_at_start):
    """Parse argv (without the program name) and prepare its program, if
    any; return (command, program or None).  A bad argument raises
    UsageError.  A program that does not compile gets Python's message on
    stderr, as Python prints it, and (None, None): it cannot start."""
    command = parse_args(argv)
    if command.mode not in ('script', 'module'):
        return command, None
    try:
        return command, prepare_program(command, path_at_start)
    except SyntaxError:
        call_program(raise_again)       # every frame is this package's: none shown
        return None, None


def start_program(command, program, first, pauses, start):
    """Import and freeze as asked (the frozen count goes in first), run
    the program's body, fork its workers; return (exit_status, error,
    fork_workers or None)."""
    for name in command.freeze:
        status, error = call_program(importlib.import_module, name)
        if status or error:
            return (status or EXIT_FAILED,
                    'importing %s (--freeze-after-import): %s'
                    % (name, error or 'sys.exit(0)'), None)
    if command.freeze:
        gc.freeze()
        first['frozen'] = gc.get_freeze_count()
    status, error = call_program(program.run)
    if status or not command.fork_workers:
        return status, error, None
    if not callable(program.main.__dict__.get('worker')):
        raise UsageError(
            '--fork-workers %d: %s defines no worker() to call in each worker '
            '(define def worker(): ..., the serve loop of one worker)'
            % (command.fork_workers, program.target))
    fork = fork_workers(program, command.fork_workers, pauses, start)
    return status, worker_error(fork), fork


def measure_program(command, program, exec_monotonic):
    """Run the program once under the given collector settings; return the
    report (exec_monotonic: sample_report's)."""
    page_size = os.sysconf('SC_PAGE_SIZE')
    pauses = PauseLog()
    callback = pauses.callback
    region = counted_region()   # instructions, when the harness counts them
    before = [0] * 9
    after = [0] * 9
    pid = os.getpid()

    sys.modules['__main__'] = program.main
    sys.argv[:] = program.argv
    if command.fork_workers:
        os.environ['RTBENCH_FORK_WORKERS'] = str(command.fork_workers)
    apply_settings(command.threshold, command.gc_enabled)
    first = gc_settings()
    first['freeze_after_import'] = list(command.freeze)
    rss_at_start = clean_start(before, page_size)
    if command.gc_timing:
        gc.callbacks.append(callback)

    t0_monotonic = monotonic()
    if region:
        region.start()
    cpu0 = process_time()
    start = perf_counter()
    status, error, fork = start_program(command, program, first, pauses, start)
    leave_if_forked(pid, status)
    shutdown_threads()
    run_atexit()
    flush_stdio()
    wall_s = perf_counter() - start
    cpu_s = process_time() - cpu0
    instructions = region.end() if region else -1

    warnings = []
    timed = callback in gc.callbacks
    if timed:
        gc.callbacks.remove(callback)
    elif command.gc_timing:
        warnings.append({'kind': 'callbacks-cleared', 'message': (
            "the program removed run.py's gc.callbacks entry: the pauses "
            "after that were not timed")})
    read_stats(after)
    final_rss = read_rss(page_size)

    gc_report = stats_delta(before, after)
    gc_report['pauses'] = None
    if command.gc_timing:
        gc_report['pauses'] = summarize_pauses(
            pauses.seconds, pauses.generation, [t - start for t in pauses.starts])
        gc_report['pauses']['by_generation'] = pauses_by_generation(
            pauses.seconds, pauses.generation)
    end = gc_settings()
    warnings += settings_warnings(first, end)
    if fork is not None:
        warnings += fork_warnings(fork)
    report = sample_report(wall_s, cpu_s, None, [], gc_report, t0_monotonic,
                           final_rss, rss_at_start, exec_monotonic)
    if instructions >= 0:
        report['instructions'] = instructions
    report.update({
        'program': {'kind': 'module' if command.mode == 'module' else 'script',
                    'target': command.target, 'args': list(command.args)},
        'exit_status': status,
        'error': error,
        'gc_settings': first,
        'gc_settings_at_end': end,
        'warnings': warnings,
        'fork_workers': fork,
    })
    return report
