#!/usr/bin/env python3
"""What timing every collection costs a program: run.py with --gc-timing on
against off, interleaved.

Each round runs the program twice under run.py, once with pause timing and
once without, in an order drawn at random (seeded), so that drift in the
machine's load falls on both alike; the ratio of each round's pair is one
measurement.  Prints the median ratio with its quartiles and extremes, for
the program's own time (wall_s, from the report) and for its CPU time
(user + system of the run.py process, from wait4), and the load average
before and after.

On a shared machine the pairs scatter by more than the cost itself, so it
also measures that cost directly: the time of an empty young collection
(gc.collect(0)) with run.py's timing callback installed and without, the
best of several repeats, and how much the program's collections (from its
report) add at that price.

    python3 examples/overhead.py [--rounds N] [--python PATH] [--seed S]
                                 [PROGRAM [ARGS...]]

PROGRAM defaults to examples/request_handler.py.
"""

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(os.path.dirname(HERE), 'workloads', 'python', 'run.py')


def sample(python, timing, program):
    """Run program once under run.py; return (wall_s, cpu_s, collections)."""
    with tempfile.TemporaryFile() as result:
        fd = result.fileno()
        command = [python, RUN, '--result-fd', str(fd), '--gc-timing', timing,
                   '--script'] + program
        with open(os.devnull, 'w') as null:
            process = subprocess.Popen(command, pass_fds=(fd,), stdout=null)
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = status = os.waitstatus_to_exitcode(status)
        if status != 0:
            sys.stderr.write('overhead.py: %s exited with status %d: fix the program, '
                             'or give one that runs\n' % (' '.join(program), status))
            sys.exit(2)
        result.seek(0)
        report = json.loads(result.read().decode())
    return (report['wall_s'], usage.ru_utime + usage.ru_stime,
            sum(report['gc']['collections']))


def callback_cost(repeats=7, calls=20000):
    """Seconds that run.py's timing callback adds to one collection."""
    import gc
    from time import perf_counter
    sys.path.insert(0, os.path.dirname(RUN))
    from _rtbench_run.measure import PauseLog     # run.py's timing callback
    pauses = PauseLog()

    def best():
        times = []
        for _ in range(repeats):
            start = perf_counter()
            for _ in range(calls):
                gc.collect(0)
            times.append((perf_counter() - start) / calls)
            del pauses.seconds[:], pauses.generation[:], pauses.starts[:]
        return min(times)

    without = best()
    gc.callbacks.append(pauses.callback)
    try:
        with_timing = best()
    finally:
        gc.callbacks.remove(pauses.callback)
    return without, with_timing


def quantile(values, q):
    """The nearest-rank quantile q (0..1) of values."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def describe(name, ratios):
    return ('%-6s on/off median %.4f (%+.2f%%), quartiles %.4f..%.4f, '
            'min %.4f, max %.4f, %d pairs'
            % (name, quantile(ratios, 0.5), (quantile(ratios, 0.5) - 1) * 100,
               quantile(ratios, 0.25), quantile(ratios, 0.75),
               min(ratios), max(ratios), len(ratios)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=15)
    parser.add_argument('--python', default=sys.executable)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('program', nargs=argparse.REMAINDER,
                        help='the program and its arguments')
    args = parser.parse_args()
    program = args.program or [os.path.join(HERE, 'request_handler.py')]
    rng = random.Random(args.seed)
    load_before = os.getloadavg()
    wall = {'on': [], 'off': []}
    cpu = {'on': [], 'off': []}
    collections = []
    sample(args.python, 'on', program)          # a warm-up, not counted
    for _ in range(args.rounds):
        order = ['on', 'off']
        rng.shuffle(order)
        for timing in order:
            w, c, n = sample(args.python, timing, program)
            wall[timing].append(w)
            cpu[timing].append(c)
            collections.append(n)
    load_after = os.getloadavg()
    print('program: %s (%s)' % (' '.join(program), args.python))
    for name, values in (('wall', wall), ('cpu', cpu)):
        print('%-6s median on %.4f s, off %.4f s'
              % (name, quantile(values['on'], 0.5), quantile(values['off'], 0.5)))
        print(describe(name, [a / b for a, b in zip(values['on'], values['off'])]))
    without, with_timing = callback_cost()
    per_second = quantile(collections, 0.5) / quantile(wall['off'], 0.5)
    print('one collection: %.2f us without timing, %.2f us with (+%.2f us); '
          'the program runs %.0f collections a second: +%.3f%% of its time'
          % (without * 1e6, with_timing * 1e6, (with_timing - without) * 1e6,
             per_second, (with_timing - without) * per_second * 100))
    print('load average: %.2f before, %.2f after (%d cores)'
          % (load_before[0], load_after[0], os.cpu_count()))


if __name__ == '__main__':
    main()
