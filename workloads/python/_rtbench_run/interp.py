"""Running code as the interpreter runs a program: its exit status, its
traceback (run.py's own frames left out), its non-daemon threads joined
and its atexit functions run at the end, its standard streams flushed.
"""
import atexit
import os
import sys

from .cli import EXIT_FAILED

_PACKAGE = __name__.partition('.')[0]


def own_frame(frame):
    """Whether frame runs run.py's code (this package's): left out of a
    program's traceback."""
    return frame.f_globals.get('__name__', '').partition('.')[0] == _PACKAGE


def call_program(function, *args):
    """Call function(*args) as the interpreter runs a program; return
    (exit_status, error) where error is None or one line.

    An uncaught exception goes to sys.excepthook with run.py's frames left
    out, and is status 1; sys.exit(code) as Python handles it.
    """
    try:
        function(*args)
        return 0, None
    except SystemExit as exit_:
        code = exit_.code
        if code is None:
            return 0, None
        if isinstance(code, int):
            status = code & 0xff
            return status, ('exit status %d' % status) if status else None
        text = str(code)
        try:
            sys.stderr.write(text + '\n')
        except Exception:
            pass
        return EXIT_FAILED, 'exit status 1: %s' % first_line(text)
    except BaseException as error:      # KeyboardInterrupt included
        tb = error.__traceback__
        while tb is not None and own_frame(tb.tb_frame):
            tb = tb.tb_next
        error.__traceback__ = tb        # Python prints the exception's own
        try:
            sys.excepthook(type(error), error, tb)
        except Exception:
            pass
        import traceback
        line = traceback.format_exception_only(type(error), error)[-1]
        return EXIT_FAILED, 'exit status 1: %s' % first_line(line)


def raise_again():
    """Re-raise the exception being handled (for call_program)."""
    raise                       # noqa: PLE0704


def leave_if_forked(pid, status):
    """In a process the program forked that came back into run.py (its
    body or worker() returned there), exit as `python` would: never write
    a second report."""
    if os.getpid() != pid:
        run_atexit()
        flush_stdio()
        os._exit(status)


def first_line(text):
    """The first non-empty line of text, ' ...' marking what was left."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return '(no message)'
    line = lines[0].strip()
    if len(line) > 400:
        line = line[:400] + ' ...'
    elif len(lines) > 1:
        line += ' ...'
    return line


def shutdown_threads():
    """Wait for the program's non-daemon threads as the interpreter does
    before it exits: threading's own exit functions first (they stop a
    concurrent.futures executor's threads), then the joins."""
    threading = sys.modules.get('threading')
    if threading is None:
        return
    shutdown = getattr(threading, '_shutdown', None)
    if shutdown is not None:    # what the interpreter calls; once only
        shutdown()
        return
    current = threading.current_thread()    # pragma: no cover (no such CPython)
    for thread in threading.enumerate():
        if thread is not current and not thread.daemon:
            thread.join()


def run_atexit():
    """Run the program's atexit functions now, inside the measured window
    (atexit forgets them once run)."""
    try:
        atexit._run_exitfuncs()
    except BaseException:       # 3.8 re-raises the last error; it is logged
        pass


def flush_stdio():
    """Flush sys.stdout and sys.stderr, whatever the program made of them."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
