#!/usr/bin/env python3
"""Run one Python twin of an rtbench workload and print what it measured.

The CPython side of rtbench's worker (harness/): it runs a workload module
from this folder under CPython's own collector and prints one JSON object,
the same as the C worker writes on its result pipe (workloads/README.md,
"What a run reports"; results/README.md, SAMPLE):

    run.py WORKLOAD [--PARAM VALUE ...] [--threshold T0[,T1[,T2]]] [--gc on|off]
    run.py --list

A workload module defines NAME, DESCRIPTION (one line), PARAMS (parameter
name -> default, in order), optionally MINIMUM (parameter name -> least
value accepted, where that is more than 0), and run(params, ctx), which
returns the JSON's "result" object.  Every run ends with one full
gc.collect(), counted and timed with the workload.

A bad argument prints one line on stderr and exits with status 2; SIGINT
or SIGTERM ends the run with status 130 and nothing on stdout.

Measuring must not disturb what is measured: from the collection that
starts the run to the end of the workload, the driver keeps no GC-tracked
object of its own (ctx.mark() stores only strs, floats and ints; the timing
callback only floats and ints), so the workload starts with every
generation's count at 0 and the collector counts the workload's objects.
"""

from time import monotonic
_EXEC_MONOTONIC = monotonic()   # as early as can be: the exec that made us

import gc
import importlib
import json
import os
import signal
import sys
from time import perf_counter, process_time

WORKLOADS = (
    'list_append', 'dict_churn', 'cycle_storm', 'binary_trees',
    'long_lived', 'fragmentation', 'gc_collect', 'gc_traversal',
)

MAX_PARAM = 2**63 - 1           # parameters are int64 on the C side
MAX_THRESHOLD = 2**31 - 1       # gc.set_threshold takes C ints
MAX_PAUSE_SAMPLES = 20000       # pauses kept in 'seconds' / 'generation'
PERCENTILES = (50, 90, 99)

USAGE = ('usage: run.py WORKLOAD [--PARAM VALUE ...] '
         '[--threshold T0[,T1[,T2]]] [--gc on|off]\n'
         '       run.py --list')
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# Workload modules sit beside this file, whatever the current directory or
# the interpreter's path options (-I, -P) are.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


class UsageError(Exception):
    """A bad command line; the message says what was wrong and what is accepted."""


# -- the command line --------------------------------------------------------

def load_workload(name):
    """Import and return the module of workload name."""
    if name not in WORKLOADS:
        raise UsageError('unknown workload %r (expected one of: %s)'
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


def parse_args(argv):
    """Parse argv (without the program name).

    Return None for --list, else (module, params, threshold, gc_enabled)
    where threshold is None or [T0, T1, T2] (None keeps one).
    """
    if argv == ['--list']:
        return None
    names = []
    options = {}                # '--name' -> text; the last one given wins
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == '--list':
            raise UsageError('--list takes no other arguments')
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

    if not names:
        raise UsageError('no workload given (expected one of: %s; or --list)'
                         % ', '.join(WORKLOADS))
    if len(names) > 1:
        raise UsageError('one workload at a time, got %s' % ', '.join(names))
    module = load_workload(names[0])

    threshold = None
    gc_enabled = True
    params = dict(module.PARAMS)
    minimum = getattr(module, 'MINIMUM', {})
    for option, value in options.items():
        name = option[2:]
        if option == '--threshold':
            threshold = parse_threshold(value)
        elif option == '--gc':
            if value not in ('on', 'off'):
                raise UsageError('--gc expects on or off, got %r' % value)
            gc_enabled = value == 'on'
        elif name in params:
            params[name] = parse_count(option, value, MAX_PARAM,
                                       minimum.get(name, 0))
        else:
            accepted = ['--' + p for p in module.PARAMS]
            accepted += ['--threshold', '--gc']
            raise UsageError('unknown option %s for %s (expected: %s)'
                             % (option, module.NAME, ', '.join(accepted)))
    return module, params, threshold, gc_enabled


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

def read_peak_rss():
    """Return this process's peak resident set since its exec (VmHWM), in
    bytes, or None.  Not getrusage's ru_maxrss: the parent's size, copied at
    fork, is counted into the child's when it execs."""
    try:
        with open('/proc/self/status') as f:
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


def summarize_pauses(seconds, generation, t_s):
    """Return the JSON's gc.pauses object for the pauses (in order), their
    generations and their start times (seconds since the workload started).

    Percentiles are nearest-rank: the value at index ceil(q * n) - 1 of the
    sorted pauses.  Past MAX_PAUSE_SAMPLES pauses, 'seconds', 'generation'
    and 't_s' keep an evenly spaced subsample; the statistics stay exact.
    """
    n = len(seconds)
    ordered = sorted(seconds)
    summary = {'count': n, 'total_s': sum(seconds, 0.0)}
    for q in PERCENTILES:
        rank = (q * n + 99) // 100          # ceil(q / 100 * n), exactly
        summary['p%d_s' % q] = ordered[rank - 1] if n else 0.0
    summary['max_s'] = ordered[-1] if n else 0.0
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


def measure(module, params, threshold, gc_enabled):
    """Run the workload once under the given collector settings; return the report."""
    ctx = Context()
    pauses = PauseLog()
    callback = pauses.callback
    before = [0] * 9
    after = [0] * 9

    if threshold is not None:
        current = gc.get_threshold()
        gc.set_threshold(*[current[g] if t is None else t
                           for g, t in enumerate(threshold)])
    if not gc_enabled:
        gc.disable()

    # Start from a clean heap with every count at 0; this collection is
    # not counted.  A full collection empties the list, dict and tuple free
    # lists, after which even a short-lived container stays counted, so
    # nothing is allocated between it and the workload: the statistics are
    # read before it, and its own share is added to them (its collected and
    # uncollectable objects, told apart by what reached gc.garbage).
    # The RSS at the start, read before the clean-up collection: reading it
    # after would allocate into emptied free lists (and could collect).
    rss_at_start = read_rss(ctx.page_size)
    read_stats(before)
    garbage = len(gc.garbage)
    found = gc.collect()
    uncollectable = len(gc.garbage) - garbage
    before[6] += 1
    before[7] += found - uncollectable
    before[8] += uncollectable
    gc.callbacks.append(callback)

    # The harness aligns its RSS timeline to the workload's start, on the
    # system's monotonic clock (CLOCK_MONOTONIC, as the C worker's).
    t0_monotonic = monotonic()
    cpu0 = process_time()
    ctx.start = start = perf_counter()
    result = module.run(params, ctx)
    gc.collect()                # the counted full collection ending every run
    wall_s = perf_counter() - start
    cpu_s = process_time() - cpu0

    gc.callbacks.remove(callback)
    read_stats(after)
    final_rss = read_rss(ctx.page_size)

    delta = [a - b for a, b in zip(after, before)]
    return {
        'wall_s': wall_s,
        'cpu_s': cpu_s,
        'result': result,
        'marks': ctx.marks(),
        'gc': {
            'collections': delta[0::3],
            'collected': delta[1::3],
            'uncollectable': delta[2::3],
            'pauses': summarize_pauses(pauses.seconds, pauses.generation,
                                       [t - start for t in pauses.starts]),
        },
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


# -- the program -------------------------------------------------------------

def _interrupted(signum, frame):
    # Nothing has been written to stdout yet (the report is written in one
    # piece at the end, with these signals blocked), so leave at once: no
    # partial JSON, no traceback, no cleanup that could run the workload on.
    os.write(2, b'run.py: interrupted\n')
    os._exit(EXIT_INTERRUPTED)


def write_report(text):
    """Write text to stdout whole: SIGINT and SIGTERM wait until it is out."""
    signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGINT, signal.SIGTERM))
    sys.stdout.write(text)
    sys.stdout.flush()
    # The signals stay blocked: the run is complete, so one arriving now
    # is discarded when the process exits with status 0.


def main(argv=None):
    signal.signal(signal.SIGINT, _interrupted)
    signal.signal(signal.SIGTERM, _interrupted)
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] in ('-h', '--help'):
        print(USAGE)
        return 0
    try:
        parsed = parse_args(argv)
    except UsageError as error:
        sys.stderr.write('run.py: %s\n' % error)
        return EXIT_USAGE
    if parsed is None:
        report = describe_workloads()
    else:
        report = measure(*parsed)
    write_report(json.dumps(report) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
