"""shared_refs: the Python twin of workloads/shared_refs.c.

Thread 0 builds a dict of ``keys`` entries (``'k%d' % i`` -> ``1000 + i``);
then each thread does its share of ``n`` steps: look a random key up (its
own SplitMix64 stream, seeded with its index + 1), take a reference to the
value by holding it in a window of ``hold`` references, dropping the
oldest.  Under CPython with a GIL the threads take turns.  ``perthread``
(per-thread counts for the values, in rtbench's biased variant) has no
counterpart in CPython 3.11: accepted and ignored.
"""

from common import parallel, share
from prng import SplitMix64

NAME = 'shared_refs'
DESCRIPTION = 'threads look up a shared dict and take and drop references to its values'
PARAMS = {'keys': 1000, 'n': 10000000, 'hold': 8, 'perthread': 1, 'threads': 1}
MINIMUM = {'keys': 1, 'hold': 1, 'perthread': 0, 'threads': 1}
MAX_HOLD = 64


def run(params, ctx):
    nkeys = params['keys']
    hold = params['hold']
    if hold > MAX_HOLD or params['perthread'] > 1:
        raise ValueError('shared_refs: keys must be at least 1, hold 1 to %d, perthread 0 or 1' % MAX_HOLD)
    keys = ['k%d' % i for i in range(nkeys)]
    d = {k: 1000 + i for i, k in enumerate(keys)}

    def part(index, threads):
        held = [None] * hold
        rng = SplitMix64(index + 1)
        check = 0
        for s in range(share(params['n'], index, threads)):
            value = d[keys[rng.below(nkeys)]]
            check += value
            held[s % hold] = value      # takes a reference, drops the oldest
        return check

    return {'check': parallel(params['threads'], part)}
