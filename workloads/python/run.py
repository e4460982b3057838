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
"""

from time import monotonic
_EXEC_MONOTONIC = monotonic()   # as early as can be: the exec that made us

import atexit
import gc
import importlib
import importlib.util
import json
import os
import signal
import sys
from time import perf_counter, process_time

WORKLOADS = (
    'list_append', 'dict_churn', 'cycle_storm', 'binary_trees',
    'long_lived', 'fragmentation', 'gc_collect', 'gc_traversal', 'shared_refs',
)

MAX_PARAM = 2**63 - 1           # parameters are int64 on the C side
MAX_THRESHOLD = 2**31 - 1       # gc.set_threshold takes C ints
MAX_PAUSE_SAMPLES = 20000       # pauses kept in 'seconds' / 'generation'
MAX_WORKERS = 1024
MAX_FD = 2**31 - 1
PERCENTILES = (50, 90, 99)

USAGE = ('usage: run.py WORKLOAD [--PARAM VALUE ...] [OPTIONS]\n'
         '       run.py [OPTIONS] [--freeze-after-import MODULE,...] '
         '[--fork-workers N]\n'
         '              (--script PATH | -m MODULE) [--] [ARGS...]\n'
         '       run.py --list\n'
         'OPTIONS: --threshold T0[,T1[,T2]] --gc on|off --gc-timing on|off '
         '--result-fd N --ready-fd N')
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_FAILED = 1

OPTIONS = ('--threshold', '--gc', '--gc-timing', '--result-fd', '--ready-fd')
PROGRAM_OPTIONS = ('--freeze-after-import', '--fork-workers')

# Workload modules sit beside this file, whatever the current directory or
# the interpreter's path options (-I, -P).  A program run with --script or
# -m gets the path the interpreter made instead (_PATH_AT_START).
_HERE = os.path.dirname(os.path.abspath(__file__))
_PATH_AT_START = list(sys.path)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

_WORKER_PIDS = []               # forked workers still to reap (signal handler)


class UsageError(Exception):
    """A bad command line; the message says what was wrong and what is accepted."""


class Command:
    """What the command line asks for."""

    __slots__ = ('mode', 'module', 'params', 'threshold', 'gc_enabled',
                 'gc_timing', 'result_fd', 'ready_fd', 'target', 'args',
                 'freeze', 'fork_workers')

    def __init__(self, mode):
        self.mode = mode        # 'list', 'twin', 'script' or 'module'
        self.module = None      # the workload module (twin)
        self.params = None
        self.threshold = None   # None, or [T0, T1, T2] (None keeps one)
        self.gc_enabled = True
        self.gc_timing = True
        self.result_fd = None
        self.ready_fd = None
        self.target = None      # the script's path or the module's name
        self.args = []          # the program's arguments
        self.freeze = []        # --freeze-after-import
        self.fork_workers = 0


# -- the command line --------------------------------------------------------

def load_workload(name):
    """Import and return the module of workload name."""
    if name not in WORKLOADS:
        raise UsageError('unknown workload %r (expected one of: %s; or '
                         '--script PATH, -m MODULE)'
                         % (name, ', '.join(WORKLOADS)))
    return importlib.import_module(name)


def parse_count(option, text, maximum, minimum=0):
    """Return text as an int in [minimum, maximum], or raise UsageError."""
    digits = text[1:] if text[:1] == '-' else text
    if not (digits.isascii() and digits.isdigit()):
        raise UsageError('%s expects an integer >= %d, got %r'
                         % (option, minimum, text))
    value = int(text)
    if value < minimum:
        raise UsageError('%s must be an integer >= %d, got %s'
                         % (option, minimum, text))
    if value > maximum:
        raise UsageError('%s must be an integer <= %d, got %s'
                         % (option, maximum, text))
    return value


def parse_threshold(text):
    """Return [T0, T1, T2] from 'T0[,T1[,T2]]'; None keeps a threshold."""
    parts = text.split(',')
    if not 1 <= len(parts) <= 3 or not all(
            part.isascii() and part.isdigit() for part in parts):
        raise UsageError('--threshold expects T0[,T1[,T2]] with integers '
                         '>= 0 (T0=0 disables automatic collection), got %r'
                         % text)
    values = [parse_count('--threshold', part, MAX_THRESHOLD) for part in parts]
    return values + [None] * (3 - len(values))


def parse_switch(option, text):
    """Return True for 'on', False for 'off', or raise UsageError."""
    if text not in ('on', 'off'):
        raise UsageError('%s expects on or off, got %r' % (option, text))
    return text == 'on'


def parse_fd(option, text):
    """Return text as an open descriptor >= 3, or raise UsageError."""
    fd = parse_count(option, text, MAX_FD, 3)
    try:
        os.fstat(fd)
    except OSError:
        raise UsageError('%s %d: descriptor %d is not open (open it for '
                         'writing in the process that starts run.py)'
                         % (option, fd, fd))
    return fd


def parse_modules(text):
    """Return the module names of --freeze-after-import's 'A,B.C'."""
    names = text.split(',')
    for name in names:
        if not all(part.isidentifier() for part in name.split('.')):
            raise UsageError('--freeze-after-import expects module names '
                             'separated by commas (json,email.parser), got %r'
                             % text)
    return names


def split_argv(argv):
    """Split argv into (positional names, {option: value}, program or None).

    program is (mode, target, args) when --script or -m was given: it ends
    run.py's own options.
    """
    names = []
    options = {}                # '--name' -> text; the last one given wins
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == '--list':
            raise UsageError('--list takes no other arguments')
        if arg in ('--script', '-m') or arg.startswith(('--script=', '-m')):
            mode = 'script' if arg.startswith('--script') else 'module'
            if arg in ('--script', '-m'):
                if i == len(argv):
                    raise UsageError('%s needs %s' % (
                        arg, 'the path of a Python program' if mode == 'script'
                        else 'a module name'))
                target = argv[i]
                i += 1
            else:
                target = arg[len('--script='):] if mode == 'script' else arg[2:]
            args = argv[i:]
            if args[:1] == ['--']:
                args = args[1:]
            return names, options, (mode, target, args)
        if not arg.startswith('--') or arg == '--':
            names.append(arg)
            continue
        option, sep, value = arg.partition('=')
        if not sep:
            if i == len(argv):
                raise UsageError('%s needs a value' % option)
            value = argv[i]
            i += 1
        options[option] = value
    return names, options, None


def parse_args(argv):
    """Parse argv (without the program name) into a Command."""
    if argv == ['--list']:
        return Command('list')
    names, options, program = split_argv(argv)
    if program is not None:
        mode, target, args = program
        if names:
            raise UsageError('%s runs a program, not workload %s: give one or '
                             'the other' % ('--script' if mode == 'script' else '-m',
                                            names[0]))
        command = Command(mode)
        command.target = target
        command.args = args
        if not target:
            raise UsageError('%s needs a non-empty %s' % (
                '--script' if mode == 'script' else '-m',
                'path' if mode == 'script' else 'module name'))
        accepted = OPTIONS + PROGRAM_OPTIONS
    else:
        if not names:
            raise UsageError('no workload given (expected one of: %s; or '
                             '--list, --script PATH, -m MODULE)'
                             % ', '.join(WORKLOADS))
        if len(names) > 1:
            raise UsageError('one workload at a time, got %s' % ', '.join(names))
        command = Command('twin')
        command.module = module = load_workload(names[0])
        command.params = dict(module.PARAMS)
        accepted = tuple('--' + p for p in module.PARAMS) + OPTIONS

    minimum = getattr(command.module, 'MINIMUM', {})
    for option, value in options.items():
        if option == '--threshold':
            command.threshold = parse_threshold(value)
        elif option == '--gc':
            command.gc_enabled = parse_switch(option, value)
        elif option == '--gc-timing':
            command.gc_timing = parse_switch(option, value)
        elif option in ('--result-fd', '--ready-fd'):
            setattr(command, option[2:].replace('-', '_'), parse_fd(option, value))
        elif option in PROGRAM_OPTIONS and command.mode == 'twin':
            raise UsageError('%s applies to a program (--script PATH or -m '
                             'MODULE), not to workload %s'
                             % (option, command.module.NAME))
        elif option == '--freeze-after-import':
            command.freeze = parse_modules(value)
        elif option == '--fork-workers':
            command.fork_workers = parse_count(option, value, MAX_WORKERS, 1)
        elif command.mode == 'twin' and option[2:] in command.params:
            command.params[option[2:]] = parse_count(
                option, value, MAX_PARAM, minimum.get(option[2:], 0))
        else:
            what = ('a program' if command.mode != 'twin'
                    else command.module.NAME)
            raise UsageError('unknown option %s for %s (expected: %s)'
                             % (option, what, ', '.join(accepted)))
    if command.result_fd is not None and command.result_fd == command.ready_fd:
        raise UsageError('--result-fd and --ready-fd must be two descriptors, '
                         'got %d for both' % command.result_fd)
    return command


def describe_workloads():
    """Return what --list prints: each workload's name, description, parameters."""
    listing = []
    for name in WORKLOADS:
        module = load_workload(name)
        listing.append({'name': module.NAME,
                        'description': module.DESCRIPTION,
                        'params': dict(module.PARAMS)})
    return listing


# -- measuring ---------------------------------------------------------------

def read_peak_rss(pid='self'):
    """Return a process's peak resident set since its exec (VmHWM), in
    bytes, or None.  Not getrusage's ru_maxrss: the parent's size, copied at
    fork, is counted into the child's when it execs."""
    try:
        with open('/proc/%s/status' % pid) as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def read_rss(page_size):
    """Return the resident set size in bytes, or None where /proc has none.

    Reads /proc/self/statm with os.read: no file objects, only the
    argument tuples of a few calls, taken from and returned to the free
    list.
    """
    try:
        fd = os.open('/proc/self/statm', os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.read(fd, 256)
    finally:
        os.close(fd)
    start = data.index(b' ') + 1            # field 2: resident pages
    end = data.index(b' ', start)
    return int(data[start:end]) * page_size


def read_memory(pid):
    """Return process pid's memory from /proc/PID/smaps_rollup, or None.

    rss_bytes, pss_bytes (each page divided by the processes sharing it),
    uss_bytes (pages no other process maps: Private_Clean + Private_Dirty),
    shared_bytes and pss_anon_bytes (None on kernels before 5.x).
    """
    try:
        with open('/proc/%s/smaps_rollup' % pid) as f:
            text = f.read()
    except OSError:
        return None
    kib = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].endswith(':') and parts[2] == 'kB':
            kib[parts[0][:-1]] = int(parts[1]) * 1024
    if 'Pss' not in kib or 'Rss' not in kib:
        return None
    return {'rss_bytes': kib['Rss'], 'pss_bytes': kib['Pss'],
            'uss_bytes': kib.get('Private_Clean', 0) + kib.get('Private_Dirty', 0),
            'shared_bytes': kib.get('Shared_Clean', 0) + kib.get('Shared_Dirty', 0),
            'pss_anon_bytes': kib.get('Pss_Anon')}


class Context:
    """What a workload's run(params, ctx) may use: ctx.mark()."""

    __slots__ = ('start', 'page_size', 'names', 'times', 'rss', 'live')

    def __init__(self):
        self.start = 0.0
        self.page_size = os.sysconf('SC_PAGE_SIZE')
        # Parallel lists, not one record per mark: appending a str, a float
        # or an int allocates nothing the collector counts.
        self.names = []
        self.times = []
        self.rss = []
        self.live = []

    def mark(self, name, live_bytes=None):
        """Record the time since the workload started, the RSS, and live_bytes."""
        self.times.append(perf_counter() - self.start)
        self.names.append(name)
        self.rss.append(read_rss(self.page_size))
        self.live.append(live_bytes)

    def marks(self):
        """Return the marks as the JSON's list of objects."""
        return [{'name': name, 't_s': t, 'rss_bytes': rss, 'live_bytes': live}
                for name, t, rss, live
                in zip(self.names, self.times, self.rss, self.live)]


class PauseLog:
    """A gc.callbacks callback that times every collection."""

    __slots__ = ('seconds', 'generation', 'starts', 'started')

    def __init__(self):
        self.seconds = []
        self.generation = []
        self.starts = []                # perf_counter() at each start
        self.started = 0.0

    def callback(self, phase, info):
        if phase == 'start':
            self.started = perf_counter()
        else:
            self.seconds.append(perf_counter() - self.started)
            self.generation.append(info['generation'])
            self.starts.append(self.started)

    def clear(self):
        """Forget the pauses so far (a forked worker starts its own)."""
        del self.seconds[:]
        del self.generation[:]
        del self.starts[:]


def read_stats(out):
    """Store gc.get_stats() in out, a list of 9 ints, generation by generation.

    get_stats() allocates a list and dicts, which may stay counted in the
    young generation (free lists), so this is called only outside the
    measured region.
    """
    stats = gc.get_stats()
    for g in range(3):
        out[3 * g] = stats[g]['collections']
        out[3 * g + 1] = stats[g]['collected']
        out[3 * g + 2] = stats[g]['uncollectable']


def stats_delta(before, after):
    """Return the report's collections/collected/uncollectable from two
    read_stats() lists."""
    delta = [a - b for a, b in zip(after, before)]
    return {'collections': delta[0::3], 'collected': delta[1::3],
            'uncollectable': delta[2::3]}


def pause_stats(seconds):
    """Return count, total and nearest-rank percentiles of pause lengths.

    Percentiles are nearest-rank: the value at index ceil(q * n) - 1 of the
    sorted pauses.
    """
    n = len(seconds)
    ordered = sorted(seconds)
    summary = {'count': n, 'total_s': sum(seconds, 0.0)}
    for q in PERCENTILES:
        rank = (q * n + 99) // 100          # ceil(q / 100 * n), exactly
        summary['p%d_s' % q] = ordered[rank - 1] if n else 0.0
    summary['max_s'] = ordered[-1] if n else 0.0
    return summary


def pauses_by_generation(seconds, generation):
    """Return pause_stats() of each generation's pauses, 0 to 2."""
    return [pause_stats([s for s, g in zip(seconds, generation) if g == k])
            for k in range(3)]


def summarize_pauses(seconds, generation, t_s):
    """Return the JSON's gc.pauses object for the pauses (in order), their
    generations and their start times (seconds since the workload started).

    Past MAX_PAUSE_SAMPLES pauses, 'seconds', 'generation' and 't_s' keep
    an evenly spaced subsample; the statistics stay exact.
    """
    n = len(seconds)
    summary = pause_stats(seconds)
    if n > MAX_PAUSE_SAMPLES:
        keep = [i * n // MAX_PAUSE_SAMPLES for i in range(MAX_PAUSE_SAMPLES)]
        summary['seconds'] = [seconds[i] for i in keep]
        summary['generation'] = [generation[i] for i in keep]
        summary['t_s'] = [t_s[i] for i in keep]
        summary['subsampled'] = True
    else:
        summary['seconds'] = list(seconds)
        summary['generation'] = list(generation)
        summary['t_s'] = list(t_s)
    return summary


class CountedRegion:
    """The harness's instruction counter around the workload: the C code of
    librtb_count.so (harness/region.c), loaded with ctypes when the
    environment asks for a count (RTBENCH_COUNT=perf|callgrind, and
    RTBENCH_COUNT_LIB naming the library).  Loading happens before the
    region starts, so only the workload is counted."""

    def __init__(self, path):
        import ctypes
        lib = ctypes.CDLL(path)
        self.begin = lib.rtb_region_begin_simple     # resolved now: calls allocate nothing kept
        self.end = lib.rtb_region_end
        self.end.restype = ctypes.c_longlong

    def start(self):
        """Switch counting on (raises when the counter cannot start)."""
        if self.begin() != 0:
            raise OSError('cannot count instructions (librtb_count said why above)')


def counted_region():
    """A CountedRegion to begin and end, or None when no count was asked for.
    Made before the clean-up collection, like everything the driver keeps."""
    if not os.environ.get('RTBENCH_COUNT'):
        return None
    return CountedRegion(os.environ['RTBENCH_COUNT_LIB'])


def apply_settings(threshold, gc_enabled):
    """gc.set_threshold (None keeps a threshold) and gc.disable as asked."""
    if threshold is not None:
        current = gc.get_threshold()
        gc.set_threshold(*[current[g] if t is None else t
                           for g, t in enumerate(threshold)])
    if not gc_enabled:
        gc.disable()


def clean_start(before, page_size):
    """Collect everything before a run, uncounted; return the RSS before it.

    Start from a clean heap with every count at 0; this collection is not
    counted.  A full collection empties the list, dict and tuple free
    lists, after which even a short-lived container stays counted, so
    nothing is allocated between it and the run: the statistics are read
    before it into before (a list of 9), and its own share is added to them
    (its collected and uncollectable objects, told apart by what reached
    gc.garbage).  The RSS is read before the clean-up collection: reading it
    after would allocate into emptied free lists (and could collect).
    """
    rss_at_start = read_rss(page_size)
    read_stats(before)
    garbage = len(gc.garbage)
    found = gc.collect()
    uncollectable = len(gc.garbage) - garbage
    before[6] += 1
    before[7] += found - uncollectable
    before[8] += uncollectable
    return rss_at_start


def sample_report(wall_s, cpu_s, result, marks, gc_report, t0_monotonic,
                  final_rss, rss_at_start):
    """The fields every report has, twin's or program's."""
    return {
        'wall_s': wall_s,
        'cpu_s': cpu_s,
        'result': result,
        'marks': marks,
        'gc': gc_report,
        't0_monotonic': t0_monotonic,
        'alloc': None,
        'profile': None,
        'final_rss_bytes': final_rss,
        'rss_at_start_bytes': rss_at_start,
        'peak_rss_bytes': read_peak_rss(),
        't_exec_monotonic': _EXEC_MONOTONIC,
        'python': {
            'version': sys.version,
            'executable': sys.executable,
            'implementation': sys.implementation.name,
        },
    }


def measure(module, params, threshold, gc_enabled, gc_timing=True):
    """Run the workload once under the given collector settings; return the report."""
    ctx = Context()
    pauses = PauseLog()
    callback = pauses.callback
    region = counted_region()   # instructions, when the harness counts them
    before = [0] * 9
    after = [0] * 9

    apply_settings(threshold, gc_enabled)
    rss_at_start = clean_start(before, ctx.page_size)
    if gc_timing:
        gc.callbacks.append(callback)

    # The harness aligns its RSS timeline to the workload's start, on the
    # system's monotonic clock (CLOCK_MONOTONIC, as the C worker's).
    t0_monotonic = monotonic()
    if region:
        region.start()
    cpu0 = process_time()
    ctx.start = start = perf_counter()
    result = module.run(params, ctx)
    gc.collect()                # the counted full collection ending every run
    wall_s = perf_counter() - start
    cpu_s = process_time() - cpu0
    instructions = region.end() if region else -1

    if gc_timing:
        gc.callbacks.remove(callback)
    read_stats(after)
    final_rss = read_rss(ctx.page_size)

    gc_report = stats_delta(before, after)
    gc_report['pauses'] = summarize_pauses(
        pauses.seconds, pauses.generation,
        [t - start for t in pauses.starts]) if gc_timing else None
    report = sample_report(wall_s, cpu_s, result, ctx.marks(), gc_report,
                           t0_monotonic, final_rss, rss_at_start)
    if instructions >= 0:
        report['instructions'] = instructions
    return report


# -- a program: --script PATH or -m MODULE -----------------------------------

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


def prepare_program(command):
    """Return the Program of a --script or -m command, or raise UsageError.

    Reads and compiles a script (a SyntaxError propagates), checks that a
    module can be found, and works out sys.argv and sys.path[0].
    """
    target = command.target
    # The interpreter's path: sys.path[0] was run.py's folder unless the
    # interpreter ran isolated (-I, -P), in which case there is no slot.
    path = list(_PATH_AT_START)
    own_slot = bool(path) and os.path.realpath(path[0] or '.') == os.path.realpath(_HERE)
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
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next
        error.__traceback__ = tb        # Python prints the exception's own
        try:
            sys.excepthook(type(error), error, tb)
        except Exception:
            pass
        import traceback
        line = traceback.format_exception_only(type(error), error)[-1]
        return EXIT_FAILED, 'exit status 1: %s' % first_line(line)


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


def gc_settings():
    """The collector's settings now: threshold, enabled, frozen."""
    return {'threshold': list(gc.get_threshold()), 'enabled': gc.isenabled(),
            'frozen': gc.get_freeze_count()}


def settings_warnings(first, end, who='the program', when='its first line'):
    """Return the warnings for settings the program changed itself."""
    warnings = []
    if end['threshold'] != first['threshold']:
        warnings.append({'kind': 'threshold-changed', 'message': (
            '%s set the GC thresholds to %s (%s at %s): the sample measures '
            'its own thresholds, not those asked for'
            % (who, tuple(end['threshold']), tuple(first['threshold']), when))})
    if end['enabled'] != first['enabled']:
        warnings.append({'kind': 'gc-switched', 'message': (
            '%s %s the collector itself (gc.%s()): the sample measures its own '
            'choice, not --gc' % (who, 'enabled' if end['enabled'] else 'disabled',
                                  'enable' if end['enabled'] else 'disable'))})
    return warnings


def write_all(fd, data):
    """Write all of data (bytes) on descriptor fd."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def read_all(fd):
    """Read descriptor fd to its end; close it; return the bytes."""
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b''.join(chunks)


def timed_pauses(pauses):
    """The pause log's summary without per-pause lists (a worker's), or
    None when the timing callback is not installed."""
    if pauses.callback not in gc.callbacks:
        return None
    summary = pause_stats(pauses.seconds)
    summary['by_generation'] = pauses_by_generation(pauses.seconds,
                                                    pauses.generation)
    return summary


def worker_main(index, worker, report_w, go_r, pauses):
    """A forked worker: call worker(), report to the main process, wait to
    be released, exit.  Never returns."""
    status = EXIT_FAILED
    pid = os.getpid()
    try:
        os.environ['RTBENCH_WORKER_INDEX'] = str(index)
        before = [0] * 9
        after = [0] * 9
        read_stats(before)
        pauses.clear()
        start = perf_counter()
        status, error = call_program(worker)
        leave_if_forked(pid, status)
        wall_s = perf_counter() - start
        read_stats(after)
        gc_report = stats_delta(before, after)
        gc_report['pauses'] = timed_pauses(pauses)
        settings = gc_settings()
        gc_report['threshold'] = settings['threshold']
        gc_report['enabled'] = settings['enabled']
        flush_stdio()
        message = {'exit_status': status, 'error': error, 'wall_s': wall_s,
                   'gc': gc_report}
        write_all(report_w, json.dumps(message).encode())
        os.close(report_w)
        while os.read(go_r, 1):         # the synchronisation point: wait
            pass                        # until the main process lets go
    except BaseException:
        status = status or EXIT_FAILED
    finally:
        flush_stdio()
        os._exit(status)


def wait_for(pid):
    """waitpid(pid) whatever signals arrive; return the wait status."""
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:        # pragma: no cover (PEP 475 retries)
            continue


def fork_workers(program, count, pauses, start):
    """Fork count workers that each call the program's worker(); measure
    them at the synchronisation point; return the report's fork_workers."""
    worker = program.main.__dict__['worker']
    fork_at_s = perf_counter() - start
    settings = gc_settings()
    go_r, go_w = os.pipe()
    pipes = []
    flush_stdio()               # else each worker writes the buffers again
    blocked = (signal.SIGINT, signal.SIGTERM)
    for index in range(count):
        report_r, report_w = os.pipe()
        # Signals wait while a worker is forked and not yet listed: an
        # interruption kills every worker.
        signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
        pid = os.fork()
        if pid == 0:
            del _WORKER_PIDS[:]
            signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)
            os.close(go_w)
            os.close(report_r)
            for _, earlier in pipes:
                os.close(earlier)
            worker_main(index, worker, report_w, go_r, pauses)
        _WORKER_PIDS.append(pid)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)
        os.close(report_w)
        pipes.append((pid, report_r))
    os.close(go_r)

    messages = [read_all(report_r) for _, report_r in pipes]
    # Every worker is done and waiting (or dead): measure them all now.
    memory = [read_memory(pid) for pid, _ in pipes]
    peaks = [read_peak_rss(pid) for pid, _ in pipes]
    main_memory = read_memory('self')
    os.close(go_w)              # release them

    workers = []
    for index, ((pid, _), text, mem, peak) in enumerate(
            zip(pipes, messages, memory, peaks)):
        wstatus = wait_for(pid)
        _WORKER_PIDS.remove(pid)
        record = {'index': index, 'pid': pid, 'exit_status': None,
                  'signal': None, 'error': None, 'wall_s': None,
                  'peak_rss_bytes': peak, 'memory': mem, 'gc': None}
        if text:
            record.update(json.loads(text.decode()))
        if os.WIFSIGNALED(wstatus):
            record['signal'] = os.WTERMSIG(wstatus)
            record['exit_status'] = None
            record['error'] = 'killed by signal %d' % record['signal']
        else:
            record['exit_status'] = os.WEXITSTATUS(wstatus)
            if record['exit_status'] and record['error'] is None:
                record['error'] = 'exit status %d' % record['exit_status']
        workers.append(record)

    def mean(key):
        values = [w['memory'][key] for w in workers if w['memory'] is not None]
        return sum(values) // len(values) if values else None

    pss = [m['pss_bytes'] for m in memory + [main_memory] if m is not None]
    return {'count': count, 'fork_at_s': fork_at_s,
            'frozen_at_fork': settings['frozen'],
            'gc_settings_at_fork': settings,
            'main': main_memory, 'workers': workers,
            'rss_bytes_mean': mean('rss_bytes'),
            'pss_bytes_mean': mean('pss_bytes'),
            'uss_bytes_mean': mean('uss_bytes'),
            'pss_bytes_total': sum(pss) if len(pss) == count + 1 else None}


def fork_warnings(fork):
    """Warnings about the workers: settings they changed, memory unread."""
    warnings = []
    for worker in fork['workers']:
        who = 'worker %d' % worker['index']
        if worker['gc'] is not None:
            warnings += settings_warnings(fork['gc_settings_at_fork'],
                                          worker['gc'], who, 'the fork')
        if worker['memory'] is None and worker['signal'] is None:
            warnings.append({'kind': 'no-smaps', 'message': (
                'no /proc/%d/smaps_rollup (Linux 4.14 or later): %s has no '
                'PSS or USS' % (worker['pid'], who))})
    return warnings


def worker_error(fork):
    """The one line that says which workers failed, or None."""
    failed = [w for w in fork['workers'] if w['error'] is not None]
    if not failed:
        return None
    error = 'worker %d (pid %d): %s' % (failed[0]['index'], failed[0]['pid'],
                                        failed[0]['error'])
    if len(failed) > 1:
        error += ' (and %d more workers)' % (len(failed) - 1)
    return error


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


def measure_program(command, program):
    """Run the program once under the given collector settings; return the
    report."""
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
                           final_rss, rss_at_start)
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


def raise_again():
    """Re-raise the exception being handled (for call_program)."""
    raise                       # noqa: PLE0704


# -- the program -------------------------------------------------------------

def _interrupted(signum, frame):
    # Nothing has been written on the result channel yet (the report is
    # written in one piece at the end, with these signals blocked), so leave
    # at once: no partial JSON, no traceback, no cleanup that could run the
    # workload on.  Forked workers go first.
    for pid in _WORKER_PIDS:
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
        write_all(fd, text.encode())
        os.close(fd)
    # The signals stay blocked: the run is complete, so one arriving now
    # is discarded when the process exits.


def announce_ready(fd):
    """Say on descriptor fd that the run is about to start, and close it."""
    if fd is not None:
        try:
            write_all(fd, b'ready\n')
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
        command = parse_args(argv)
        program = None
        if command.mode in ('script', 'module'):
            program = prepare_program(command)
    except UsageError as error:
        sys.stderr.write('run.py: %s\n' % error)
        return EXIT_USAGE
    except SyntaxError:
        call_program(raise_again)       # Python's message, as it prints it
        return EXIT_FAILED

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
        report = measure(command.module, command.params, command.threshold,
                         command.gc_enabled, command.gc_timing)
        status = 0
    else:
        try:
            report = measure_program(command, program)
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
