#!/usr/bin/env python3
"""The CPython twin of rtbench-micro's gc_collect_live/<n> (bench_gc.c).

Builds the same heap -- n objects, alternately a two-element list and an
instance of a two-slot class, each referring to two earlier objects chosen
by SplitMix64 (seed 1), all held by one root list -- and times full
collections of it with gc.collect(), which find nothing to free.

    gc_live_heap.py [N] [REPEAT]     (default 1000000, 9)

Prints JSON: n, the collection times, their median, and ns per object.
Run it beside the microbenchmark in one session (scripts/gc-vs-cpython).
"""

import gc
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..',
                                'workloads', 'python'))
from prng import SplitMix64  # noqa: E402


class Node2:
    __slots__ = ('a', 'b')

    def __init__(self, a, b):
        self.a = a
        self.b = b


def build(n):
    """The heap of bench_gc.c's rt_micro_live_heap, object for object."""
    rng = SplitMix64(1)
    root = []
    for i in range(n):
        if i > 0:
            a = root[rng.below(i)]
            b = root[rng.below(i)]
        else:
            a = b = None
        root.append([a, b] if i % 2 == 0 else Node2(a, b))
    return root


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    gc.disable()
    root = build(n)
    gc.collect()                # settle: everything in the oldest generation
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        found = gc.collect()
        times.append(time.perf_counter() - t0)
        assert found == 0, found
    median = statistics.median(times)
    print(json.dumps({'n': n, 'python': sys.version.split()[0], 'times_s': times,
                      'median_s': median, 'ns_per_object': median / n * 1e9,
                      'tracked_objects': len(gc.get_objects())}))
    del root


if __name__ == '__main__':
    main()
