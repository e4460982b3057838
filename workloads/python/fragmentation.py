"""fragmentation: the Python twin of workloads/fragmentation.c.

Fill a list with ``n`` strings of 1..400 bytes (random sizes, so they spread
over the allocator's size classes), free all but about ``keep`` percent of
them at random, collect, drop the list, then trim (rtbench's pool keeps
free arenas a while; CPython's has nothing to trim).  Marks record the RSS after
each stage, with the bytes the workload still holds in strings, to show how
much memory the allocator gives back when most, but not all, of it is free.
"""

import gc

from prng import SplitMix64

NAME = 'fragmentation'
DESCRIPTION = 'n random-size strings, all but keep% freed at random: memory given back'
PARAMS = {'n': 1000000, 'keep': 10, 'seed': 1}

MAX_SIZE = 400


def run(params, ctx):
    n = params['n']
    keep = params['keep']
    rng = SplitMix64(params['seed'])

    objs = [None] * n
    allocated = 0
    for i in range(n):
        size = 1 + rng.below(MAX_SIZE)
        objs[i] = 'x' * size
        allocated += size
    ctx.mark('allocated', live_bytes=allocated)

    held = 0
    kept = 0
    for i in range(n):
        if rng.below(100) >= keep:
            objs[i] = None
        else:
            held += 1
            kept += len(objs[i])
    ctx.mark('freed', live_bytes=kept)

    gc.collect()
    ctx.mark('collected', live_bytes=kept)

    del objs
    ctx.mark('dropped', live_bytes=0)
    # rtbench trims its pool here; CPython's obmalloc returned its free
    # arenas as they emptied, so the mark follows with nothing to do.
    ctx.mark('trimmed', live_bytes=0)
    return {'check': held, 'allocated_bytes': allocated, 'kept_bytes': kept}
