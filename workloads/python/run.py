#!/usr/bin/env python3
"""Run one Python twin of an rtbench workload, or any Python program, and
report what it measured.

The CPython side of rtbench's worker (harness/).  Two kinds of run:

    run.py WORKLOAD [--PARAM VALUE ...] [OPTIONS]
    run.py [OPTIONS] [PROGRAM OPTIONS] --script PATH [--] [ARGS...]
    run.py [OPTIONS] [PROGRAM OPTIONS] -m MODULE [--] [ARGS...]
    run.py --list

OPTIONS, for both:
    --threshold T0[,T1[,T2]]  gc.set_threshold before the first line (T0=0:
                              no automatic collection)
    --gc on|off               gc.enable / gc.disable before the first line
    --gc-timing on|off        time every collection through gc.callbacks (on);
                              off reports 'pauses': null
    --result-fd N             write the report on descriptor N (>= 3), not
                              stdout
    --ready-fd N              write 'ready\\n' on descriptor N (>= 3) and close
                              it once the signal handlers are installed and
                              the arguments accepted, just before the run
PROGRAM OPTIONS, for --script and -m only:
    --freeze-after-import MODULE[,MODULE...]
                              import these modules, then gc.freeze(), before
                              the program's first line (a pre-fork server's
                              start-up); the imports are timed with it
    --fork-workers N          after the program's body, fork N workers that
                              each call the program's worker() (below)

-- Twins --------------------------------------------------------------------

A workload module beside this file defines NAME, DESCRIPTION (one line),
PARAMS (parameter name -> default, in order), optionally MINIMUM (parameter
name -> least value accepted, where that is more than 0), and run(params,
ctx), which returns the report's "result" object.  Every run ends with one
full gc.collect(), counted and timed with the workload.  The report is the
same JSON object as the C worker writes (workloads/README.md, "What a run
reports"; results/README.md, SAMPLE).  rtbench's parent reads it on stdout
today; --result-fd N puts it on descriptor N instead.

-- Programs -----------------------------------------------------------------

--script PATH runs the program as `python PATH ARGS` would, -m MODULE as
`python -m MODULE ARGS` would: sys.argv (PATH as given, or the module's
file), a fresh __main__ module (__file__ absolute), sys.path[0] the
script's real folder (the current folder for -m; none when the interpreter
runs isolated, -I or -P), a directory or zip file with a __main__.py, the
program's sys.excepthook for an uncaught exception, its non-daemon threads
joined and its atexit functions run.  run.py's options come before
--script/-m; everything after PATH or MODULE (an optional first '--'
dropped) is the program's.  The environment variable RTBENCH_FORK_WORKERS
is set to N under --fork-workers, so that a program can tell.

The measured window starts after run.py's own preparation (the program
read and compiled, the settings applied, a clean-up collection that is not
counted) and covers the --freeze-after-import imports, the program's body,
the forked workers (to their synchronisation point), the joining of its
non-daemon threads and its atexit functions.  No gc.collect() is added: a
program is measured as it runs.

The report has every field a twin's has ('result' null, 'marks' empty;
'cpu_s' the main process's CPU time in the window, its workers' not
counted; the parent adds user and system time and the RSS timeline),
'gc.pauses' has
'by_generation' (three summaries, generation 0 to 2), and:

    "program":  {"kind": "script"|"module", "target": PATH|MODULE, "args": [..]}
    "exit_status": 0            the status `python PATH` would exit with: 0;
                                N for sys.exit(N) (mod 256); 1 for an uncaught
                                exception or sys.exit("message")
    "error": null               or one line: "exit status 3", "exit status 1:
                                ValueError: boom", "worker 1 (pid 42): ..."
    "gc_settings":        {"threshold": [T0, T1, T2], "enabled": true,
                           "frozen": N, "freeze_after_import": [..]}
                                as the program's first line found them
    "gc_settings_at_end": {"threshold": [..], "enabled": .., "frozen": N}
    "warnings": [{"kind": KIND, "message": "one line"}]
                                KIND: "threshold-changed" or "gc-switched"
                                (the program, or a worker, changed the
                                settings itself: the settings at the end are
                                compared with those at the first line, or at
                                the fork), "callbacks-cleared" (the program
                                removed run.py's timing callback), "no-smaps"
                                (a worker's PSS could not be read)
    "fork_workers": null        or, under --fork-workers, see below

The program's own output never mixes with the report: with --result-fd N
the report goes to N (which run.py moves to a private close-on-exec
descriptor before the program starts) and the program keeps stdout; without
it, the report goes to stdout and the program's stdout is sent to stderr.
The program's stderr is its own: a traceback is printed there as Python
prints it (run.py's frames left out), and the reader keeps its tail.

-- Fork workers -------------------------------------------------------------

As a pre-fork server (gunicorn with a preloaded app, uWSGI, a Celery
prefork pool): the program's body is the master's start-up, and the program
defines a function worker(), the serve loop of one worker.  Under
--fork-workers N, once the body has returned (or called sys.exit(0)),
run.py forks N workers (the master's threads are joined after, at its
exit); each sets
RTBENCH_WORKER_INDEX (0..N-1) in its environment and calls worker().  When
worker() returns (or raises, or calls sys.exit), the worker reports its
time, exit status and collector statistics to the main process on a pipe
and waits.  Once every worker has reported or died -- the synchronisation
point, all of them alive and done -- the main process reads each worker's
/proc/PID/smaps_rollup (and its own), then releases them and reaps them.
With --freeze-after-import, what the freeze kept out of the workers'
collections shows as pages still shared: lower PSS and USS.

    "fork_workers": {
      "count": N, "fork_at_s": 0.4,     seconds from the window's start
      "frozen_at_fork": 123456,         gc.get_freeze_count() when forking
      "gc_settings_at_fork": {"threshold": [..], "enabled": .., "frozen": ..},
      "main": MEMORY,                   the main process at the sync point
      "workers": [{"index": 0, "pid": 42, "exit_status": 0, "signal": null,
                   "error": null, "wall_s": 0.3, "peak_rss_bytes": ..,
                   "memory": MEMORY,
                   "gc": {"collections": [..], "collected": [..],
                          "uncollectable": [..], "pauses": PAUSES or null,
                          "threshold": [..], "enabled": true}}, ...],
      "rss_bytes_mean": .., "pss_bytes_mean": .., "uss_bytes_mean": ..,
                                        means over the workers
      "pss_bytes_total": ..             the main process and every worker:
                                        the whole server's memory (null when
                                        one of them could not be read)
    }
    MEMORY: {"rss_bytes", "pss_bytes", "uss_bytes" (Private_Clean +
             Private_Dirty), "shared_bytes", "pss_anon_bytes"} or null
    PAUSES: a pause summary without the per-pause lists, with by_generation

A worker that fails makes the sample fail: 'error' names it and run.py's
status is 1 when the main process itself exited 0.

-- Exit statuses and the result channel -------------------------------------

    0, or the program's status   the report was written (for a program, its
                                 'exit_status'; non-zero with 'error' set)
    2, nothing written           a bad argument, a missing script or module,
                                 or --fork-workers with no worker(): one line
                                 on stderr, "run.py: ..."
    130, nothing written         SIGINT or SIGTERM (workers are killed too),
                                 one line on stderr
    1, nothing written           the program could not start (a syntax
                                 error: Python's message on stderr)
    any, nothing written         the program left through os._exit, or
                                 run.py was killed

A program may exit 2 itself: the report tells the two apart.  A program
that installs its own SIGINT or SIGTERM handlers takes those signals over.
A reader that kills run.py with SIGKILL (a timeout) kills its forked
workers too only by killing its process group: start run.py in a process
group of its own and kill the group.

-- Measuring must not disturb what is measured -------------------------------

From the collection that starts the run to the end of the workload or
program, the driver keeps no GC-tracked object of its own (ctx.mark()
stores only strs, floats and ints; the timing callback only floats and
ints), so the run starts with every generation's count at 0 and the
collector counts the workload's objects.

-- The code --------------------------------------------------------------------

This file starts the clock, makes the path and handles the signals; the
parts are in the package _rtbench_run beside it (its __init__ says which
part does what, and why a package).
"""

from time import monotonic
_EXEC_MONOTONIC = monotonic()   # as early as can be: the exec that made us

import json
import os
import signal
import sys

# The twins and run.py's package sit beside this file, whatever the current
# directory or the interpreter's path options (-I, -P).  A program run with
# --script or -m gets the path the interpreter made instead (_PATH_AT_START).
_HERE = os.path.dirname(os.path.abspath(__file__))
_PATH_AT_START = list(sys.path)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from _rtbench_run import fork                                   # noqa: E402
from _rtbench_run.cli import (EXIT_FAILED, EXIT_INTERRUPTED,    # noqa: E402
                              EXIT_USAGE, USAGE, UsageError,
                              describe_workloads)
from _rtbench_run.measure import measure                        # noqa: E402
from _rtbench_run.program import measure_program, prepare       # noqa: E402


def _interrupted(signum, frame):
    # Nothing has been written on the result channel yet (the report is
    # written in one piece at the end, with these signals blocked), so leave
    # at once: no partial JSON, no traceback, no cleanup that could run the
    # workload on.  Forked workers go first.
    for pid in fork.WORKER_PIDS:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass
    os.write(2, b'run.py: interrupted\n')
    os._exit(EXIT_INTERRUPTED)


def write_report(text, fd=None):
    """Write text whole, on descriptor fd or stdout: SIGINT and SIGTERM
    wait until it is out."""
    signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGINT, signal.SIGTERM))
    if fd is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        fork.write_all(fd, text.encode())
        os.close(fd)


def announce_ready(fd):
    """Say on descriptor fd that the run is about to start, and close it."""
    if fd is not None:
        try:
            fork.write_all(fd, b'ready\n')
        finally:
            os.close(fd)


def main(argv=None):
    signal.signal(signal.SIGINT, _interrupted)
    signal.signal(signal.SIGTERM, _interrupted)
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] in ('-h', '--help'):
        print(USAGE)
        return 0
    try:
        command, program = prepare(argv, _PATH_AT_START)
    except UsageError as error:
        sys.stderr.write('run.py: %s\n' % error)
        return EXIT_USAGE
    if command is None:
        return EXIT_FAILED              # the program cannot start

    result_fd = command.result_fd
    if result_fd is not None:
        # A private close-on-exec copy: the program's children do not
        # inherit it, and the program's own descriptor 3 is free.
        result_fd = os.dup(command.result_fd)
        os.close(command.result_fd)
    elif program is not None:
        result_fd = os.dup(1)           # the report keeps stdout;
        os.dup2(2, 1)                   # the program's output goes to stderr
    announce_ready(command.ready_fd)

    if command.mode == 'list':
        report = describe_workloads()
        status = 0
    elif command.mode == 'twin':
        report = measure(command, _EXEC_MONOTONIC)
        status = 0
    else:
        try:
            report = measure_program(command, program, _EXEC_MONOTONIC)
        except UsageError as error:
            sys.stderr.write('run.py: %s\n' % error)
            return EXIT_USAGE
        status = report['exit_status']
        if status == 0 and report['error'] is not None:
            status = EXIT_FAILED        # a worker failed
    write_report(json.dumps(report) + '\n', result_fd)
    return status


if __name__ == '__main__':
    sys.exit(main())
